import MeshTestSupport

/// Generates HTTP/2 requests for `HTTP2TrustBoundaryPropertyTests`, the h2 mirror of
/// `TrustBoundaryRequestGenerator`: the same owned and trusted fields in every h2-legal spelling (names are
/// lowercase in h2, `_` spellings included), duplicate credentials, heads up to and over the header limit,
/// bodies as DATA frames (padded or not, with or without `content-length`), trailers, cookies split across fields,
/// a `host` beside `:authority`, and the h2-only malformations (RFC 9113 §8.1.1, §8.2) — each request with the
/// model's verdict and, when it must be forwarded, the HTTP/1 request the upstream must receive.
enum HTTP2TrustBoundaryRequestGenerator {
    typealias Model = TrustBoundaryPropertyTests.Case

    /// What must come of a generated stream.
    enum Expected: Equatable {
        /// Forwarded: 200 from the echo upstream, which received exactly `model`.
        case forwarded
        /// Answered by the gateway with one of these statuses and a JSON error, never forwarded.
        case refused([Int])
        /// Near the header limit either answer is right (the gateway's own fields decide).
        case forwardedOrRefused(Int)
        /// RFC 9113 §8.1.1 malformed: RST_STREAM PROTOCOL_ERROR (or SPEC §10's 400), never forwarded.
        case malformed
        /// A header section over `max_header_bytes` (RFC 9113 §6.5.2 size): 431 on the stream when the last frame
        /// passes the limit, GOAWAY ENHANCE_YOUR_CALM when it is passed before END_HEADERS (SPEC §10).
        case tooLarge
    }

    struct Generated {
        var request: HTTP2FrameClient.StreamRequest
        var model: Model
        var expected: Expected
        /// The single `cookie` field the upstream must get (the h2 cookie fields joined with "; "), if any.
        var cookie: String?
        /// The fields as sent, for failure messages.
        var summary: String
    }

    static let maxHeaderBytes = 65536
    static let spoofs: [(String, String)] = [
        ("x-user-id", "evil"), ("x_user_id", "evil"), ("x-user_id", "evil"), ("content_length", "3"),
        ("transfer_encoding", "chunked"), ("x_forwarded_for", "6.6.6.6"),
        ("x-request-id", "client-id"), ("x_request_id", "evil"), ("forwarded", "for=6.6.6.6"),
        ("x-meshgate-deadline-ms", "1"), ("traceparent", "bogus"), ("proxy_connection", "close"), ("te", "trailers"),
        ("x-meshgate_deadline-ms", "1"), ("x-forwarded-client-cert", "Hash=00;URI=spiffe://forged"),
        ("x_forwarded_client_cert", "Hash=00"), ("x-forwarded-host", "evil.test"), ("x-forwarded-proto", "https"),
    ]
    /// Fields that make an h2 request malformed (RFC 9113 §8.2, §8.2.2, §8.3).
    static let malformations: [(String, String)] = [
        ("connection", "close"), ("keep-alive", "timeout=5"), ("proxy-connection", "keep-alive"),
        ("transfer-encoding", "chunked"), ("upgrade", "h2c"), ("te", "gzip"), ("X-Field-1", "upper"),
        ("Host", "svc.test"), ("x-v", "a\r\nx-user-id: evil"), ("x-v", "nul\u{0}"), (":protocol", "websocket"),
        (":status", "200"),
    ]
    static let trailerFields: [(String, String)] = [
        ("x-trailer", "t"), ("x-user-id", "evil"), ("content-length", "5"), ("host", "evil.test"), ("x_user_id", "e"),
    ]

