import MeshProtobuf
import MeshTranscode
import Testing

/// REST request → gRPC request bytes, for every binding shape of library.proto. Our framed bytes are unframed
/// and decoded by `protoc --decode`; its text format is compared with the expected text line by line
/// (indentation ignored).
@Suite struct TranscoderRequestTests {
    static func transcoder(_ method: String) throws -> Transcoder {
        let pool = try TranscodeTools.pool()
        let m = try #require(pool.method(path: "/transcodetest.v1.Library/\(method)"))
        return try Transcoder(pool: pool, method: m)
    }

    /// protoc's text for the request that `httpMethod path?query` with `body` becomes.
    static func requestText(
        _ method: String, _ httpMethod: String, _ path: String, query: String = "", body: String = ""
    ) throws -> [String] {
        let t = try transcoder(method)
        let matched = try #require(t.bindings.match(httpMethod: httpMethod, path: path), "\(httpMethod) \(path)")
        let framed = try t.request(matched, query: query, body: Array(body.utf8))
        var decoder = GRPCFrameDecoder()
        let messages = try decoder.feed(framed)
        try decoder.finish()
        try #require(messages.count == 1)
        return lines(try TranscodeTools.decode(String(t.method.inputType.dropFirst()), messages[0]))
    }

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n").map { $0.trimmingPrefix(while: { $0 == " " }) }.map(String.init)
    }

    static func expectRequest(
        _ method: String, _ httpMethod: String, _ path: String, query: String = "", body: String = "",
        _ expected: String
    ) throws {
        let got = try requestText(method, httpMethod, path, query: query, body: body)
        #expect(got == lines(expected), "\(httpMethod) \(path)?\(query) \(body)")
    }

    /// GET with a multi-segment path variable (percent-decoded), query parameters for a bool, a repeated int64
    /// (repeated keys) and an enum by name.
    @Test func getWithPathAndQuery() throws {
        try Self.expectRequest(
            "GetBook", "GET", "/v1/shelves/s1/books/b%201", query: "withAuthor=true&ids=1&ids=-2&genre=SCIENCE",
            """
            name: "shelves/s1/books/b 1"
            with_author: true
            ids: 1
            ids: -2
            genre: SCIENCE
            """)
    }

    /// additional_bindings: a `**` variable, and a POST with body "*" (query parameters are not read then).
    @Test func additionalBindings() throws {
        try Self.expectRequest("GetBook", "GET", "/v1/books/a/b/c", #"name: "a/b/c""#)
        try Self.expectRequest(
            "GetBook", "POST", "/v1/books:get", query: "genre=FICTION&nonsense=1",
            body: #"{"name":"x","withAuthor":true,"ids":["5",6]}"#,
            """
            name: "x"
            with_author: true
            ids: 5
            ids: 6
            """)
    }

    /// Nested query fields (`filter.author`, proto and JSON names), form decoding, bytes in URL-safe base64, a
    /// float, a wrapper set to false, a repeated enum by name and number, sint64, a double in exponent form.
    @Test func nestedQueryParameters() throws {
        try Self.expectRequest(
            "ListBooks", "GET", "/v1/shelves/s1/books",
            query:
                "page_size=10&pageToken=a+b%26c&filter.author=Ann&filter.minPages=100&filter.token=AAH_"
                + "&filter.min_rating=4.5&filter.available=false&filter.genres=FICTION&filter.genres=2"
                + "&filter.offset=-7&maxPrice=1e3",
            """
            parent: "shelves/s1"
            page_size: 10
            page_token: "a b&c"
            filter {
            author: "Ann"
            min_pages: 100
            token: "\\000\\001\\377"
            min_rating: 4.5
            available {
            }
            genres: FICTION
            genres: SCIENCE
            offset: -7
            }
            max_price: 1000
            """)
    }

    /// Float spellings Go's `ParseFloat` accepts too; an integer at its limit; a bool as `1`.
    @Test func specialNumbers() throws {
        let list = "/v1/shelves/s1/books"
        try Self.expectRequest(
            "ListBooks", "GET", list, query: "maxPrice=NaN", "parent: \"shelves/s1\"\nmax_price: nan")
        try Self.expectRequest(
            "ListBooks", "GET", list, query: "maxPrice=-Infinity&filter.min_rating=Inf&page_size=-2147483648",
            """
            parent: "shelves/s1"
            page_size: -2147483648
            filter {
            min_rating: inf
            }
            max_price: -inf
            """)
        try Self.expectRequest(
            "GetBook", "GET", "/v1/books/x", query: "with_author=1&ids=9223372036854775807",
            "name: \"x\"\nwith_author: true\nids: 9223372036854775807")
    }

    /// body "field": the JSON body fills `book`; query parameters bound by the path (`parent`) or inside the
    /// body field (`book.title`) are ignored, the others apply.
    @Test func postWithBodyField() throws {
        try Self.expectRequest(
            "CreateBook", "POST", "/v1/shelves/s1/books", query: "requestId=r1&parent=zzz&book.title=Z",
            body: """
                {"title":"T","author":{"name":"A","address":{"city":"Oslo"}},"tags":["x","y"],"pages":"300",
                 "cover":"AQI=","edition":2,"counts":{"a":1},"shelfNumber":4}
                """,
            """
            parent: "shelves/s1"
            book {
            title: "T"
            author {
            name: "A"
            address {
            city: "Oslo"
            }
            }
            tags: "x"
            tags: "y"
            pages: 300
            cover: "\\001\\002"
            edition {
            value: 2
            }
            counts {
            key: "a"
            value: 1
            }
            shelf_number: 4
            }
            request_id: "r1"
            """)
    }

    /// body "*": a path variable overrides the body's value of the same field.
    @Test func pathOverridesBody() throws {
        try Self.expectRequest(
            "ImportBook", "POST", "/v1/shelves/s1/books/b1:import", body: #"{"name":"other","title":"T"}"#,
            """
            name: "shelves/s1/books/b1"
            title: "T"
            """)
    }

    /// PATCH with a nested field path variable (`{book.name}`) merged into the body field `book`.
    @Test func patchWithNestedPathVariable() throws {
        try Self.expectRequest(
            "UpdateBook", "PATCH", "/v1/shelves/s1/books/b1", query: "allowMissing=t",
            body: #"{"title":"New","genre":"FICTION","name":"ignored"}"#,
            """
            book {
            name: "shelves/s1/books/b1"
            title: "New"
            genre: FICTION
            }
            allow_missing: true
            """)
    }

    /// body naming a repeated scalar field: the body is a JSON array.
    @Test func repeatedBodyField() throws {
        try Self.expectRequest(
            "TagBook", "POST", "/v1/shelves/s1/books/b1:tag", body: #"["a","b"]"#,
            """
            name: "shelves/s1/books/b1"
            tags: "a"
            tags: "b"
            """)
        // No body at all is an empty field.
        try Self.expectRequest("TagBook", "POST", "/v1/shelves/s1/books/b1:tag", #"name: "shelves/s1/books/b1""#)
    }
}
