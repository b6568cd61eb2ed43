import Foundation
import MeshTestSupport
import Testing

/// SPEC §4, issue 10: the response path never desyncs or misleads the client. Over generated upstream responses
/// (Connection tokens naming framing and the gateway's own fields, field counts and sizes up to the limits,
/// Content-Length / chunked / close-delimited, trailers, 1xx before the final, with and without
/// `response_headers` edits), a client that pipelines N requests gets exactly N responses in order, each framed
/// by the gateway and byte-exact, or a 502 `bad_gateway` JSON error when the upstream's response was invalid.
@Suite(.serialized) struct ResponseBoundaryTests {
    static let variantsPerGateway = 36

    /// Generous breaker and no retries: every request is one attempt, and repeated invalid answers of one
    /// variant must not open its breaker (that would be a 503, a different property).
    static let upstreamExtra = #""circuit_breaker": {"consecutive_failures": 100000}"#

    /// A gateway with one raw upstream and route per generated variant.
    static func rig(seed: UInt64) throws -> (Rig, [ResponseVariant]) {
        var rng = SplitMix64(state: seed)
        let variants = (0..<variantsPerGateway).map { _ in ResponseVariant.generate(&rng) }
        var behaviors: [String: UpstreamBehavior] = [:]
        for (i, variant) in variants.enumerated() { behaviors["u\(i)"] = variant.behavior }
        let rig = try Rig(
            upstreams: behaviors, routes: variants.enumerated().map { $1.route($0) }, upstreamExtra: upstreamExtra)
        return (rig, variants)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func pipelinedClientsGetExactlyTheirResponses(_ seed: UInt64) throws {
        let (rig, variants) = try Self.rig(seed: seed)
        var rng = SplitMix64(state: seed &* 7919)
        var sent: [Int: Int] = [:]
        for round in 0..<8 {
            // Requests up to (and including) the first one whose response ends the connection.
            var plan: [(index: Int, method: String)] = []
            for _ in 0..<Int.random(in: 1...10, using: &rng) {
                let index = Int.random(in: 0..<variants.count, using: &rng)
                let method = Int.random(in: 0..<5, using: &rng) == 0 ? "HEAD" : "GET"
                plan.append((index, method))
                if variants[index].endsConnection(method) { break }
            }
            let client = try rig.client()
            try client.send(plan.map { "\($0.method) /v\($0.index)/r HTTP/1.1\r\nHost: test.local\r\n\r\n" }.joined())
            for (n, step) in plan.enumerated() {
                let context =
                    "seed \(seed) round \(round) request \(n) of \(plan.count): \(step.method) variant "
                    + "\(step.index) (\(variants[step.index]))"
                sent[step.index, default: 0] += 1
                try Self.expectResponse(client, variants[step.index], step.method, context)
            }
            if let last = plan.last, variants[last.index].endsConnection(last.method) {
                #expect(client.serverClosed(), "seed \(seed) round \(round): connection should end")
            } else {
                // Nothing stray between responses: the next request on the same connection is answered exactly.
                let sentinel = variants.firstIndex { $0.defect == nil && $0.framing == .length }
                if let sentinel {
                    try client.send("GET /v\(sentinel)/s HTTP/1.1\r\nHost: test.local\r\n\r\n")
                    sent[sentinel, default: 0] += 1
                    try Self.expectResponse(client, variants[sentinel], "GET", "seed \(seed) round \(round) sentinel")
                }
            }
        }
        Self.expectInvalidAnswersClosedTheirConnection(rig, variants, sent: sent, seed: seed)
        rig.expectCleanStop()
    }

    /// An invalid response closes that upstream connection: every request to a defective variant came on its own
    /// connection (a HEAD answered from a variant with a broken body leaves those bytes unread, so it closes too).
    static func expectInvalidAnswersClosedTheirConnection(
        _ rig: Rig, _ variants: [ResponseVariant], sent: [Int: Int], seed: UInt64
    ) {
        for (index, count) in sent where variants[index].defect != nil {
            let upstream = rig.upstreams["u\(index)"]!
            upstream.waitForRequests(count)
            #expect(
                upstream.connectionCount == upstream.requests.count,
                "seed \(seed) variant \(index): \(upstream.requests.count) requests on \(upstream.connectionCount) connections"
            )
        }
    }

