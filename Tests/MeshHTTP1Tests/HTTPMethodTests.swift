import MeshHTTP1
import Testing

/// `HTTPMethod.isIdempotent` is the gateway's one rule for "may be sent again" (retries and stale keep-alive
/// replays): SPEC §3 lists GET, HEAD, OPTIONS, PUT and DELETE, nothing else.
@Suite struct HTTPMethodTests {
    // Regression: issue 10 — TRACE was retried (the rule followed RFC 9110's list, not SPEC §3's).
    @Test(arguments: [
        ("GET", true), ("HEAD", true), ("OPTIONS", true), ("PUT", true), ("DELETE", true), ("POST", false),
        ("PATCH", false), ("TRACE", false), ("PROPFIND", false), ("GETX", false), ("get", false),
        ("CONNECT", false),
    ])
    func onlySpecMethodsAreIdempotent(method: String, expected: Bool) throws {
        let target = method == "CONNECT" ? "example.com:443" : "/x"
        let input = GuardedBuffer("\(method) \(target) HTTP/1.1\r\nHost: example.com\r\n\r\n")
        let (result, _) = parseRequest(input)
        let head = try #require(result.head, "\(result)")
        #expect(head.method.isIdempotent == expected, "\(method) parsed as \(head.method)")
    }
}
