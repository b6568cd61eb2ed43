import MeshJSON

/// `jwt_providers` and the `jwt` rule of listeners and routes.
extension ConfigDecoder {
    static let providerKeys = [
        "issuer", "audiences", "jwks", "secret_env", "algorithms", "leeway_s", "from", "max_token_bytes",
        "forward_token",
    ]
    static let ruleKeys = ["provider", "required", "claims_to_headers", "require_claims"]

    /// Valid providers, plus the names of all providers in file order (for reference checks).
    func decodeProviders(_ root: ObjectNode) -> (configs: [JWTProviderConfig], names: [String]) {
        guard let member = root["jwt_providers"] else { return ([], []) }
        guard let members = member.value.objectValue else {
            typeError("jwt_providers", member.value, expected: "an object of providers by name")
            return ([], [])
        }
        for entry in members { checkName(entry, "jwt_providers") }
        let configs = members.compactMap { decodeProvider($0.key, $0.value, Self.join("jwt_providers", $0.key)) }
        return (configs, members.map(\.key))
    }

    func decodeProvider(_ name: String, _ node: JSONNode, _ path: String) -> JWTProviderConfig? {
        guard let provider = object(node, path, allowed: Self.providerKeys) else { return nil }
        let issuer = required(provider, "issuer").flatMap { string($0.value, provider.path("issuer")) } ?? ""
        let audiences = strings(provider, "audiences")?.map(\.value) ?? []
        let jwks = provider["jwks"].map { decodeJWKS($0.value, provider.path("jwks")) } ?? []
        var secretEnv: String? = nil
        if let node = provider["secret_env"], let variable = string(node.value, provider.path("secret_env")) {
            secretEnv = variable
            if (environment[variable] ?? "").isEmpty {
                error(
                    provider.path("secret_env"), node.value.position,
                    "environment variable \(variable) is not set or empty; export it or remove secret_env")
            }
        }
        // A present-but-broken `jwks` was already reported by decodeJWKS.
        if jwks.isEmpty && provider["secret_env"] == nil && provider["jwks"] == nil {
            error(
                path, node.position,
                "a provider needs a key source: add \"jwks\" (file, url or inline) or \"secret_env\"")
        }
        let algorithms = decodeAlgorithms(provider, jwks: jwks, hasSecret: secretEnv != nil)
        return JWTProviderConfig(
            name: name, issuer: issuer, audiences: audiences, jwks: jwks, secretEnv: secretEnv,
            algorithms: algorithms,
            leewaySeconds: int(provider, "leeway_s", 0...3600, what: "a non-negative integer number of seconds")
                ?? Defaults.leewaySeconds,
            from: decodeTokenSources(provider),
            maxTokenBytes: int(provider, "max_token_bytes", 64...Int.max, what: "a number of bytes")
                ?? Defaults.maxTokenBytes,
            forwardToken: bool(provider, "forward_token") ?? Defaults.forwardToken)
    }

    func decodeJWKS(_ node: JSONNode, _ path: String) -> [JWKSSource] {
        guard let jwks = object(node, path, allowed: ["file", "url", "refresh_ms", "inline", "ca_file"]) else {
            return []
        }
        var sources: [JWKSSource] = []
        if let file = string(jwks, "file") { sources.append(.file(path: file)) }
        let refresh = duration(jwks, "refresh_ms", min: 1000)
        let caFile = string(jwks, "ca_file")
        if let url = jwks["url"], let text = httpURL(url.value, jwks.path("url"), allowHTTPS: true) {
            if caFile != nil, !text.hasPrefix("https://"), let member = jwks["ca_file"] {
                error(jwks.path("ca_file"), member.keyPosition, "ca_file applies only to an https:// url")
            }
            sources.append(.url(text, refreshMs: refresh ?? Defaults.jwksRefreshMs, caFile: caFile))
        } else if let member = jwks["refresh_ms"], jwks["url"] == nil {
            error(
                jwks.path("refresh_ms"), member.keyPosition,
                "refresh_ms applies only to \"url\"; remove it or add a url")
        }
        if let inline = jwks["inline"] {
            let inlinePath = jwks.path("inline")
            if let keys = inline.value["keys"], keys.arrayValue != nil {
                var writer = JSONWriter()
                writer.value(inline.value.value)
                sources.append(.inline(writer.text))
            } else {
                let usage = "expected a JWK Set object: {\"keys\": [ … ]} (RFC 7517 §5)"
                error(inlinePath, inline.value.position, usage)
            }
        }
        if jwks.members.isEmpty {
            error(path, node.position, "jwks needs at least one of \"file\", \"url\" or \"inline\"")
        }
        return sources
    }

