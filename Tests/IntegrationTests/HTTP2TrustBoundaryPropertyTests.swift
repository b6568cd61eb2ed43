import Glibc
import MeshTestSupport
import Testing

/// SPEC §4's trust boundary stated over HTTP/2 (SPEC §10): generated requests sent as h2 streams — raw frames with
/// HPACK literals, indexed and never-indexed fields, Huffman or not, blocks split into CONTINUATION frames, padded
/// DATA — reach the HTTP/1 upstream exactly as the gateway's HTTP/1 framing of what the client sent (method,
/// normalized path, `:authority` as the one `host`, the body bytes with the gateway's `content-length` or chunked
/// framing, the client's fields in order, the cookie fields joined, none of the client's copies of owned or trusted
/// fields in any spelling, no trailers), or are refused (a JSON error, RST_STREAM PROTOCOL_ERROR for malformed
/// requests, GOAWAY ENHANCE_YOUR_CALM for a header section passing the limit before its end) and never reach it.
@Suite struct HTTP2TrustBoundaryPropertyTests {
    typealias Generator = HTTP2TrustBoundaryRequestGenerator

    @Test(arguments: [0x6832_7472_7573_7431 as UInt64, 0x6D65_7368_6761_7465, 0x0000_0000_0000_0021])
    func upstreamReceivesExactlyTheRoutedStreams(seed: UInt64) throws {
        let upstream = try TestUpstream(.echo)
        defer { upstream.shutdown() }
        let port = try TestSocket.freePort()
        let json = TrustBoundaryPropertyTests.config.replacingOccurrences(of: "UPSTREAM", with: "\(upstream.port)")
            .replacingOccurrences(of: "PORT", with: "\(port)")
        let gateway = try GatewayProcess(configJSON: json, port: port)
        defer { _ = gateway.stop() }

        var rng = SplitMix64(state: seed)
        let cases = (0..<60).map { Generator.generate(&rng, index: $0) }
        let results = try HTTP2FrameClient.runStreams(port: port, cases.map(\.request))
        try #require(results.count == cases.count, "the client stopped after \(results.count) streams")

        if getenv("MESHGATE_H2_TRACE") != nil {
            for (c, r) in zip(cases, results) { print("[h2 property \(seed)] \(c.expected) → \(r.description.prefix(140))") }
        }
        var forwarded = 0
        for (index, (c, result)) in zip(cases, results).enumerated() {
            let context = "case \(index) (seed \(seed)): \(c.model.method) \(c.model.target) → \(result)\n\(c.summary)"
            let refusedJSON = result.status != nil && result.body.contains("\"error\":")
            switch c.expected {
            case .forwarded:
                #expect(result.status == 200, "\(context)")
            case .refused(let statuses):
                #expect(result.status.map(statuses.contains) == true && refusedJSON, "\(context)")
            case .forwardedOrRefused(let status):
                #expect(result.status == 200 || (result.status == status && refusedJSON), "\(context)")
            case .malformed:
                #expect(result.reset == H2Wire.Code.protocolError || (result.status == 400 && refusedJSON), "\(context)")
            case .tooLarge:
                #expect((result.status == 431 && refusedJSON) || result.goAway == H2Wire.Code.enhanceYourCalm,
                        "\(context)")
            }
            #expect(!result.timedOut, "\(context)")
            // Nothing but a forwarded stream reaches the upstream, and a forwarded one arrives once, as modelled.
            let received = upstream.requests.filter { $0.head.header("x-field-case") == "\(index)" }
            if result.status == 200 {
                forwarded += 1
                #expect(received.count == 1, "\(context)\nupstream got \(received)")
                if let got = received.first {
                    TrustBoundaryPropertyTests.check(got, against: c.model, context: context)
                    #expect(got.version == "HTTP/1.1", "\(context)")
                    #expect(got.head.headers("cookie") == (c.cookie.map { [$0] } ?? []), "\(context)\n\(got.head.text)")
                }
            } else {
                #expect(received.isEmpty, "\(context)\nupstream got \(received)")
            }
        }
        // Every request the upstream saw was one the model forwarded: nothing smuggled, nothing twice.
        #expect(upstream.requests.count == forwarded, "\(upstream.requests)")
        #expect(!upstream.requests.contains { $0.target.hasPrefix("/smuggled") })
        #expect(gateway.isRunning)
        // The property covered each verdict at least once per seed (a generator change that stops producing one
        // would otherwise go unnoticed).
        let verdicts = Set(cases.map { "\($0.expected)".prefix(8) })
        #expect(verdicts.contains("forwarde") && verdicts.contains("refused(") && verdicts.contains("malforme"),
                "verdicts \(verdicts)")
    }
}
