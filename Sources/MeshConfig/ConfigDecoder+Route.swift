import MeshJSON

/// One route: `match`, `upstream`, `rewrite`, JWT inheritance and timeouts.
extension ConfigDecoder {
    static let routeKeys = [
        "name", "match", "upstream", "rewrite", "jwt", "public", "timeout_ms", "per_try_timeout_ms", "retry",
        "fallback", "request_headers", "response_headers", "allow_identities", "rate_limit",
        "grpc_transcode",
    ]
    static let matchKeys = ["path", "path_prefix", "path_template", "methods", "host", "headers"]

    func decodeRoute(_ node: JSONNode, _ path: String, _ context: RouteContext) -> RouteConfig? {
        guard let route = object(node, path, allowed: Self.routeKeys) else { return nil }
        let name = string(route, "name") ?? context.defaultName
        let match = required(route, "match").flatMap { decodeMatch($0.value, route.path("match")) }
        var upstream = ""
        if let member = required(route, "upstream"), let value = string(member.value, route.path("upstream")) {
            upstream = value
            if !context.upstreams.contains(value) {
                let known =
                    context.upstreams.isEmpty
                    ? "none are defined under \"upstreams\""
                    : "known upstreams: " + context.upstreams.joined(separator: ", ")
                error(route.path("upstream"), member.value.position, "unknown upstream \(quoted(value)); \(known)")
            }
        }
        let isPublic = bool(route, "public") ?? false
        let ownJWT = route["jwt"].flatMap { decodeJWTRule($0.value, route.path("jwt"), providers: context.providers) }
        if isPublic, let jwt = route["jwt"] {
            error(route.path("jwt"), jwt.keyPosition, "a route cannot be \"public\": true and have \"jwt\"; remove one")
        }
        let timeout = duration(route, "timeout_ms", min: 1) ?? Defaults.timeoutMs
        let perTry = duration(route, "per_try_timeout_ms", min: 1) ?? Defaults.perTryTimeoutMs
        if let perTry, perTry > timeout, let member = route["per_try_timeout_ms"] {
            error(
                route.path("per_try_timeout_ms"), member.value.position,
                "per_try_timeout_ms (\(perTry)) must not exceed timeout_ms (\(timeout)), the budget for all tries")
        }
        let jwt = isPublic ? nil : (ownJWT ?? context.listenerJWT)
        let rateLimit = route["rate_limit"].flatMap {
            decodeRateLimit($0.value, route.path("rate_limit"), jwt: jwt, hasStore: context.hasRateLimitStore)
        }
        guard let match else { return nil }
        let rewrite = route["rewrite"].flatMap { decodeRewrite($0.value, route.path("rewrite")) }
        let transcode = route["grpc_transcode"].flatMap { member in
            decodeTranscode(member, route.path("grpc_transcode"), match: match, upstream: upstream, context)
        }
        if transcode != nil, let rewrite, rewrite.stripPrefix != nil || rewrite.addPrefix != nil,
            let member = route["rewrite"]
        {
            error(
                route.path("rewrite"), member.keyPosition,
                "a grpc_transcode route sends each call to its method's gRPC path: strip_prefix and add_prefix"
                    + " do not apply; remove them")
        }
        return RouteConfig(
            name: name, match: match, upstream: upstream,
            rewrite: rewrite,
            jwt: jwt, isPublic: isPublic,
            timeoutMs: timeout, perTryTimeoutMs: perTry,
            retry: route["retry"].map { decodeRetry($0.value, route.path("retry")) } ?? Defaults.retry,
            fallback: route["fallback"].flatMap { decodeFallback($0.value, route.path("fallback")) },
            requestHeaders: route["request_headers"].map {
                decodeHeaderEdits($0.value, route.path("request_headers"), reserved: ReservedHeaders.request)
            } ?? .none,
            responseHeaders: route["response_headers"].map {
                decodeHeaderEdits($0.value, route.path("response_headers"), reserved: ReservedHeaders.response)
            } ?? .none,
            allowIdentities: decodeAllowIdentities(route, context), rateLimit: rateLimit, transcode: transcode)
    }