    static func generate(_ rng: inout SplitMix64, index: Int) -> Generated {
        var model = Model()
        model.method = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"].randomElement(using: &rng)!
        var refusal: Int?
        var malformed = false
        (model.target, model.expectedTarget) = TrustBoundaryRequestGenerator.path(&rng)
        if model.expectedTarget.isEmpty { refusal = 400 }
        var authority = "svc.test"
        switch Int.random(in: 0..<20, using: &rng) {
        case 0: authority = String(repeating: "h", count: 1100) + ".test"; refusal = 400
        case 1: authority = "svc.test."
        default: break
        }
        model.host = authority
        var pseudo = [(":method", model.method), (":scheme", "http"), (":authority", authority), (":path", model.target)]
        var hostField: (String, String)?
        switch Int.random(in: 0..<12, using: &rng) {
        case 0: hostField = ("host", authority)  // allowed: the same authority twice
        case 1: hostField = ("host", "evil.test"); refusal = refusal ?? 400  // SPEC §10: differs from :authority
        case 2:
            pseudo.remove(at: 2)  // no :authority: `host` is the authority (RFC 9113 §8.3.1)
            hostField = ("host", authority)
        default: break
        }
        pseudo.shuffle(using: &rng)  // any order among pseudo-header fields
        // The client's own fields: the case marker first, then a few, maybe a big one.
        var fields: [(String, String)] = [("x-field-case", "\(index)")]
        for _ in 0..<Int.random(in: 0...5, using: &rng) {
            fields.append(("x-field-\(Int.random(in: 1...3, using: &rng))", "v\(rng.next() % 100_000)"))
        }
        if Int.random(in: 0..<8, using: &rng) == 0 {
            fields.append(("x-field-big", String(repeating: "b", count: Int.random(in: 1000...72000, using: &rng))))
        }
        var extra = (0..<Int.random(in: 0...4, using: &rng)).map { _ in spoofs.randomElement(using: &rng)! }
        let authorizations = [0, 0, 0, 0, 0, 1, 1, 2].randomElement(using: &rng)!
        if authorizations > 1 { refusal = refusal ?? 400 }
        extra += Array(repeating: ("authorization", "Basic dTpw"), count: authorizations)
        if Int.random(in: 0..<6, using: &rng) == 0 { extra += [("cookie", "a=1"), ("cookie", "b=\(index)")] }
        if Int.random(in: 0..<12, using: &rng) == 0 {
            extra.append(malformations.randomElement(using: &rng)!)
            malformed = true
        }
        if let hostField { extra.append(hostField) }
        // Interleave: the client's fields keep their order among themselves.
        var regular: [(String, String)] = []
        var pending = extra.shuffled(using: &rng)
        for field in fields {
            if !pending.isEmpty && Bool.random(using: &rng) { regular.append(pending.removeFirst()) }
            regular.append(field)
        }
        regular += pending
        model.kept = fields
        // RFC 9113 §8.2.3: the cookie fields, in the order sent, become one field joined with "; ".
        let cookies = regular.filter { $0.0 == "cookie" }.map(\.1)
        let cookie = cookies.isEmpty ? nil : cookies.joined(separator: "; ")

        // The body as DATA frames.
        var data: [(String, Int)] = []
        var trailers: [(String, String)]?
        var endOnHeaders = true
        let roll = Int.random(in: 0..<10, using: &rng)
        if roll >= 4 {
            endOnHeaders = false
            let text: String
            if Int.random(in: 0..<4, using: &rng) == 0 {
                text = String(decoding: TrustBoundaryRequestGenerator.smuggled, as: UTF8.self)
            } else {
                text = String((0..<Int.random(in: 0...2000, using: &rng)).map { _ in
                    Character(UnicodeScalar(UInt8.random(in: 0x20...0x7E, using: &rng)))
                })
            }
            model.body = Array(text.utf8)
            let bytes = Array(text.utf8)
            var offset = 0
            repeat {
                let n = min(bytes.count - offset, Int.random(in: 1...700, using: &rng))
                let pad = Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 0...40, using: &rng) : -1
                data.append((String(decoding: bytes[offset..<(offset + n)], as: UTF8.self), pad))
                offset += n
            } while offset < bytes.count
            if roll < 7 {
                model.framing = "length"
                var declared = bytes.count
                if Int.random(in: 0..<15, using: &rng) == 0 {
                    declared += Int.random(in: 1...5, using: &rng)  // more than the DATA: malformed (§8.1.1)
                    malformed = true
                }
                regular.insert(("content-length", "\(declared)"), at: Int.random(in: 0...regular.count, using: &rng))
            } else {
                model.framing = "chunked"
            }
            if Int.random(in: 0..<4, using: &rng) == 0 {
                trailers = (0..<Int.random(in: 1...2, using: &rng)).map { _ in trailerFields.randomElement(using: &rng)! }
            }
        }

        // Sizes: the h2 header section as the gateway measures it (RFC 9113 §6.5.2), and the HTTP/1 head the
        // bridge writes from it (request line, host, the fields but host/te/content-length/cookie, one cookie line,
        // framing, connection: close).
        let all = pseudo + regular
        let h2Size = all.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 32 }
        let dropped: Set<String> = ["host", "te", "content-length", "cookie"]
        var http1Size = model.method.count + model.target.utf8.count + 12 + 8 + authority.utf8.count + 19 + 28
        for (name, value) in regular where !dropped.contains(name) { http1Size += name.utf8.count + value.utf8.count + 4 }
        if let cookie { http1Size += cookie.utf8.count + 10 }
        let expected: Expected
        if h2Size > maxHeaderBytes {
            expected = .tooLarge
        } else if malformed {
            expected = .malformed
        } else if h2Size > maxHeaderBytes - 6000 || http1Size > maxHeaderBytes - 4096 {
            expected = refusal.map { .refused([$0, 431]) } ?? .forwardedOrRefused(431)
        } else if let refusal {
            expected = .refused([refusal])
        } else {
            expected = .forwarded
        }

        let representations = ["plain", "index", "never"]
        let wire = all.map { field in
            (field.0, field.1, representations.randomElement(using: &rng)!, Bool.random(using: &rng))
        }
        let request = HTTP2FrameClient.StreamRequest(
            fields: wire, split: [16384, 16384, 16384, 300, 50, 7].randomElement(using: &rng)!,
            endOnHeaders: endOnHeaders, data: data, trailers: trailers)
        let summary = all.map { "\($0.0): \($0.1.count > 80 ? "\($0.1.prefix(40))…(\($0.1.count))" : $0.1)" }
            .joined(separator: "\n") + "\nbody \(model.body.count) octets in \(data.count) DATA, "
            + "framing \(model.framing), trailers \(trailers.map { "\($0)" } ?? "none")"
        return Generated(request: request, model: model, expected: expected, cookie: cookie, summary: summary)
    }
}
