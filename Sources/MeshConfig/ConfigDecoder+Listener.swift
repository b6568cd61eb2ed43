import MeshJSON

/// `listeners`: names, addresses, TLS, the listener-wide JWT rule, and each listener's routes.
extension ConfigDecoder {
    static let listenerKeys = ["name", "address", "jwt", "routes", "tls", "redirect_to_https", "rate_limit"]

    func decodeListeners(
        _ root: ObjectNode, upstreams: [String], providers: [String], adminAddress: HostPort?,
        hasRateLimitStore: Bool = false, h2Upstreams: Set<String> = []
    ) -> [ListenerConfig] {
        guard required(root, "listeners", hint: " (at least one listener)") != nil,
            let items = array(root, "listeners", nonEmpty: true)
        else { return [] }
        var listeners: [ListenerConfig] = []
        var names: [String: String] = [:]
        var addresses: [(address: HostPort, path: String)] = []
        if let adminAddress { addresses.append((adminAddress, "admin.address")) }
        for (index, item) in items.enumerated() {
            guard let listener = object(item.node, item.path, allowed: Self.listenerKeys) else { continue }
            let name = required(listener, "name").flatMap { string($0.value, listener.path("name")) } ?? "#\(index)"
            if let member = listener["name"], let first = names[name] {
                error(
                    listener.path("name"), member.value.position,
                    "duplicate listener name \(quoted(name)) (first used by \(first))")
            } else if listener["name"] != nil {
                names[name] = item.path
            }
            var address = HostPort(host: "0.0.0.0", port: 1)
            if let member = required(listener, "address"), let parsed = hostPort(member.value, listener.path("address"))
            {
                if let clash = addresses.first(where: { Self.addressesConflict($0.address, parsed) }) {
                    error(
                        listener.path("address"), member.value.position,
                        "address \(parsed) conflicts with \(clash.path) (\(clash.address)): both cannot bind")
                }
                addresses.append((parsed, listener.path("address")))
                address = parsed
            }
            let jwt = listener["jwt"].flatMap { decodeJWTRule($0.value, listener.path("jwt"), providers: providers) }
            let tls = listener["tls"].flatMap { decodeListenerTLS($0.value, listener.path("tls")) }
            let routes = decodeRoutes(
                listener, listenerName: name, listenerJWT: jwt, upstreams: upstreams, providers: providers,
                verifiesClients: tls?.clientCAFile != nil, hasRateLimitStore: hasRateLimitStore,
                h2Upstreams: h2Upstreams)
            let rateLimitNode = listener["rate_limit"]?.value
            let rateLimit = rateLimitNode.flatMap {
                decodeRateLimit($0, listener.path("rate_limit"), jwt: jwt, hasStore: hasRateLimitStore)
            }
            checkListenerClaimKey(rateLimit, rateLimitNode, listener.path("rate_limit"), routes: routes)
            let redirect = int(listener, "redirect_to_https", 1...65535, what: "a port")
            if redirect != nil, tls != nil, let member = listener["redirect_to_https"] {
                error(
                    listener.path("redirect_to_https"), member.keyPosition,
                    "a TLS listener cannot redirect to HTTPS; put redirect_to_https on the plaintext listener")
            }
            listeners.append(
                ListenerConfig(
                    name: name, address: address, jwt: jwt, routes: routes, tls: tls, redirectToHTTPS: redirect,
                    rateLimit: rateLimit))
        }
        if listeners.count == items.count { checkACMEListeners(listeners, nodes: items.map(\.node)) }
        return listeners
    }

    /// Same port and the same host, or a wildcard host on either side (it binds every address).
    static func addressesConflict(_ a: HostPort, _ b: HostPort) -> Bool {
        guard a.port == b.port else { return false }
        let wildcards: Set<String> = ["0.0.0.0", "::", "0:0:0:0:0:0:0:0"]
        return a.host.lowercased() == b.host.lowercased() || wildcards.contains(a.host) || wildcards.contains(b.host)
    }

    func decodeRoutes(
        _ listener: ObjectNode, listenerName: String, listenerJWT: JWTRuleConfig?, upstreams: [String],
        providers: [String], verifiesClients: Bool = false, hasRateLimitStore: Bool = false,
        h2Upstreams: Set<String> = []
    ) -> [RouteConfig] {
        guard required(listener, "routes") != nil, let items = array(listener, "routes") else { return [] }
        var routes: [RouteConfig] = []
        var decoded: [(route: RouteConfig, node: JSONNode, path: String)] = []
        var names: [String: String] = [:]
        for (index, item) in items.enumerated() {
            let context = RouteContext(
                defaultName: "\(listenerName)#\(index)", listenerJWT: listenerJWT, upstreams: upstreams,
                providers: providers, verifiesClients: verifiesClients, hasRateLimitStore: hasRateLimitStore,
                h2Upstreams: h2Upstreams)
            guard let route = decodeRoute(item.node, item.path, context) else { continue }
            if let first = names[route.name] {
                let position = item.node["name"]?.position ?? item.node.position
                error(
                    ConfigDecoder.join(item.path, "name"), position,
                    "duplicate route name \(quoted(route.name)) in listener \(quoted(listenerName))"
                        + " (first used by \(first))"
                )
            } else {
                names[route.name] = item.path
            }
            routes.append(route)
            decoded.append((route, item.node, item.path))
        }
        refuseSetsOfClaimTargets(decoded, listenerJWT: listenerJWT)
        return routes
    }

    /// A `request_headers.set` of a name some `claims_to_headers` of the listener targets would send the
    /// upstream a second value next to the verified one: whose is it? Refused; the claim header is the gateway's.
    func refuseSetsOfClaimTargets(
        _ routes: [(route: RouteConfig, node: JSONNode, path: String)], listenerJWT: JWTRuleConfig?
    ) {
        let rules = [listenerJWT] + routes.map(\.route.jwt)
        let targets = Set(rules.compactMap { $0 }.flatMap(\.claimsToHeaders).map { ReservedHeaders.folded($0.header) })
        guard !targets.isEmpty else { return }
        for entry in routes {
            for (name, _) in entry.route.requestHeaders.set where targets.contains(ReservedHeaders.folded(name)) {
                let path = ConfigDecoder.join(ConfigDecoder.join(entry.path, "request_headers"), "set")
                error(
                    ConfigDecoder.join(path, name), entry.node["request_headers"]?.position ?? entry.node.position,
                    "\(quoted(name)) is set from verified claims (claims_to_headers) on this listener"
                        + " and cannot also be set by request_headers")
            }
        }
    }
}

/// What a route needs from its surroundings.
struct RouteContext {
    let defaultName: String
    let listenerJWT: JWTRuleConfig?
    let upstreams: [String]
    let providers: [String]
    /// The listener verifies client certificates (`tls.client_ca_file`): `allow_identities` can be checked.
    var verifiesClients = false
    /// `rate_limits.store` is configured: `scope: "global"` limits are possible.
    var hasRateLimitStore = false
    /// Upstreams that speak HTTP/2 (`h2`, `h2c`): the ones a `grpc_transcode` route may send to.
    var h2Upstreams: Set<String> = []
}
