import MeshJSON

/// A listener's `tls` object (SPEC §9). Files are checked by `meshgate check` and at load time, where the
/// certificates are parsed (MeshTLS); here only the shape and the values the spec allows.
extension ConfigDecoder {
    static let listenerTLSKeys = [
        "certificates", "min_version", "alpn", "client_ca_file", "require_client_cert", "handshake_timeout_ms", "acme",
    ]
    static let acmeKeys = ["directory_url", "email", "domains", "challenge", "ca_file", "storage_dir"]
    /// ALPN protocols a listener can serve: HTTP/1.1 only until HTTP/2 exists (SPEC §10).
    static let servableALPN = ["h2", "http/1.1"]

    func decodeListenerTLS(_ node: JSONNode, _ path: String) -> ListenerTLSConfig? {
        guard let tls = object(node, path, allowed: Self.listenerTLSKeys) else { return nil }
        var pairs: [ListenerTLSConfig.Pair] = []
        var acme: ACMEListenerConfig?
        if let member = tls["acme"] {
            acme = decodeACME(member.value, tls.path("acme"))
            if let certificates = tls["certificates"] {
                error(
                    tls.path("certificates"), certificates.keyPosition,
                    "certificates and acme are mutually exclusive: the listener's certificate comes from one of them")
            }
        } else if required(tls, "certificates", hint: " (at least one {\"cert_file\", \"key_file\"} pair, or acme)") != nil,
            let items = array(tls, "certificates", nonEmpty: true)
        {
            for item in items {
                guard let pair = object(item.node, item.path, allowed: ["cert_file", "key_file"]) else { continue }
                let cert = required(pair, "cert_file").flatMap { string($0.value, pair.path("cert_file")) }
                let key = required(pair, "key_file").flatMap { string($0.value, pair.path("key_file")) }
                if let cert, let key { pairs.append(ListenerTLSConfig.Pair(certFile: cert, keyFile: key)) }
            }
        }
        let minVersion = tls["min_version"].flatMap { choice($0.value, tls.path("min_version"), ["1.2", "1.3"]) }
        var alpn = Defaults.tlsALPN
        if let items = strings(tls, "alpn", nonEmpty: true) {
            alpn = []
            for item in items {
                guard Self.servableALPN.contains(item.value) else {
                    error(
                        item.path, item.node.position,
                        "unsupported ALPN protocol \(quoted(item.value)) (this version serves: h2, http/1.1)")
                    continue
                }
                if !alpn.contains(item.value) { alpn.append(item.value) }
            }
        }
        let clientCA = string(tls, "client_ca_file")
        let requireClientCert = bool(tls, "require_client_cert") ?? false
        if requireClientCert && clientCA == nil, let member = tls["require_client_cert"] {
            error(
                tls.path("require_client_cert"), member.value.position,
                "require_client_cert needs client_ca_file (the CAs client certificates must chain to)")
        }
        return ListenerTLSConfig(
            certificates: pairs, minVersion: minVersion ?? Defaults.tlsMinVersion, alpn: alpn,
            clientCAFile: clientCA, requireClientCert: requireClientCert,
            handshakeTimeoutMs: duration(tls, "handshake_timeout_ms", min: 1) ?? Defaults.tlsHandshakeTimeoutMs,
            acme: acme)
    }

    /// Rules across listeners: http-01 is answered on a plaintext listener of the same gateway, so one must
    /// exist; two ACME listeners cannot share a `storage_dir` (each would replace the other's certificate).
    func checkACMEListeners(_ listeners: [ListenerConfig], nodes: [JSONNode]) {
        let hasPlaintext = listeners.contains { $0.tls == nil }
        var storage: [String: String] = [:]
        for (index, listener) in listeners.enumerated() {
            guard let acme = listener.tls?.acme, let node = nodes[index]["tls"]?["acme"] else { continue }
            let path = "listeners[\(index)].tls.acme"
            if acme.challenge == "http-01" && !hasPlaintext {
                error(
                    path + ".challenge", node["challenge"]?.position ?? node.position,
                    "http-01 is answered on a plaintext listener and this config has none: add one (port 80) or use "
                        + "tls-alpn-01")
            }
            if let first = storage[acme.storageDir] {
                error(
                    path + ".storage_dir", node["storage_dir"]?.position ?? node.position,
                    "storage_dir \(quoted(acme.storageDir)) is already used by \(first)")
            } else {
                storage[acme.storageDir] = path + ".storage_dir"
            }
        }
    }

