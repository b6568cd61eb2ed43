import MeshHTTP1
import Testing

@Suite("HopByHop")
struct HopByHopTests {
    @Test func stripsFixedAndConnectionNamedFields() throws {
        let input = GuardedBuffer(
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Trace ,x-debug\r\nKeep-Alive: 5\r\n"
                + "X-Trace: 1\r\nX-Debug: 2\r\nX-Tracer: 3\r\nTE: trailers\r\nUpgrade: h2c\r\nAccept: */*\r\n\r\n")
        var headers = [HTTPHeaderField](repeating: .empty, count: 16)
        var parser = RequestParser()
        let result = headers.withUnsafeMutableBufferPointer { parser.parse(input.bytes, headers: $0) }
        let head = try #require(result.head)
        #expect(head.connectionHasCustomTokens)
        let kept = headers[0..<head.headerCount].withUnsafeBufferPointer { fields in
            fields.filter {
                !HopByHop.isHopByHop($0, in: input.bytes, headers: fields, connectionHasCustomTokens: true)
            }.map { input.string($0.nameStart, $0.nameLength) }
        }
        #expect(kept == ["Host", "X-Tracer", "Accept"])
    }

    @Test(arguments: [
        ("close", "close", true), ("a, b,c", "B", true), (" a , b ", "b", true), ("a,,b", "b", true),
        ("ab", "a", false), ("a-b", "a", false), ("", "a", false), ("a b", "a", false),
    ])
    func listContains(list: String, token: String, expected: Bool) {
        let l = Array(list.utf8)
        let t = Array(token.utf8)
        l.withUnsafeBytes { lb in t.withUnsafeBytes { tb in #expect(HopByHop.listContains(lb, tb) == expected) } }
    }
}
