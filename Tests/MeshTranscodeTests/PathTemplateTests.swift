import MeshTranscode
import Testing

/// The google.api.http template grammar: parse, match, bind, percent-decode, verbs, and malformed templates.
@Suite struct PathTemplateTests {
    /// (template, path, expected bindings as "field.path=value", nil for no match).
    static let cases: [(String, String, [String]?)] = [
        ("/v1/shelves", "/v1/shelves", []),
        ("/v1/shelves", "/v1/shelves/", nil),
        ("/v1/shelves", "/v1/shelve", nil),
        ("/v1/{name}", "/v1/abc", ["name=abc"]),
        ("/v1/{name}", "/v1/", nil),
        ("/v1/{name}", "/v1/a/b", nil),
        ("/v1/{name=shelves/*}/books/{book_id}", "/v1/shelves/s1/books/b2", ["name=shelves/s1", "book_id=b2"]),
        ("/v1/{name=shelves/*}/books/{book_id}", "/v1/shelfs/s1/books/b2", nil),
        ("/v1/{a.b.c}", "/v1/x", ["a.b.c=x"]),
        ("/v1/{name=users/*}/profile", "/v1/users/al%20ice/profile", ["name=users/al ice"]),
        // One segment: everything decodes, %2F included.
        ("/v1/{id}", "/v1/a%2Fb%3Ac", ["id=a/b:c"]),
        // Several segments: %2F stays encoded so the value still splits into segments.
        ("/v1/{name=shelves/*}", "/v1/shelves/a%2Fb%20c", ["name=shelves/a%2Fb c"]),
        ("/v1/{path=**}", "/v1/a/b/c", ["path=a/b/c"]),
        ("/v1/{path=**}", "/v1", ["path="]),
        ("/v1/{path=files/**}", "/v1/files/x%2fy/z", ["path=files/x%2fy/z"]),
        ("/v1/*/x", "/v1/anything/x", []),
        ("/v1/**", "/v1/a/b", []),
        // Literals compare after decoding.
        ("/v1/shelves", "/%761/shelves", []),
        // Verbs.
        ("/v1/profiles:get", "/v1/profiles:get", []),
        ("/v1/profiles:get", "/v1/profiles", nil),
        ("/v1/profiles:get", "/v1/profiles:put", nil),
        ("/v1/{name=books/*}:publish", "/v1/books/b1:publish", ["name=books/b1"]),
        ("/v1/{name=**}:undelete", "/v1/a/b:undelete", ["name=a/b"]),
        ("/v1/{name}", "/v1/b1:publish", ["name=b1:publish"]),
        // Malformed escapes and non-UTF-8 results never match.
        ("/v1/{id}", "/v1/a%2", nil),
        ("/v1/{id}", "/v1/a%zz", nil),
        ("/v1/{id}", "/v1/%ff", nil),
        ("/v1/{id}", "v1/a", nil),
    ]

    @Test(arguments: cases.indices) func matches(_ index: Int) throws {
        let (template, path, expected) = Self.cases[index]
        let t = try PathTemplate(template)
        let got = t.match(path).map { $0.map { $0.fieldPath.joined(separator: ".") + "=" + $0.value } }
        #expect(got == expected, "\(template) against \(path)")
    }

    @Test func structure() throws {
        let t = try PathTemplate("/v1/{name=shelves/*}/books/{book_id}:move")
        #expect(t.segments == [.literal("v1"), .literal("shelves"), .single, .literal("books"), .single])
        #expect(t.variables.map(\.range) == [1..<3, 4..<5])
        #expect(t.verb == "move" && t.literalCount == 4)
        #expect(try PathTemplate("/v1/*").literalCount < PathTemplate("/v1/x").literalCount)
    }

    static let malformed: [String] = [
        "", "v1/x", "/", "/v1/", "/v1//x", "/v1/{", "/v1/{}", "/v1/{a.}", "/v1/{1a}", "/v1/{a=}", "/v1/{a=b{c}}",
        "/v1/{a}/{a}", "/v1/**/x", "/v1/{a=**}/b", "/v1/x:", "/v1/x:a/b", "/v1/{a b}", "/v1/x}", "/v1/***",
        "/v1/%41", "/v1/x?y",
    ]

    @Test(arguments: malformed) func rejects(_ template: String) {
        #expect(throws: PathTemplateError.self, "\(template)") { try PathTemplate(template) }
    }
}
