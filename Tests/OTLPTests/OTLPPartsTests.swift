import MeshConfig
import MeshResilience
import Testing

@testable import MeshGateway
@testable import MeshOTLP

/// The pure pieces: the collector's response head, `http.route` patterns, inline attempt storage.
struct OTLPPartsTests {
    struct HeadCase: Sendable, CustomStringConvertible {
        let text: String
        let status: Int?
        let complete: Bool
        var description: String { text.debugDescription }
    }

    static let heads: [HeadCase] = [
        HeadCase(text: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", status: 200, complete: true),
        HeadCase(text: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{", status: 200, complete: false),
        HeadCase(text: "HTTP/1.1 200 OK\r\ncontent-length:  0 \r\n\r\n", status: 200, complete: true),
        HeadCase(text: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, complete: true),
        HeadCase(text: "HTTP/1.0 503 Busy\r\nServer: x\r\n\r\nbody", status: 503, complete: false),
        HeadCase(text: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", status: nil, complete: false),
        HeadCase(text: "SSH-2.0-OpenSSH\r\n\r\n", status: nil, complete: false),
        HeadCase(text: "HTTP/1.1 2000 OK\r\n\r\n", status: nil, complete: false),
    ]

    @Test(arguments: heads) func responseHead(_ c: HeadCase) {
        let bytes = Array(c.text.utf8)
        let head = OTLPResponseHead.parse(bytes)
        #expect(head?.status == c.status)
        #expect((head?.isComplete(bytes.count) ?? false) == c.complete)
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
