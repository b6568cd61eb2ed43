import MeshHTTP1
import MeshProxy
import MeshTestSupport
import Testing

/// The framing rule of `ResponseHeadBuilder` as a property over generated upstream heads: whatever the upstream's
/// fields and Connection tokens, the client head parses (strictly) to the same framing as the upstream head,
/// carries the gateway's request id once, no hop-by-hop field, and every other field unchanged and in order.
@Suite struct ResponseHeadFramingPropertyTests {
    /// Names a Connection header may list: framing, the gateway's own fields, known end-to-end fields, customs.
    static let tokens = [
        "content-length", "Content-Length", "transfer-encoding", "x-request-id", "connection", "keep-alive", "close",
        "upgrade", "te", "trailer", "date", "server", "cookie", "x-custom-1", "X-Custom-2", "x-absent",
    ]
    static let customNames = ["x-custom-1", "X-Custom-2", "x-other", "Date", "Server", "Content-Type", "X-Request-Id"]

    struct Case {
        var text: String
        var method: HTTPMethod
        /// Field lines the client must get, in order (name as sent, value).
        var kept: [(String, String)]
    }

    static func generate(_ rng: inout SplitMix64) -> Case {
        let status = [200, 200, 201, 204, 304, 404, 500][Int.random(in: 0..<7, using: &rng)]
        let method: HTTPMethod = Int.random(in: 0..<5, using: &rng) == 0 ? .head : .get
        var lines: [(String, String)] = []
        var connection: [String] = []
        for _ in 0..<Int.random(in: 0...3, using: &rng) {
            connection.append(tokens[Int.random(in: 0..<tokens.count, using: &rng)])
        }
        for k in 0..<Int.random(in: 0...12, using: &rng) {
            let name = customNames[Int.random(in: 0..<customNames.count, using: &rng)]
            lines.append((name, "v\(k)-" + String(repeating: "x", count: Int.random(in: 0...40, using: &rng))))
        }
        if !connection.isEmpty {
            lines.insert(
                ("Connection", connection.joined(separator: ", ")), at: Int.random(in: 0...lines.count, using: &rng))
        }
        let named = Set(connection.map { $0.lowercased() })
        let kept = lines.filter { name, _ in
            let lower = name.lowercased()
            if lower == "connection" || lower == "x-request-id" { return false }
            // Only custom (unknown) fields can be named away.
            return !(named.contains(lower) && lower.hasPrefix("x-"))
        }
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: lines.append(("Content-Length", "\(Int.random(in: 0...99_999, using: &rng))"))
        case 1: lines.append(("Transfer-Encoding", "chunked"))
        case 2: lines.append(("Content-Length", "12, 12"))
        default: break
        }
        let text = "HTTP/1.1 \(status) S\r\n" + lines.map { "\($0.0): \($0.1)\r\n" }.joined() + "\r\n"
        return Case(text: text, method: method, kept: kept)
    }

    /// Parses `text` as a response head to `method`; the fields are returned as (name, value) strings.
    static func parse(_ text: String, method: HTTPMethod) -> (ResponseHead, [(String, String)])? {
        let headers = UnsafeMutableBufferPointer<HTTPHeaderField>.allocate(capacity: 100)
        defer { headers.deallocate() }
        return Array(text.utf8).withUnsafeBytes { buffer in
            var parser = ResponseParser()
            guard case .complete(let head) = parser.parse(buffer, headers: headers, requestMethod: method) else {
                return nil
            }
            let fields = (0..<head.headerCount).map { i in
                (
                    String(decoding: headers[i].name(in: buffer), as: UTF8.self),
                    String(decoding: headers[i].value(in: buffer), as: UTF8.self)
                )
            }
            return (head, fields)
        }
    }

    @Test(arguments: 0..<8)
    func clientHeadFramesLikeTheUpstreamHead(_ batch: Int) throws {
        let builder = ResponseHeadBuilderTests()
        for index in 0..<250 {
            let seed = UInt64(batch * 1000 + index)
            var rng = SplitMix64(state: seed)
            let generated = Self.generate(&rng)
            guard let (upstream, _) = Self.parse(generated.text, method: generated.method) else {
                Issue.record("seed \(seed): generator made an unparsable head:\n\(generated.text)")
                continue
            }
            let out = try #require(
                try builder.clientHead(
                    generated.text, route: nil, persistence: .keepAlive, method: generated.method))
            guard let (client, fields) = Self.parse(out, method: generated.method) else {
                Issue.record("seed \(seed): client head does not parse:\n\(out)")
                continue
            }
            #expect(client.framing == upstream.framing, "seed \(seed):\n\(generated.text)->\n\(out)")
            let ids = fields.filter { $0.0.lowercased() == "x-request-id" }.map(\.1)
            #expect(ids == ["rid"], "seed \(seed): \(out)")
            let hop: Set = ["connection", "keep-alive", "te", "trailer", "upgrade", "proxy-connection"]
            #expect(!fields.contains { hop.contains($0.0.lowercased()) }, "seed \(seed): \(out)")
            let ordinary = fields.filter {
                !["content-length", "transfer-encoding", "x-request-id"].contains($0.0.lowercased())
            }
            #expect(
                ordinary.map { "\($0.0): \($0.1)" } == generated.kept.map { "\($0.0): \($0.1)" },
                "seed \(seed):\n\(generated.text)->\n\(out)")
        }
    }
}
