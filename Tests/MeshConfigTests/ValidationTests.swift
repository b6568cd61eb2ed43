import Testing

@testable import MeshConfig

/// Each validation rule: one bad value in an otherwise valid document gives exactly one error, at this path,
/// with a message containing this text.
struct ValidationCase: Sendable, CustomStringConvertible {
    let name: String
    let document: String
    let path: String
    let message: String
    var environment: [String: String] = [:]
    var description: String { name }
}

private func route(_ fields: String) -> String { #"{"match": {"path": "/"}, "upstream": "app", \#(fields)}"# }
private func match(_ fields: String) -> String { #"{"match": {\#(fields)}, "upstream": "app"}"# }
private func provider(_ fields: String) -> String { #"{"local": {"issuer": "i", \#(fields)}}"# }
private func tls(_ fields: String) -> String {
    #""tls": {"certificates": [{"cert_file": "a.crt", "key_file": "a.key"}], \#(fields)},"#
}
private func upstream(_ fields: String) -> String { #"{"app": {"endpoints": ["127.0.0.1:3000"], \#(fields)}}"# }
private let r0 = "listeners[0].routes[0]"

let validationCases: [ValidationCase] = [
    // Top level
    .init(
        name: "version 2", document: document().replacingOccurrences(of: #""version": 1"#, with: #""version": 2"#),
        path: "version", message: "unsupported version number 2: this meshgate reads version 1"),
    .init(
        name: "version missing", document: document().replacingOccurrences(of: #""version": 1,"#, with: ""),
        path: "", message: "missing required key \"version\" (add \"version\": 1)"),
    .init(
        name: "unknown root key", document: document(extra: #""watch_confg": true"#),
        path: "watch_confg", message: "unknown key \"watch_confg\" (did you mean \"watch_config\"?)"),
    .init(
        name: "listeners empty", document: #"{"version": 1, "listeners": []}"#,
        path: "listeners", message: "must not be empty"),
    .init(
        name: "listeners missing", document: #"{"version": 1}"#,
        path: "", message: "missing required key \"listeners\""),
    .init(
        name: "wrong type names expected type", document: document(extra: #""watch_config": "yes""#),
        path: "watch_config", message: "expected true or false, found string \"yes\""),
    // Durations and numbers
    .init(
        name: "duration as string", document: document(route: route(#""timeout_ms": "3s""#)),
        path: "\(r0).timeout_ms", message: "expected a non-negative integer number of milliseconds, found string \"3s\""
    ),
    .init(
        name: "negative duration", document: document(route: route(#""timeout_ms": -1"#)),
        path: "\(r0).timeout_ms", message: "-1 is out of range: must be at least 1"),
    .init(
        name: "fractional duration", document: document(route: route(#""timeout_ms": 1.5"#)),
        path: "\(r0).timeout_ms", message: "found number 1.5"),
    .init(
        name: "per-try over timeout",
        document: document(route: route(#""timeout_ms": 1000, "per_try_timeout_ms": 2000"#)),
        path: "\(r0).per_try_timeout_ms", message: "per_try_timeout_ms (2000) must not exceed timeout_ms (1000)"),
    .init(
        name: "per-try over default timeout", document: document(route: route(#""per_try_timeout_ms": 5000"#)),
        path: "\(r0).per_try_timeout_ms", message: "must not exceed timeout_ms (3000)"),
    // Retry
    .init(
        name: "retry typo", document: document(route: route(#""retry": {"retires": 1}"#)),
        path: "\(r0).retry.retires", message: "unknown key \"retires\" (did you mean \"retries\"?)"),
    .init(
        name: "too many retries", document: document(route: route(#""retry": {"retries": 11}"#)),
        path: "\(r0).retry.retries", message: "11 is out of range: must be between 0 and 10"),
    .init(
        name: "retry on value", document: document(route: route(#""retry": {"on": ["gateway_error"]}"#)),
        path: "\(r0).retry.on[0]", message: "unknown value \"gateway_error\" (did you mean \"gateway-error\"?)"),
    .init(
        name: "retry status range", document: document(route: route(#""retry": {"statuses": [503, 600]}"#)),
        path: "\(r0).retry.statuses[1]", message: "600 is out of range: must be between 100 and 599"),
    .init(
        name: "backoff base over max", document: document(route: route(#""retry": {"backoff_base_ms": 500}"#)),
        path: "\(r0).retry.backoff_base_ms", message: "backoff_base_ms (500) must not exceed backoff_max_ms (250)"),
    // Fallback
    .init(
        name: "fallback status low", document: document(route: route(#""fallback": {"status": 199}"#)),
        path: "\(r0).fallback.status", message: "199 is out of range: must be between 200 and 599"),
    .init(
        name: "fallback status missing", document: document(route: route(#""fallback": {"body": "x"}"#)),
        path: "\(r0).fallback", message: "missing required key \"status\""),
    .init(
        name: "fallback on value", document: document(route: route(#""fallback": {"status": 200, "on": ["open"]}"#)),
        path: "\(r0).fallback.on[0]", message: "unknown value \"open\""),
    .init(
        name: "fallback header CRLF",
        document: document(route: route(#""fallback": {"status": 200, "headers": {"x-a": "1\r\nx-b: 2"}}"#)),
        path: "\(r0).fallback.headers.x-a", message: "header values must not contain CR, LF or NUL"),
    // Match
    .init(
        name: "no path kind", document: document(route: match(#""methods": ["GET"]"#)),
        path: "\(r0).match", message: "give one of \"path\" (exact), \"path_prefix\" or \"path_template\""),
    .init(
        name: "two path kinds", document: document(route: match(#""path": "/a", "path_template": "/a""#)),
        path: "\(r0).match", message: "not \"path\" and \"path_template\""),
    .init(
        name: "path without slash", document: document(route: match(#""path_prefix": "api""#)),
        path: "\(r0).match.path_prefix", message: "path \"api\" must start with \"/\""),
    .init(
        name: "path with query", document: document(route: match(#""path": "/a?b=1""#)),
        path: "\(r0).match.path", message: "must not contain spaces, control characters, \"?\" or \"#\""),
    .init(
        name: "template partial segment", document: document(route: match(#""path_template": "/users/id{id}""#)),
        path: "\(r0).match.path_template", message: "template segment \"id{id}\" must be a whole segment"),
    .init(
        name: "template duplicate name", document: document(route: match(#""path_template": "/a/{id}/b/{id}""#)),
        path: "\(r0).match.path_template", message: "template parameter {id} appears twice"),
    .init(
        name: "method not a token", document: document(route: match(#""path": "/", "methods": ["GE T"]"#)),
        path: "\(r0).match.methods[0]", message: "\"GE T\" is not a valid method"),
    .init(
        name: "header name not a token", document: document(route: match(#""path": "/", "headers": {"x y": "1"}"#)),
        path: "\(r0).match.headers[\"x y\"]", message: "\"x y\" is not a valid header name"),
    .init(
        name: "host with port", document: document(route: match(#""path": "/", "host": "api.example.com:80""#)),
        path: "\(r0).match.host", message: "is not a valid host"),
    .init(
        name: "host bare wildcard", document: document(route: match(#""path": "/", "host": "*.""#)),
        path: "\(r0).match.host", message: "is not a valid wildcard host"),
    // References and JWT rules
    .init(
        name: "unknown upstream", document: document(route: #"{"match": {"path": "/"}, "upstream": "profle"}"#),
        path: "\(r0).upstream", message: "unknown upstream \"profle\"; known upstreams: app"),
    .init(
        name: "unknown provider", document: document(route: route(#""jwt": {"provider": "remote"}"#)),
        path: "\(r0).jwt.provider", message: "unknown provider \"remote\"; known providers: local"),
    .init(
        name: "unknown listener provider", document: document(listenerExtra: #""jwt": {"provider": "x"},"#),
        path: "listeners[0].jwt.provider", message: "unknown provider \"x\""),
    .init(
        name: "public and jwt", document: document(route: route(#""public": true, "jwt": {"provider": "local"}"#)),
        path: "\(r0).jwt", message: "a route cannot be \"public\": true and have \"jwt\""),
    .init(
        name: "claim header not a token",
        document: document(route: route(#""jwt": {"provider": "local", "claims_to_headers": {"sub": "x user"}}"#)),
        path: "\(r0).jwt.claims_to_headers.sub", message: "\"x user\" is not a valid header name"),
    // Uniqueness and addresses
    .init(
        name: "duplicate route name",
        document: document(
            route:
                #"{"name": "a", "match": {"path": "/"}, "upstream": "app"}, {"name": "a", "match": {"path": "/b"}, "upstream": "app"}"#
        ),
        path: "listeners[0].routes[1].name", message: "duplicate route name \"a\" in listener \"edge\""),
    .init(
        name: "default route name clash",
        document: document(
            route:
                #"{"match": {"path": "/"}, "upstream": "app"}, {"name": "edge#0", "match": {"path": "/b"}, "upstream": "app"}"#
        ),
        path: "listeners[0].routes[1].name", message: "duplicate route name \"edge#0\""),
    .init(
        name: "duplicate listener name",
        document:
            #"{"version": 1, "listeners": [{"name": "a", "address": "127.0.0.1:1", "routes": []}, {"name": "a", "address": "127.0.0.1:2", "routes": []}]}"#,
        path: "listeners[1].name", message: "duplicate listener name \"a\""),
    .init(
        name: "duplicate listener address",
        document:
            #"{"version": 1, "listeners": [{"name": "a", "address": "127.0.0.1:1", "routes": []}, {"name": "b", "address": "127.0.0.1:1", "routes": []}]}"#,
        path: "listeners[1].address", message: "address 127.0.0.1:1 conflicts with listeners[0].address"),
    .init(
        name: "wildcard address conflict",
        document:
            #"{"version": 1, "listeners": [{"name": "a", "address": "127.0.0.1:1", "routes": []}, {"name": "b", "address": "0.0.0.0:1", "routes": []}]}"#,
        path: "listeners[1].address", message: "conflicts with listeners[0].address"),
    .init(
        name: "admin address conflict",
        document: #"{"version": 1, "listeners": [{"name": "a", "address": "127.0.0.1:9901", "routes": []}]}"#,
        path: "listeners[0].address", message: "conflicts with admin.address (127.0.0.1:9901)"),
    .init(
        name: "port zero",
        document: #"{"version": 1, "listeners": [{"name": "a", "address": "127.0.0.1:0", "routes": []}]}"#,
        path: "listeners[0].address", message: "port \"0\" must be a number from 1 to 65535"),
    .init(
        name: "port too big",
        document: #"{"version": 1, "listeners": [{"name": "a", "address": "127.0.0.1:65536", "routes": []}]}"#,
        path: "listeners[0].address", message: "port \"65536\" must be a number from 1 to 65535"),
    .init(
        name: "no port",
        document: #"{"version": 1, "listeners": [{"name": "a", "address": "localhost", "routes": []}]}"#,
        path: "listeners[0].address", message: "expected \"host:port\" or \"[ipv6]:port\""),
    .init(
        name: "unbracketed v6",
        document: #"{"version": 1, "listeners": [{"name": "a", "address": "::1:80", "routes": []}]}"#,
        path: "listeners[0].address", message: "is not an address"),
    .init(
        name: "bad admin address", document: document(extra: #""admin": {"address": "x y:1"}"#),
        path: "admin.address", message: "\"x y\" is not a valid host name or IPv4 address"),
    // Upstreams
    .init(
        name: "endpoints empty", document: document(upstreams: #"{"app": {"endpoints": []}}"#),
        path: "upstreams.app.endpoints", message: "must not be empty"),
    .init(
        name: "endpoints missing", document: document(upstreams: #"{"app": {"balance": "random"}}"#),
        path: "upstreams.app", message: "missing required key \"endpoints\""),
    .init(
        name: "balance typo", document: document(upstreams: upstream(#""balance": "roundrobin""#)),
        path: "upstreams.app.balance", message: "unknown value \"roundrobin\" (did you mean \"round_robin\"?)"),
    .init(
        name: "max_header_bytes too large", document: document(extra: #""limits": {"max_header_bytes": 1073741824}"#),
        path: "limits.max_header_bytes", message: "1073741824 is out of range: must be between 1024 and 1048576"),
    // Regression: issue 10 (found by the request-head fuzzer) — a set of a claim target sent two values.
    .init(
        name: "request_headers.set of a claim target",
        document: document(
            route: #"{"match": {"path": "/"}, "upstream": "app", "public": true, "request_headers": {"set": {"X_User_Id": "anon"}}}"#,
            listenerExtra: #""jwt": {"provider": "local", "claims_to_headers": {"sub": "x-user-id"}},"#),
        path: "listeners[0].routes[0].request_headers.set.x_user_id",
        message: "\"x_user_id\" is set from verified claims (claims_to_headers) on this listener and cannot also be set by request_headers"),
    .init(
        name: "max_idle over max_connections",
        document: document(upstreams: upstream(#""pool": {"max_connections": 4, "max_idle": 8}"#)),
        path: "upstreams.app.pool.max_idle", message: "max_idle (8) must not exceed max_connections (4)"),
    .init(
        name: "breaker zero failures",
        document: document(upstreams: upstream(#""circuit_breaker": {"consecutive_failures": 0}"#)),
        path: "upstreams.app.circuit_breaker.consecutive_failures", message: "0 is out of range: must be at least 1"),
    .init(
        name: "health check path", document: document(upstreams: upstream(#""health_check": {"path": "healthz"}"#)),
        path: "upstreams.app.health_check.path", message: "must start with \"/\""),
    .init(
        name: "empty upstream name",
        document: document(upstreams: #"{"app": {"endpoints": ["127.0.0.1:1"]}, "": {"endpoints": ["127.0.0.1:2"]}}"#),
        path: "upstreams[\"\"]", message: "names must be non-empty"),
    .init(
        name: "provider name with space",
        document: document(providers: #"{"my idp": {"issuer": "i", "secret_env": "S"}}"#),
        path: "jwt_providers[\"my idp\"]", message: "without spaces", environment: ["S": "x"]),
    // Providers
    .init(
        name: "no key source", document: document(providers: #"{"local": {"issuer": "i"}}"#),
        path: "jwt_providers.local", message: "a provider needs a key source"),
    .init(
        name: "alg none",
        document: document(providers: provider(#""jwks": {"file": "k.json"}, "algorithms": ["none"]"#)),
        path: "jwt_providers.local.algorithms[0]", message: "\"none\" is never accepted"),
    .init(
        name: "unknown alg",
        document: document(providers: provider(#""jwks": {"file": "k.json"}, "algorithms": ["ES257"]"#)),
        path: "jwt_providers.local.algorithms[0]", message: "unknown algorithm \"ES257\" (did you mean \"ES256\"?)"),
    .init(
        name: "tracing ca_file with http",
        document: document(extra: #""tracing": {"otlp_endpoint": "http://c:4318/v1/traces", "ca_file": "ca.pem"}"#),
        path: "tracing.ca_file", message: "ca_file applies only to an https:// otlp_endpoint"),
    .init(
        name: "tracing ca_file empty",
        document: document(extra: #""tracing": {"otlp_endpoint": "https://c:4318/v1/traces", "ca_file": ""}"#),
        path: "tracing.ca_file", message: "must not be empty"),
    .init(
        name: "tracing ca_file not a string",
        document: document(extra: #""tracing": {"otlp_endpoint": "https://c:4318/v1/traces", "ca_file": true}"#),
        path: "tracing.ca_file", message: "expected a string"),
    .init(
        name: "tracing ca_file typo",
        document: document(extra: #""tracing": {"otlp_endpoint": "https://c:4318/v1/traces", "cafile": "ca.pem"}"#),
        path: "tracing.cafile", message: "unknown key \"cafile\" (did you mean \"ca_file\"?)"),
    .init(
        name: "jwks ca_file with http",
        document: document(providers: provider(#""jwks": {"url": "http://a/jwks", "ca_file": "ca.pem"}"#)),
        path: "jwt_providers.local.jwks.ca_file", message: "ca_file applies only to an https:// url"),
    .init(
        name: "ftp jwks", document: document(providers: provider(#""jwks": {"url": "ftp://a/jwks"}"#)),
        path: "jwt_providers.local.jwks.url", message: "must be an http:// URL"),
    .init(
        name: "HMAC from url",
        document: document(providers: provider(#""jwks": {"url": "http://a/jwks"}, "algorithms": ["HS256"]"#)),
        path: "jwt_providers.local.algorithms[0]", message: "HS256 needs a secret from \"secret_env\""),
    .init(
        name: "secret_env unset",
        document: document(providers: provider(#""secret_env": "JWT_SECRET", "algorithms": ["HS256"]"#)),
        path: "jwt_providers.local.secret_env", message: "environment variable JWT_SECRET is not set or empty"),
    .init(
        name: "refresh without url",
        document: document(providers: provider(#""jwks": {"file": "k.json", "refresh_ms": 60000}"#)),
        path: "jwt_providers.local.jwks.refresh_ms", message: "refresh_ms applies only to \"url\""),
    .init(
        name: "inline not a JWKS", document: document(providers: provider(#""jwks": {"inline": {"kty": "oct"}}"#)),
        path: "jwt_providers.local.jwks.inline", message: "expected a JWK Set object"),
    .init(
        name: "token source shape",
        document: document(providers: provider(#""jwks": {"file": "k"}, "from": [{"header": "a", "cookie": "b"}]"#)),
        path: "jwt_providers.local.from[0]", message: "give exactly one of \"header\" or \"cookie\""),
    // Process-wide
    .init(
        name: "sample ratio", document: document(extra: #""tracing": {"sample_ratio": 1.5}"#),
        path: "tracing.sample_ratio", message: "1.5 is out of range: must be between 0.0 and 1.0"),
    .init(
        name: "log level typo", document: document(extra: #""logging": {"level": "warning"}"#),
        path: "logging.level", message: "unknown value \"warning\" (did you mean \"warn\"?)"),
    .init(
        name: "limits typo", document: document(extra: #""limits": {"max_body": 1}"#),
        path: "limits.max_body", message: "unknown key \"max_body\" (did you mean \"max_body_bytes\"?)"),
    .init(
        name: "app without health_url", document: document(extra: #""app": {"startup_timeout_ms": 1000}"#),
        path: "app", message: "missing required key \"health_url\""),
    // TLS (SPEC §9)
    .init(
        name: "tls without certificates", document: document(listenerExtra: #""tls": {},"#),
        path: "listeners[0].tls", message: "missing required key \"certificates\""),
    .init(
        name: "tls pair without key",
        document: document(listenerExtra: #""tls": {"certificates": [{"cert_file": "a.crt"}]},"#),
        path: "listeners[0].tls.certificates[0]", message: "missing required key \"key_file\""),
    .init(
        name: "tls version 1.1",
        document: document(listenerExtra: tls(#""min_version": "1.1""#)),
        path: "listeners[0].tls.min_version", message: "unknown value \"1.1\""),
    .init(
        name: "tls alpn not served",
        document: document(listenerExtra: tls(#""alpn": ["h3", "http/1.1"]"#)),
        path: "listeners[0].tls.alpn[0]", message: "unsupported ALPN protocol \"h3\""),
    .init(
        name: "client cert required without CA",
        document: document(listenerExtra: tls(#""require_client_cert": true"#)),
        path: "listeners[0].tls.require_client_cert", message: "require_client_cert needs client_ca_file"),
    .init(
        name: "tls key typo", document: document(listenerExtra: tls(#""handshake_timeout": 5"#)),
        path: "listeners[0].tls.handshake_timeout", message: "did you mean \"handshake_timeout_ms\"?"),
    .init(
        name: "allow_identities without client CA",
        document: document(
            route: route(#""allow_identities": ["spiffe://a"]"#), listenerExtra: tls(#""min_version": "1.2""#)),
        path: "\(r0).allow_identities", message: "allow_identities needs client certificates"),
    .init(
        name: "redirect on a TLS listener",
        document: document(listenerExtra: tls(#""min_version": "1.2""#) + #""redirect_to_https": 8443,"#),
        path: "listeners[0].redirect_to_https", message: "a TLS listener cannot redirect to HTTPS"),
    .init(
        name: "upstream client cert without key",
        document: document(upstreams: upstream(#""tls": {"cert_file": "c.crt"}"#)),
        path: "upstreams.app.tls.cert_file", message: "cert_file needs key_file"),
    .init(
        name: "upstream tls bad server name",
        document: document(upstreams: upstream(#""tls": {"server_name": "a b"}"#)),
        path: "upstreams.app.tls.server_name", message: "is not a host name or address"),
    .init(
        name: "otlp not http", document: document(extra: #""tracing": {"otlp_endpoint": "collector:4318"}"#),
        path: "tracing.otlp_endpoint", message: "must be an http:// URL or https:// URL"),
]

@Suite struct ValidationTests {
    @Test(arguments: validationCases)
    func reportsOneErrorAtPath(_ testCase: ValidationCase) {
        let errors = loadErrors(testCase.document, environment: testCase.environment)
        #expect(errors.count == 1, "\(errors)")
        guard let error = errors.first else { return }
        #expect(error.path == testCase.path)
        #expect(error.message.contains(testCase.message), "message was: \(error.message)")
        #expect(error.line != nil && error.column != nil, "every validation error has a position")
    }

    @Test func baseDocumentIsValid() throws {
        _ = try loadValid(document())
    }

    @Test func secretEnvSetIsAccepted() throws {
        let text = document(providers: provider(#""secret_env": "JWT_SECRET", "algorithms": ["HS256"]"#))
        let config = try loadValid(text, environment: ["JWT_SECRET": "0123456789abcdef0123456789abcdef"])
        #expect(config.jwtProviders["local"]?.secretEnv == "JWT_SECRET")
    }
}