    func decodeMatch(_ node: JSONNode, _ path: String) -> MatchConfig? {
        guard let match = object(node, path, allowed: Self.matchKeys) else { return nil }
        let given = ["path", "path_prefix", "path_template"].filter { match[$0] != nil }
        guard given.count == 1, let kind = given.first, let member = match[kind] else {
            let message =
                given.isEmpty
                ? "give one of \"path\" (exact), \"path_prefix\" or \"path_template\""
                : "give exactly one of \"path\", \"path_prefix\" or \"path_template\", not "
                    + given.map(quoted).joined(separator: " and ")
            error(path, node.position, message)
            return nil
        }
        guard let pathMatch = decodePathMatch(kind, member.value, match.path(kind)) else { return nil }
        var methods: [String] = []
        for item in strings(match, "methods", nonEmpty: true) ?? [] {
            guard Syntax.isToken(item.value) else {
                error(item.path, item.node.position, "\(quoted(item.value)) is not a valid method (RFC 9110 token)")
                continue
            }
            // Methods are case-sensitive on the wire (RFC 9110 §9.1); the standard ones are upper case, and config
            // authors who write "get" mean GET.
            let method = item.value.uppercased()
            if !methods.contains(method) { methods.append(method) }
        }
        var host: HostMatch? = nil
        if let member = match["host"], let text = string(member.value, match.path("host")) {
            switch Syntax.hostMatch(text) {
            case .success(let value): host = value
            case .failure(let problem): error(match.path("host"), member.value.position, problem.message)
            }
        }
        let headers = headerPairs(match, "headers")
        return MatchConfig(path: pathMatch, methods: methods, host: host, headers: headers)
    }

    private func decodePathMatch(_ kind: String, _ node: JSONNode, _ path: String) -> PathMatch? {
        guard let text = string(node, path) else { return nil }
        if kind == "path_template" {
            switch Syntax.template(text) {
            case .success(let template): return template
            case .failure(let problem):
                error(path, node.position, problem.message)
                return nil
            }
        }
        if let problem = Syntax.pathProblem(text) {
            error(path, node.position, problem)
            return nil
        }
        if kind == "path" { return .exact(text) }
        // Segment-aware prefix: "/profile/" and "/profile" mean the same, so store it without the trailing slash.
        var prefix = Substring(text)
        while prefix.count > 1, prefix.hasSuffix("/") { prefix = prefix.dropLast() }
        return .prefix(String(prefix))
    }

    /// A `{name: value}` object of headers: names are tokens (lowercased) outside `reserved`, values free of
    /// CR/LF/NUL.
    func headerPairs(_ object: ObjectNode, _ key: String, reserved: Set<String> = [])
        -> [(name: String, value: String)]
    {
        var pairs: [(name: String, value: String)] = []
        for entry in stringMap(object, key) ?? [] {
            guard Syntax.isToken(entry.key) else {
                error(
                    entry.path, entry.member.keyPosition,
                    "\(quoted(entry.key)) is not a valid header name (RFC 9110 token)")
                continue
            }
            if let canonical = ReservedHeaders.reserved(entry.key, in: reserved) {
                error(
                    entry.path, entry.member.keyPosition,
                    ReservedHeaders.message(entry.key, canonical: canonical, what: "set"))
                continue
            }
            if let problem = Syntax.headerValueProblem(entry.value) {
                error(entry.path, entry.member.value.position, problem)
                continue
            }
            let name = entry.key.lowercased()
            if pairs.contains(where: { $0.name == name }) {
                error(
                    entry.path, entry.member.keyPosition,
                    "header \(quoted(name)) is listed twice (names are case-insensitive)")
                continue
            }
            pairs.append((name, entry.value))
        }
        return pairs
    }

    func decodeRewrite(_ node: JSONNode, _ path: String) -> RewriteConfig? {
        guard let rewrite = object(node, path, allowed: ["strip_prefix", "add_prefix", "host"]) else { return nil }
        func prefix(_ key: String) -> String? {
            guard let member = rewrite[key], let value = string(member.value, rewrite.path(key)) else { return nil }
            if let problem = Syntax.pathProblem(value) { error(rewrite.path(key), member.value.position, problem) }
            return value
        }
        var host: String? = nil
        if let member = rewrite["host"], let value = string(member.value, rewrite.path("host")) {
            // The Host header may carry a port (RFC 9110 §7.2), so accept "name" and "name:port".
            let valid = Syntax.isHostName(value) || (try? Syntax.hostPort(value).get()) != nil
            if !valid { error(rewrite.path("host"), member.value.position, "\(quoted(value)) is not a valid host") }
            host = value
        }
        return RewriteConfig(stripPrefix: prefix("strip_prefix"), addPrefix: prefix("add_prefix"), host: host)
    }
}
