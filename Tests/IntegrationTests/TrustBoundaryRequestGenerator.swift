import MeshTestSupport

/// Generates client requests for `TrustBoundaryPropertyTests` together with the model's verdict: every
/// `Connection` token the issue lists, owned and trusted fields in `_`/case spellings, duplicate credentials,
/// heads up to the header limit, trailers, smuggled bodies, h2c upgrades and the path and host spellings that
/// used to skip a route.
enum TrustBoundaryRequestGenerator {
    typealias Case = TrustBoundaryPropertyTests.Case

    static let maxHeaderBytes = 65536
    static let smuggled = Array("GET /smuggled HTTP/1.1\r\nHost: svc.test\r\nX-User-Id: admin\r\n\r\n".utf8)
    static let spoofs = [
        "X-User-Id: evil", "x_user_id: evil", "X-User_Id: evil", "Content_Length: 3", "Transfer_Encoding: chunked",
        "X_Forwarded_For: 6.6.6.6", "X-Request-Id: client-id", "X_Request_Id: evil", "Forwarded: for=6.6.6.6",
        "X-Meshgate-Deadline-Ms: 1", "Traceparent: bogus", "Proxy_Connection: close", "Keep-Alive: timeout=5",
        "TE: trailers", "Proxy-Connection: keep-alive", "X-Meshgate_Deadline-Ms: 1",
        "X-Forwarded-Client-Cert: Hash=00;URI=spiffe://forged", "x_forwarded_client_cert: Hash=00",
    ]
    static let connectionTokens = [
        "keep-alive", "te", "X-Field-1", "x-field-2", "foo", "content-length", "Content-Length", "transfer-encoding",
        "host", "x-user-id", "X_User_Id", "authorization", "x-request-id", "x-forwarded-for", "traceparent",
        "upgrade", "Content_Length", "x-forwarded-client-cert",
    ]
    static let badPaths = ["/a%2Fb", "/a%2fb", "/a;x", "/admin;jsessionid=1", "/a%5Cb", "/a%00", "/a/../../x"]
    static let trailerLines = ["X-User-Id: evil", "Content-Length: 5", "X-Trailer: t", "Host: evil", "X_User_Id: e"]

    static func generate(_ rng: inout SplitMix64, index: Int) -> Case {
        var c = Case()
        c.method = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"].randomElement(using: &rng)!
        var refusal: Int?
        (c.target, c.expectedTarget) = path(&rng)
        if c.expectedTarget.isEmpty { refusal = 400 }
        switch Int.random(in: 0..<20, using: &rng) {
        case 0: c.host = String(repeating: "h", count: 1100) + ".test"; refusal = 400
        case 1: c.host = "svc.test."
        default: break
        }
        var lines = ["Host: \(c.host)"]
        var fields: [(String, String)] = []
        for _ in 0..<Int.random(in: 0...5, using: &rng) {
            fields.append(("X-Field-\(Int.random(in: 1...3, using: &rng))", "v\(rng.next() % 100_000)"))
        }
        if Int.random(in: 0..<12, using: &rng) == 0 {
            fields.append(("X-Field-Big", String(repeating: "b", count: Int.random(in: 1000...64000, using: &rng))))
        }
        var spoofLines = (0..<Int.random(in: 0...4, using: &rng)).map { _ in spoofs.randomElement(using: &rng)! }
        let authorizations = [0, 0, 0, 0, 0, 1, 1, 2].randomElement(using: &rng)!
        if authorizations > 1 { refusal = 400 }
        spoofLines += Array(repeating: "Authorization: Basic dTpw", count: authorizations)
        var tokens = (0..<Int.random(in: 0...3, using: &rng)).map { _ in connectionTokens.randomElement(using: &rng)! }
        if Int.random(in: 0..<10, using: &rng) == 0 {
            // h2c must never become a tunnel: it is forwarded as a plain request without its upgrade fields.
            spoofLines += ["Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQAAP__"]
            tokens += ["Upgrade", "HTTP2-Settings"]
        }
        if Int.random(in: 0..<30, using: &rng) == 0 {
            tokens.append("close")
            c.connectionClose = true
        }
        if !tokens.isEmpty { spoofLines.append("Connection: " + tokens.joined(separator: ", ")) }
        let named = Set(tokens.map(TrustBoundaryPropertyTests.folded))
        if !named.isDisjoint(with: TrustBoundaryPropertyTests.owned) { refusal = 400 }
        // Interleave the client's fields with the spoofs; the kept ones must arrive in their order.
        var pending = spoofLines
        for field in fields {
            if !pending.isEmpty && Bool.random(using: &rng) { lines.append(pending.removeFirst()) }
            lines.append("\(field.0): \(field.1)")
        }
        lines += pending
        c.kept = fields.filter { !named.contains($0.0.lowercased()) }
        let bodyLines = body(&rng, into: &c)
        lines += bodyLines.fields
        let text = "\(c.method) \(c.target) HTTP/1.1\r\n" + lines.joined(separator: "\r\n") + "\r\n\r\n"
        // The header limit is checked first (431); near it, the gateway's own fields decide.
        let headSize = text.utf8.count
        if headSize > maxHeaderBytes + 64 {
            c.expected = .refused([431])
        } else if headSize > maxHeaderBytes - 4096 {
            c.expected = refusal.map { .refused([$0, 431]) } ?? .forwardedOrRefused(431)
        } else if let refusal {
            c.expected = .refused([refusal])
        }
        c.bytes = Array(text.utf8) + bodyLines.wire
        return c
    }

