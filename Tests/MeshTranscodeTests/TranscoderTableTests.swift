import MeshProtobuf
import MeshTranscode
import Testing

/// Routing REST requests across all methods of library.proto.
@Suite struct TranscoderTableTests {
    @Test func routes() throws {
        let table = try TranscoderTable(pool: try TranscodeTools.pool())
        // Upload is client streaming without an HTTP rule: neither served nor listed.
        #expect(table.transcoders.count == 9 && table.skipped.isEmpty)
        let cases: [(String, String, String?, String)] = [
            ("GET", "/v1/shelves/s1/books/b1", "GetBook", "name=shelves/s1/books/b1"),
            ("GET", "/v1/books/x/y", "GetBook", "name=x/y"),
            ("POST", "/v1/books:get", "GetBook", ""),
            ("GET", "/v1/shelves/s1/books", "ListBooks", "parent=shelves/s1"),
            ("POST", "/v1/shelves/s1/books", "CreateBook", "parent=shelves/s1"),
            ("POST", "/v1/shelves/s1/books/b1:import", "ImportBook", "name=shelves/s1/books/b1"),
            ("PATCH", "/v1/shelves/s1/books/b1", "UpdateBook", "book.name=shelves/s1/books/b1"),
            ("POST", "/v1/shelves/s1/books/b1:tag", "TagBook", "name=shelves/s1/books/b1"),
            ("GET", "/v1/shelves/s1/books/b1/title", "GetTitle", "name=shelves/s1/books/b1"),
            ("GET", "/v1/shelves/s1/books/b1/author", "GetAuthor", "name=shelves/s1/books/b1"),
            ("GET", "/v1/shelves/s1/books:watch", "WatchBooks", "parent=shelves/s1"),
            ("GET", "/v1/nothing", nil, ""),
            ("DELETE", "/v1/shelves/s1/books/b1", nil, ""),
            // A template without a verb takes a colon as part of the segment (gRPC-Gateway's mux does the same):
            // GET of the TagBook path is GetBook of a book named "b1:tag".
            ("GET", "/v1/shelves/s1/books/b1:tag", "GetBook", "name=shelves/s1/books/b1:tag"),
        ]
        for (verb, path, method, vars) in cases {
            let found = table.match(httpMethod: verb, path: path)
            #expect(found?.transcoder.method.name == method, "\(verb) \(path)")
            let got = found?.matched.variables.map { $0.fieldPath.joined(separator: ".") + "=" + $0.value }
            #expect((got ?? []).joined(separator: "&") == vars, "\(verb) \(path)")
        }
    }

    /// routes.proto: a client-streaming method with an HTTP rule is listed as skipped; broken.proto: a rule
    /// naming a missing field fails the whole table, naming the method.
    @Test func skippedAndBroken() throws {
        let pool = try DescriptorPool(descriptorSet: try TranscodeTools.compile("transcodetest/v1/routes.proto"))
        let table = try TranscoderTable(pool: pool)
        #expect(table.transcoders.keys.sorted() == ["/transcodetest.routes.Uploads/Get"])
        #expect(table.skipped.map(\.path) == ["/transcodetest.routes.Uploads/Upload"])
        #expect(table.match(httpMethod: "POST", path: "/v1/uploads") == nil)
        let broken = try DescriptorPool(descriptorSet: try TranscodeTools.compile("transcodetest/v1/broken.proto"))
        do {
            _ = try TranscoderTable(pool: broken)
            Issue.record("the Broken service's rule was accepted")
        } catch {
            guard case .invalidBinding(let message) = error else { throw error }
            #expect(message.contains("/transcodetest.routes.Broken/Get") && message.contains("{missing}"), "\(message)")
        }
        let upload = try #require(pool.method(path: "/transcodetest.routes.Uploads/Upload"))
        #expect(throws: TranscodeError.invalidBinding("/transcodetest.routes.Uploads/Upload: client streaming")) {
            try Transcoder(pool: pool, method: upload)
        }
    }
}