    /// Reads one response and checks it against `variant`.
    static func expectResponse(
        _ client: RawClient, _ variant: ResponseVariant, _ method: String, _ context: String
    ) throws {
        let response = try StrictResponse.read(client.reader, method: method, context: context)
        if variant.isInvalid(method) {
            #expect(response.status == 502, "\(context)\n\(response.head.text)")
            if method != "HEAD" {
                #expect(response.jsonString("error") == "bad_gateway", "\(context): \(response.bodyText)")
            }
            return
        }
        #expect(response.status == variant.status, "\(context)\n\(response.head.text)")
        #expect(response.head.headers("x-request-id").count == 1, "\(context)\n\(response.head.text)")
        if variant.hasBody(method) {
            #expect(response.body == variant.body, "\(context): body \(response.body.count) bytes")
        }
        if variant.edits {
            #expect(response.head.headers("x-added").count == 1, "\(context)\n\(response.head.text)")
        }
        // The gateway writes its own `connection` (persistence only) and `x-request-id` (checked above).
        #expect(response.head.headers("connection").allSatisfy { $0 == "close" }, "\(context)\n\(response.head.text)")
        for name in variant.dropped where name != "x-request-id" && name != "connection" {
            #expect(!response.head.has(name), "\(context): \(name) forwarded\n\(response.head.text)")
        }
        let forwarded = response.head.fields.filter { field in variant.kept.contains { $0.0 == field.name } }
        #expect(
            forwarded.map { "\($0.name): \($0.value)" } == variant.kept.map { "\($0.0): \($0.1)" },
            "\(context)\n\(response.head.text)")
        if method == "HEAD" || variant.status == 304, variant.status != 204, variant.framing == .length {
            #expect(response.head.headers("content-length") == ["\(variant.body.count)"], "\(context)")
        }
    }
}

/// A response read the way a strict client reads it (RFC 9112 §6.3): one Content-Length or a final chunked
/// Transfer-Encoding, never both, never several; no interim 1xx (the gateway drops them); a body without
/// either only on a connection that says it closes.
struct StrictResponse {
    let head: HTTPHead
    let body: [UInt8]
    var status: Int { Int(head.startLine[1]) ?? 0 }
    var bodyText: String { String(decoding: body, as: UTF8.self) }

    func jsonString(_ key: String) -> String? {
        ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?[key] as? String
    }

    static func read(_ reader: ByteReader, method: String, context: String) throws -> StrictResponse {
        guard let raw = try reader.readHead() else {
            Issue.record("\(context): connection closed before a response head")
            throw TestSupportError("no head")
        }
        let head = HTTPHead(raw: raw)
        let status = Int(head.startLine[1]) ?? 0
        #expect(head.startLine[0] == "HTTP/1.1" && (200...599).contains(status), "\(context)\n\(head.text)")
        let lengths = head.headers("content-length")
        let encodings = head.headers("transfer-encoding")
        #expect(lengths.count <= 1 && encodings.count <= 1, "\(context): repeated framing\n\(head.text)")
        #expect(lengths.isEmpty || encodings.isEmpty, "\(context): both framings\n\(head.text)")
        #expect(encodings.allSatisfy { $0 == "chunked" }, "\(context)\n\(head.text)")
        var body: [UInt8] = []
        let sink: (UnsafeRawBufferPointer) -> Void = { body += $0 }
        if method == "HEAD" || status == 204 || status == 304 {
            #expect(status != 204 || lengths.isEmpty, "\(context): 204 with a length\n\(head.text)")
        } else if !encodings.isEmpty {
            _ = try reader.readChunked(sink: sink)
        } else if let length = lengths.first.flatMap({ Int($0) }) {
            try reader.readExact(length, sink: sink)
        } else {
            #expect(head.header("connection") == "close", "\(context): unframed body on a kept connection")
            try reader.readToEnd(sink: sink)
        }
        return StrictResponse(head: head, body: body)
    }
}
