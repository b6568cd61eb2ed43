import MeshJSON

/// Listener, route and JWT parts of `ConfigRenderer`.
extension ConfigRenderer {
    static func listenerJSON(_ listener: ListenerConfig, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("name")
        w.string(listener.name)
        w.key("address")
        w.string(listener.address.description)
        if let tls = listener.tls {
            w.key("tls")
            tlsJSON(tls, &w)
        }
        if let port = listener.redirectToHTTPS {
            w.key("redirect_to_https")
            w.number(port)
        }
        if let jwt = listener.jwt {
            w.key("jwt")
            ruleJSON(jwt, &w)
        }
        rateLimitJSON(listener.rateLimit, &w)
        w.key("routes")
        w.beginArray()
        for route in listener.routes { routeJSON(route, &w) }
        w.endArray()
        w.endObject()
    }

    static func tlsJSON(_ tls: ListenerTLSConfig, _ w: inout JSONWriter) {
        w.beginObject()
        if let acme = tls.acme {
            w.key("acme")
            w.beginObject()
            w.key("directory_url")
            w.string(acme.directoryURL)
            w.key("email")
            if let email = acme.email { w.string(email) } else { w.null() }
            w.key("domains")
            strings(&w, acme.domains)
            w.key("challenge")
            w.string(acme.challenge)
            w.key("ca_file")
            if let file = acme.caFile { w.string(file) } else { w.null() }
            w.key("storage_dir")
            w.string(acme.storageDir)
            w.endObject()
        }
        w.key("certificates")
        w.beginArray()
        for pair in tls.certificates {
            w.beginObject()
            w.key("cert_file")
            w.string(pair.certFile)
            w.key("key_file")
            w.string(pair.keyFile)
            w.endObject()
        }
        w.endArray()
        w.key("min_version")
        w.string(tls.minVersion)
        w.key("alpn")
        strings(&w, tls.alpn)
        w.key("client_ca_file")
        if let file = tls.clientCAFile { w.string(file) } else { w.null() }
        w.key("require_client_cert")
        w.bool(tls.requireClientCert)
        w.key("handshake_timeout_ms")
        w.number(tls.handshakeTimeoutMs)
        w.endObject()
    }

    static func pathText(_ path: PathMatch) -> (key: String, value: String) {
        switch path {
        case .exact(let p): return ("path", p)
        case .prefix(let p): return ("path_prefix", p)
        case .template(let segments, let names):
            var index = 0
            let parts = segments.map { segment -> String in
                if let segment { return segment }
                defer { index += 1 }
                return "{\(names[index])}"
            }
            return ("path_template", "/" + parts.joined(separator: "/"))
        }
    }

    static func matchJSON(_ match: MatchConfig, _ w: inout JSONWriter) {
        w.beginObject()
        let path = pathText(match.path)
        w.key(path.key)
        w.string(path.value)
        if !match.methods.isEmpty {
            w.key("methods")
            strings(&w, match.methods)
        }
        if let host = match.host {
            w.key("host")
            switch host {
            case .exact(let name): w.string(name)
            case .wildcardSuffix(let suffix): w.string("*" + suffix)
            }
        }
        if !match.headers.isEmpty {
            w.key("headers")
            pairs(&w, match.headers.map { ($0.name, $0.value) })
        }
        w.endObject()
    }

    static func fallbackJSON(_ fallback: FallbackConfig, _ w: inout JSONWriter) {
        w.key("fallback")
        w.beginObject()
        w.key("status")
        w.number(fallback.status)
        w.key("headers")
        pairs(&w, fallback.headers.map { ($0.name, $0.value) })
        w.key("body")
        w.string(fallback.body)
        w.key("on")
        strings(&w, fallback.on.map(\.rawValue))
        w.endObject()
    }