    /// `tls.acme` (SPEC §12).
    func decodeACME(_ node: JSONNode, _ path: String) -> ACMEListenerConfig? {
        guard let acme = object(node, path, allowed: Self.acmeKeys) else { return nil }
        var directory: String?
        if let member = required(acme, "directory_url"), let url = string(member.value, acme.path("directory_url")) {
            if url.hasPrefix("https://") && url.count > "https://".count {
                directory = url
            } else {
                error(acme.path("directory_url"), member.value.position, "must be an https:// URL (RFC 8555 §6.1)")
            }
        }
        var domains: [String] = []
        if required(acme, "domains") != nil, let items = strings(acme, "domains", nonEmpty: true) {
            for item in items {
                let name = item.value.lowercased()
                guard Syntax.isHostName(name), !name.contains("_"), name.contains(where: { $0.isLetter }) else {
                    error(item.path, item.node.position, "\(quoted(item.value)) is not a DNS name")
                    continue
                }
                if !domains.contains(name) { domains.append(name) }
            }
        }
        var challenge = "http-01"
        if let member = acme["challenge"] {
            challenge = choice(member.value, acme.path("challenge"), ["http-01", "tls-alpn-01"]) ?? challenge
        }
        let storage = required(acme, "storage_dir").flatMap { string($0.value, acme.path("storage_dir")) }
        guard let directory, !domains.isEmpty, let storage else { return nil }
        return ACMEListenerConfig(
            directoryURL: directory, email: string(acme, "email"), domains: domains, challenge: challenge,
            caFile: string(acme, "ca_file"), storageDir: storage)
    }
}

extension ConfigDecoder {
    /// A route's `allow_identities`: URIs (SPIFFE IDs) of client certificates admitted; only meaningful where the
    /// listener verifies client certificates.
    func decodeAllowIdentities(_ route: ObjectNode, _ context: RouteContext) -> [String]? {
        guard let items = strings(route, "allow_identities", nonEmpty: true) else { return nil }
        if !context.verifiesClients, let member = route["allow_identities"] {
            error(
                route.path("allow_identities"), member.keyPosition,
                "allow_identities needs client certificates: set the listener's tls.client_ca_file")
        }
        var identities: [String] = []
        for item in items where !identities.contains(item.value) { identities.append(item.value) }
        return identities
    }
}

extension ConfigDecoder {
    /// An upstream's `tls` object; `cert_file` and `key_file` come together (a client certificate for mTLS).
    func decodeUpstreamTLS(_ node: JSONNode, _ path: String) -> UpstreamTLSConfig? {
        guard let tls = object(node, path, allowed: ["ca_file", "server_name", "cert_file", "key_file"]) else {
            return nil
        }
        let cert = string(tls, "cert_file")
        let key = string(tls, "key_file")
        if (cert == nil) != (key == nil) {
            let present = cert == nil ? "key_file" : "cert_file"
            let missing = cert == nil ? "cert_file" : "key_file"
            error(
                tls.path(present), tls[present]?.keyPosition ?? node.position,
                "\(present) needs \(missing): a client certificate is a pair")
        }
        var serverName: String?
        if let member = tls["server_name"], let name = string(member.value, tls.path("server_name")) {
            // A DNS name or an IP literal (then an IP SAN must match and no SNI is sent).
            let literal = name.hasPrefix("[") ? String(name.dropFirst().dropLast()) : name
            if Syntax.isHostName(name) || literal.contains(":") && literal.utf8.allSatisfy({ $0 < 0x80 }) {
                serverName = name
            } else {
                error(tls.path("server_name"), member.value.position, "\(quoted(name)) is not a host name or address")
            }
        }
        return UpstreamTLSConfig(
            caFile: string(tls, "ca_file"), serverName: serverName, certFile: cert, keyFile: key)
    }
}
