import MeshHTTP1
import Testing

private func normalize(_ path: String) -> (PathNormalization, String) {
    let input = Array(path.utf8)
    var out = [UInt8](repeating: 0, count: max(input.count, 1))
    let result = input.withUnsafeBytes { p in out.withUnsafeMutableBytes { PathNormalizer.normalize(p, into: $0) } }
    if case .normalized(let length) = result { return (result, String(decoding: out[0..<length], as: UTF8.self)) }
    return (result, "")
}

@Suite("PathNormalizer")
struct PathNormalizerTests {
    /// RFC 3986 §5.4.1/§5.4.2 examples against base path "/b/c/d;p" (`;` replaced: SPEC §3 refuses it), merged (§5.2.3) before §5.2.4 runs;
    /// the "../../../g" rows climb above the root, which RFC 3986 clamps but SPEC §3 rejects.
    @Test(arguments: [
        ("/b/c/g", "/b/c/g"), ("/b/c/./g", "/b/c/g"), ("/b/c/g/", "/b/c/g/"), ("/b/c/.", "/b/c/"),
        ("/b/c/./", "/b/c/"), ("/b/c/..", "/b/"), ("/b/c/../", "/b/"), ("/b/c/../g", "/b/g"),
        ("/b/c/../..", "/"), ("/b/c/../../", "/"), ("/b/c/../../g", "/g"), ("/b/c/g.", "/b/c/g."),
        ("/b/c/.g", "/b/c/.g"), ("/b/c/g..", "/b/c/g.."), ("/b/c/..g", "/b/c/..g"),
        ("/b/c/./../g", "/b/g"), ("/b/c/./g/.", "/b/c/g/"), ("/b/c/g/./h", "/b/c/g/h"),
        ("/b/c/g/../h", "/b/c/h"), ("/b/c/g=1/./y", "/b/c/g=1/y"), ("/b/c/g=1/../y", "/b/c/y"),
        ("/a/b/c/./../../g", "/a/g"),
    ])
    func removesDotSegments(path: String, expected: String) {
        #expect(normalize(path) == (.normalized(length: expected.utf8.count), expected))
    }

    @Test(arguments: [
        ("/", "/"), ("", "/"), ("/a//b", "/a/b"), ("//", "/"), ("/a//../b", "/b"), ("/%7E", "/~"),
        ("/%7e%41%2d%2E%5f", "/~A-._"), ("/a%3Fb", "/a%3Fb"), ("/a%3fb", "/a%3Fb"), ("/%20x", "/%20x"),
        ("/a/%2e%2E/b", "/b"), ("/%2e/x", "/x"), ("/x?y", "/x?y"), ("///a///b//", "/a/b/"), ("/a/.//b", "/a/b"),
        ("//admin", "/admin"), ("/a/", "/a/"),
    ])
    func mergesDoubleSlashesAndDecodesOnlyUnreserved(path: String, expected: String) {
        #expect(normalize(path) == (.normalized(length: expected.utf8.count), expected))
    }

    @Test(arguments: ["/../x", "/..", "/a/../..", "/%2e%2e/x", "/./../x", "/a/b/../../../c", "/.%2E"])
    func climbingAboveRootIsRejected(path: String) {
        #expect(normalize(path).0 == .climbsAboveRoot)
    }

    @Test(arguments: [
        "x", "a/b", "*", "/%", "/%4", "/%G0", "/a b", "/a\tb", "/a\u{1}", "/\u{7F}", "/\u{E9}",
        // Regression: issue 10 — bytes upstreams read differently let a request skip a protected route.
        "/a%2Fb", "/a%2fb", "/a%5Cb", "/a%5cb", "/a\\b", "/admin;x", "/a;b/c", "/%00", "/a%00b",
    ])
    func malformedPathsAreInvalid(path: String) {
        #expect(normalize(path).0 == .invalid)
    }
}
