import MeshBlockingHTTP
import MeshConfig
import MeshPosix
import MeshResilience
import Testing

@testable import MeshGateway
@testable import MeshOTLP

/// The pure pieces: `http.route` patterns, inline attempt storage (the collector's response framing is
/// MeshBlockingHTTP's, tested in its ResponseReaderTests).
struct OTLPPartsTests {
    /// The blocking client's failures keep the exporter's log texts ("no complete response within N ms", "TLS: …").
    @Test(arguments: [
        (BlockingHTTPError.timeout(ms: 400), OTLPExportError.timeout(ms: 400)),
        (.tls("peer certificate rejected"), .tls("peer certificate rejected")),
        (.resolve("no addresses for x"), .resolve("no addresses for x")),
        (.system(SystemError(errno: 111, call: "connect")), .system(SystemError(errno: 111, call: "connect"))),
        (.badResponse("closed without a response"), .badResponse),
        (.tooLarge(limit: 65536), .badResponse),
    ])
    func clientErrorsMapOntoExportErrors(_ error: BlockingHTTPError, _ expected: OTLPExportError) {
        #expect(OTLPExportError(error) == expected)
    }

    @Test(arguments: [
        (PathMatch.exact("/public"), "/public"),
        (PathMatch.prefix("/api"), "/api/*"),
        (PathMatch.prefix("/"), "/*"),
        (PathMatch.template(segments: ["users", nil, "followers"], names: ["id"]), "/users/{id}/followers"),
        (PathMatch.template(segments: [nil, nil], names: ["a", "b"]), "/{a}/{b}"),
    ])
    func routePattern(_ match: PathMatch, _ expected: String) {
        #expect(OTLPNames.pattern(match) == expected)
    }

    @Test func attemptsKeepTheFirstFour() {
        var attempts = OTLPAttempts()
        for i in 0..<6 {
            let kept = attempts.append(
                OTLPAttempt(upstream: 0, endpoint: i, startNs: 0, endNs: 1, status: 0, outcome: .reset))
            #expect(kept == (i < OTLPAttempts.capacity))
        }
        #expect(attempts.count == OTLPAttempts.capacity)
        #expect((0..<attempts.count).map { attempts[$0].endpoint } == [0, 1, 2, 3])
        attempts.removeAll()
        #expect(attempts.count == 0)
    }

    @Test func queueRoundsUpAndRefusesWhenFull() {
        let queue = OTLPSpanQueue(capacity: 20)
        #expect(queue.capacity == 32)
        let names = OTLPNames(otlpConfig(endpoint: nil))
        for n in 0..<40 { queue.push(sampledRecord(UInt64(n)), names: names) }
        #expect(queue.count == 32)
        #expect(queue.droppedSpans == 8)
        var out: [OTLPSpanQueue.Entry] = []
        #expect(queue.pop(into: &out, max: 10) == 10)
        #expect(out.map(\.record.requestID) == (0..<10).map { "req-\($0)" })
        #expect(queue.count == 22)
    }
}