    static func routeJSON(_ route: RouteConfig, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("name")
        w.string(route.name)
        w.key("match")
        matchJSON(route.match, &w)
        w.key("upstream")
        w.string(route.upstream)
        if let identities = route.allowIdentities {
            w.key("allow_identities")
            strings(&w, identities)
        }
        if let rewrite = route.rewrite {
            w.key("rewrite")
            let fields = [
                ("strip_prefix", rewrite.stripPrefix), ("add_prefix", rewrite.addPrefix), ("host", rewrite.host),
            ]
            pairs(&w, fields.compactMap { key, value in value.map { (key, $0) } })
        }
        if let transcode = route.transcode {
            w.key("grpc_transcode")
            let fields = [
                ("descriptor_set", transcode.descriptorSet), ("method", transcode.method), ("body", transcode.body),
                ("response_body", transcode.responseBody),
            ]
            pairs(&w, fields.compactMap { key, value in value.map { (key, $0) } })
        }
        w.key("public")
        w.bool(route.isPublic)
        if let jwt = route.jwt {
            w.key("jwt")
            ruleJSON(jwt, &w)
        }
        rateLimitJSON(route.rateLimit, &w)
        w.key("timeout_ms")
        w.number(route.timeoutMs)
        if let perTry = route.perTryTimeoutMs {
            w.key("per_try_timeout_ms")
            w.number(perTry)
        }
        w.key("retry")
        retryJSON(route.retry, &w)
        if let fallback = route.fallback { fallbackJSON(fallback, &w) }
        for (key, edits) in [("request_headers", route.requestHeaders), ("response_headers", route.responseHeaders)] {
            w.key(key)
            w.beginObject()
            w.key("set")
            pairs(&w, edits.set.map { ($0.name, $0.value) })
            w.key("remove")
            strings(&w, edits.remove)
            w.endObject()
        }
        w.endObject()
    }

    static func retryJSON(_ retry: RetryConfig, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("retries")
        w.number(retry.retries)
        w.key("on")
        strings(&w, retry.on.map(\.rawValue))
        w.key("statuses")
        w.beginArray()
        for status in retry.statuses { w.number(status) }
        w.endArray()
        w.key("backoff_base_ms")
        w.number(retry.backoffBaseMs)
        w.key("backoff_max_ms")
        w.number(retry.backoffMaxMs)
        w.endObject()
    }

    static func ruleJSON(_ rule: JWTRuleConfig, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("provider")
        w.string(rule.provider)
        w.key("required")
        w.bool(rule.required)
        w.key("claims_to_headers")
        pairs(&w, rule.claimsToHeaders.map { ($0.claim, $0.header) })
        w.key("require_claims")
        pairs(&w, rule.requireClaims.map { ($0.claim, $0.value) })
        w.endObject()
    }

    static func providerJSON(_ p: JWTProviderConfig, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("issuer")
        w.string(p.issuer)
        w.key("audiences")
        strings(&w, p.audiences)
        if !p.jwks.isEmpty {
            w.key("jwks")
            w.beginObject()
            for source in p.jwks {
                switch source {
                case .file(let path):
                    w.key("file")
                    w.string(path)
                case .url(let url, let refreshMs, let caFile):
                    w.key("url")
                    w.string(redactURL(url))
                    w.key("refresh_ms")
                    w.number(refreshMs)
                    if let caFile {
                        w.key("ca_file")
                        w.string(caFile)
                    }
                case .inline(let text):
                    w.key("inline")
                    w.value(redactJWKS(text))
                }
            }
            w.endObject()
        }
        if let secretEnv = p.secretEnv {
            w.key("secret_env")
            w.string(secretEnv)
        }
        w.key("algorithms")
        strings(&w, p.algorithms)
        w.key("leeway_s")
        w.number(p.leewaySeconds)
        w.key("from")
        w.beginArray()
        for source in p.from {
            switch source {
            case .bearer: w.string("bearer")
            case .header(let name): pairs(&w, [("header", name)])
            case .cookie(let name): pairs(&w, [("cookie", name)])
            }
        }
        w.endArray()
        w.key("max_token_bytes")
        w.number(p.maxTokenBytes)
        w.key("forward_token")
        w.bool(p.forwardToken)
        w.endObject()
    }
}