    func decodeAlgorithms(_ provider: ObjectNode, jwks: [JWKSSource], hasSecret: Bool) -> [String] {
        guard let items = strings(provider, "algorithms", nonEmpty: true) else { return Defaults.algorithms }
        var result: [String] = []
        for item in items {
            if item.value.lowercased() == "none" {
                error(
                    item.path, item.node.position,
                    "\"none\" is never accepted: unsigned tokens would bypass authentication")
                continue
            }
            guard KnownAlgorithms.all.contains(item.value) else {
                let hint = Suggestion.hint(for: item.value, in: KnownAlgorithms.all)
                error(item.path, item.node.position, "unknown algorithm \(quoted(item.value))\(hint)")
                continue
            }
            // SPEC §3: HMAC secrets come from secret_env or jwks.file/inline, never from jwks.url.
            let hasLocalKeys = jwks.contains { if case .url = $0 { false } else { true } }
            if KnownAlgorithms.isHMAC(item.value), !hasSecret, !hasLocalKeys {
                error(
                    item.path, item.node.position,
                    "\(item.value) needs a secret from \"secret_env\" or jwks \"file\"/\"inline\" (never from jwks.url)"
                )
            }
            result.append(item.value)
        }
        return result
    }

    /// `from`: `"bearer"`, `{"header": "x-token"}` or `{"cookie": "access_token"}`, tried in order.
    func decodeTokenSources(_ provider: ObjectNode) -> [TokenSource] {
        guard let items = array(provider, "from", nonEmpty: true) else { return Defaults.tokenSources }
        var sources: [TokenSource] = []
        for item in items {
            if item.node.stringValue == "bearer" {
                sources.append(.bearer)
                continue
            }
            guard item.node.objectValue != nil else {
                typeError(item.path, item.node, expected: "\"bearer\", {\"header\": name} or {\"cookie\": name}")
                continue
            }
            guard let source = object(item.node, item.path, allowed: ["header", "cookie"]) else { continue }
            guard source.members.count == 1 else {
                error(item.path, item.node.position, "give exactly one of \"header\" or \"cookie\"")
                continue
            }
            if let header = string(source, "header") {
                guard Syntax.isToken(header) else {
                    error(
                        source.path("header"), source["header"]?.value.position,
                        "\(quoted(header)) is not a valid header name")
                    continue
                }
                sources.append(.header(header.lowercased()))
            } else if let cookie = string(source, "cookie") {
                sources.append(.cookie(cookie))
            }
        }
        return sources
    }

    /// A listener's or route's `jwt` rule; `providers` are all provider names in the file.
    func decodeJWTRule(_ node: JSONNode, _ path: String, providers: [String]) -> JWTRuleConfig? {
        guard let rule = object(node, path, allowed: Self.ruleKeys) else { return nil }
        var provider = ""
        if let member = required(rule, "provider"), let name = string(member.value, rule.path("provider")) {
            provider = name
            if !providers.contains(name) {
                let known =
                    providers.isEmpty
                    ? "none are defined under \"jwt_providers\""
                    : "known providers: " + providers.joined(separator: ", ")
                error(rule.path("provider"), member.value.position, "unknown provider \(quoted(name)); \(known)")
            }
        }
        var claimsToHeaders: [(claim: String, header: String)] = []
        for entry in stringMap(rule, "claims_to_headers") ?? [] {
            guard Syntax.isToken(entry.value) else {
                error(entry.path, entry.member.value.position, "\(quoted(entry.value)) is not a valid header name")
                continue
            }
            if let canonical = ReservedHeaders.reserved(entry.value, in: ReservedHeaders.request) {
                error(
                    entry.path, entry.member.value.position,
                    ReservedHeaders.message(entry.value, canonical: canonical, what: "set"))
                continue
            }
            claimsToHeaders.append((entry.key, entry.value.lowercased()))
        }
        let requireClaims = (stringMap(rule, "require_claims") ?? []).map { (claim: $0.key, value: $0.value) }
        return JWTRuleConfig(
            provider: provider, required: bool(rule, "required") ?? Defaults.jwtRequired,
            claimsToHeaders: claimsToHeaders, requireClaims: requireClaims)
    }
}