    /// A target and the path the upstream must see ("" when the gateway must refuse it).
    static func path(_ rng: inout SplitMix64) -> (String, String) {
        let query = Int.random(in: 0..<3, using: &rng) == 0 ? "?q=1&r=%2F" : ""
        if Int.random(in: 0..<15, using: &rng) == 0 { return (badPaths.randomElement(using: &rng)! + query, "") }
        let segments = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
            ["a", "b1", "c-d", "~x", "api", "v%41"].randomElement(using: &rng)!
        }
        let separator = Int.random(in: 0..<5, using: &rng) == 0 ? "//" : "/"
        let target = separator + segments.joined(separator: separator) + query
        let expected = "/" + segments.joined(separator: "/").replacingOccurrences(of: "%41", with: "A") + query
        return (target, expected)
    }

    /// Picks the body framing; returns the framing field lines and the body as sent on the wire.
    static func body(_ rng: inout SplitMix64, into c: inout Case) -> (fields: [String], wire: [UInt8]) {
        let roll = Int.random(in: 0..<10, using: &rng)
        guard roll >= 4 else { return ([], []) }
        if Int.random(in: 0..<4, using: &rng) == 0 {
            c.body = smuggled
        } else {
            c.body = (0..<Int.random(in: 0...2000, using: &rng)).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) }
        }
        if roll < 7 {
            c.framing = "length"
            return (["Content-Length: \(c.body.count)"], c.body)
        }
        c.framing = "chunked"
        var wire: [UInt8] = []
        var offset = 0
        while offset < c.body.count {
            let n = min(c.body.count - offset, Int.random(in: 1...700, using: &rng))
            let ext = Int.random(in: 0..<5, using: &rng) == 0 ? ";ext=1" : ""
            wire += Array("\(String(n, radix: 16))\(ext)\r\n".utf8) + c.body[offset..<(offset + n)] + [13, 10]
            offset += n
        }
        wire += Array("0\r\n".utf8)
        if Bool.random(using: &rng) {
            for _ in 0..<Int.random(in: 1...2, using: &rng) {
                wire += Array((trailerLines.randomElement(using: &rng)! + "\r\n").utf8)
            }
        }
        wire += [13, 10]
        return (["Transfer-Encoding: chunked"], wire)
    }
}
