import Glibc
import MeshTestSupport
import Testing

/// SPEC §4's response side stated over HTTP/2 (SPEC §10): for generated upstream answers — hop-by-hop fields in
/// any spelling, Connection tokens naming custom fields, the gateway's own fields copied by the upstream, the
/// route's `response_headers` edits, repeated fields, chunked, sized and bodiless answers — an h2 client reads
/// exactly the fields an HTTP/1.1 client reads of the same answer (names lowercased, without the connection and
/// framing fields HTTP/2 does not carry), and the same status and body. The h2 stream's head is handed from the
/// connection to the stream as fields (`StreamPipe.handOver`), the HTTP/1 head is written as text: one builder
/// makes both, and this holds them to it.
@Suite struct HTTP2ResponseHeadPropertyTests {
    static let names = [
        "X-Custom-A", "x-custom-b", "Cache-Control", "Set-Cookie", "Connection", "Keep-Alive", "Proxy-Connection",
        "TE", "Trailer", "Upgrade", "X-Meshgate-Fallback", "X-Request-Id", "x-remove-me", "X-REMOVE-ME", "Vary",
        "x-served-by",
    ]
    static let connectionTokens = ["keep-alive", "close", "x-custom-a", "X-Custom-B", "vary", "upgrade"]

    static func reply(_ rng: inout SplitMix64) -> UpstreamReply {
        var fields: [(String, String)] = []
        for _ in 0..<Int(rng.next() % 9) {
            let name = names[Int(rng.next() % UInt64(names.count))]
            let value: String
            if name.lowercased() == "connection" {
                value = (0...Int(rng.next() % 2)).map { _ in connectionTokens[Int(rng.next() % 6)] }.joined(separator: ", ")
            } else {
                value = "v\(rng.next() % 1000)"
            }
            fields.append((name, value))
        }
        let status = [200, 200, 201, 204, 304, 404][Int(rng.next() % 6)]
        let body = String(repeating: "b", count: Int(rng.next() % 40))
        return UpstreamReply(status: status, headers: fields, body: body, chunked: rng.next() % 2 == 0)
    }

    /// Status, fields (lowercased names, in order, `x-request-id` values blanked) and body of a `curl -i` answer.
    static func parse(_ text: String) -> (status: String, fields: [String], body: String) {
        guard let end = text.range(of: "\r\n\r\n") else { return ("", [], text) }
        var lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
        let status = lines.removeFirst().split(separator: " ").dropFirst().first.map(String.init) ?? ""
        let fields = lines.map { line -> String in
            let colon = line.firstIndex(of: ":") ?? line.endIndex
            let name = line[..<colon].lowercased()
            let value = line[colon...].dropFirst().trimmingCharacters(in: .whitespaces)
            return name == "x-request-id" ? name : "\(name): \(value)"
        }
        return (status, fields, String(text[end.upperBound...]))
    }

    /// What HTTP/2 does not carry (RFC 9113 §8.2.2), and the HTTP/1 framing it replaces with its own.
    static let http1Only: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]

    @Test(arguments: [UInt64(0x6865_6164_7331), 0x7374_7265_616D, 7])
    func anH2ClientReadsTheFieldsAnHTTP1ClientReads(seed: UInt64) throws {
        var rng = SplitMix64(state: seed)
        let replies = (0..<30).map { _ in Self.reply(&rng) }
        let bed = try Testbed(upstreams: ["app": .byTarget { target in
            .fixed(replies[Int(target.split(separator: "/").last ?? "0") ?? 0])
        }]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route("/", to: "app", #""name": "all", "response_headers": { "set": { "x-served-by": "meshgate" }, "remove": ["x-remove-me"] }"#)],
                upstreams: ["app": TestConfig.upstream([ports["app"]])])
        }
        defer { bed.stop() }
        let url = "http://127.0.0.1:\(bed.ports.listener)/v/"
        for (i, reply) in replies.enumerated() {
            let h1 = try Tool.curl(["-s", "-i", "\(url)\(i)"])
            let h2 = try Tool.curl(["-s", "-i", "--http2-prior-knowledge", "\(url)\(i)"])
            #expect(h1.termination == .exited(0) && h2.termination == .exited(0), "\(i): \(h1.stderr) \(h2.stderr)")
            let one = Self.parse(h1.stdout)
            let two = Self.parse(h2.stdout)
            let expected = one.fields.filter { !Self.http1Only.contains(String($0.prefix { $0 != ":" })) }
            #expect(two.status == one.status && one.status == "\(reply.status)", "\(i): \(h1.stdout) | \(h2.stdout)")
            #expect(two.fields == expected, "\(i): \(reply.headers) → HTTP/1 \(one.fields) HTTP/2 \(two.fields)")
            #expect(two.body == one.body, "\(i)")
            #expect(one.fields.contains("x-request-id") && one.fields.contains("x-served-by: meshgate"), "\(i)")
            #expect(!two.fields.contains { $0.hasPrefix("x-remove-me") || $0.hasPrefix("x-meshgate-fallback") }, "\(i)")
        }
    }
}
