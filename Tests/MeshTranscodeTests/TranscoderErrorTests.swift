import MeshJSON
import MeshProtobuf
import MeshTranscode
import Testing

/// Requests the transcoder refuses (each becomes a 400 with a JSON error body naming the problem), bindings
/// that do not fit their method, and the choice between matching bindings.
@Suite struct TranscoderErrorTests {
    static func request(
        _ method: String, _ httpMethod: String, _ path: String, query: String = "", body: String = ""
    ) throws -> [UInt8] {
        let t = try TranscoderRequestTests.transcoder(method)
        let matched = try #require(t.bindings.match(httpMethod: httpMethod, path: path))
        return try t.request(matched, query: query, body: Array(body.utf8))
    }

    static func expectError(
        _ expected: TranscodeError, _ method: String, _ httpMethod: String, _ path: String, query: String = "",
        body: String = ""
    ) {
        #expect(throws: expected, "\(path)?\(query) \(body)") {
            try request(method, httpMethod, path, query: query, body: body)
        }
    }

    @Test func queryParameters() {
        let list = "/v1/shelves/s1/books"
        Self.expectError(.unknownQueryParameter("colour"), "ListBooks", "GET", list, query: "colour=red")
        Self.expectError(.unknownQueryParameter("filter.nope"), "ListBooks", "GET", list, query: "filter.nope=1")
        // A map entry's fields are not the map's keys: unknown.
        Self.expectError(.unknownQueryParameter("labels.a"), "ListBooks", "GET", list, query: "labels.a=b")
        // A message, a map and a path through a repeated message name fields that text cannot fill.
        let notText = "a message, a map, or a field inside a repeated message cannot be set from the query"
        for (name, value) in [("filter", "x"), ("labels", "a"), ("filters.author", "x")] {
            Self.expectError(
                .invalidValue(parameter: name, value: value, message: notText), "ListBooks", "GET", list,
                query: "\(name)=\(value)")
        }
        let cases: [(String, String, String)] = [
            ("page_size", "abc", "not a 32-bit integer"), ("page_size", "2147483648", "not a 32-bit integer"),
            ("filter.minPages", "-1", "not an unsigned 32-bit integer"), ("filter.token", "A", "not base64"),
            ("filter.genres", "HORROR", "not a value of transcodetest.v1.Genre"),
            ("filter.available", "yes", "not a bool"), ("maxPrice", "1,5", "not a number"),
            ("maxPrice", "0x10", "not a number"),
        ]
        for (name, value, message) in cases {
            Self.expectError(
                .invalidValue(parameter: name, value: value, message: message), "ListBooks", "GET", list,
                query: "\(name)=\(value)")
        }
        Self.expectError(
            .invalidValue(parameter: "page_size", value: "page_size=%zz", message: "bad escape"), "ListBooks", "GET",
            list, query: "page_size=%zz")
    }

    /// Malformed JSON bodies: syntax errors keep line and column (also for a body field that is a JSON
    /// array, parsed wrapped), mapping errors name the JSON path.
    @Test func bodies() throws {
        let create = "/v1/shelves/s1/books"
        Self.expectError(
            .invalidBody(.jsonSyntax(line: 2, column: 11, message: "expected a value, found '}'")), "CreateBook",
            "POST", create,
            body: "{\"title\":\n\"x\", \"a\": }")
        Self.expectError(
            .invalidBody(.unknownJSONField(path: "colour")), "CreateBook", "POST", create,
            body: #"{"colour":1}"#)
        let born = try #require(Self.bodyError("CreateBook", "POST", create, #"{"author":{"born":"x"}}"#))
        guard case .invalidBody(.invalidJSON(let path, _)) = born else { Issue.record("\(born)"); return }
        #expect(path == "author.born")
        let tag = "/v1/shelves/s1/books/b1:tag"
        let item = try #require(Self.bodyError("TagBook", "POST", tag, #"["a", 1]"#))
        guard case .invalidBody(.invalidJSON(let itemPath, _)) = item else { Issue.record("\(item)"); return }
        #expect(itemPath == "tags[1]")
        let syntax = try #require(Self.bodyError("TagBook", "POST", tag, "[\"a\",\n  x]"))
        guard case .invalidBody(.jsonSyntax(let line, let column, _)) = syntax else {
            Issue.record("\(syntax)"); return
        }
        #expect(line == 2 && column == 3, "\(syntax)")
        // What the gateway answers: 400, INVALID_ARGUMENT, and the path in the message.
        let answer = born.transcodedError
        #expect(answer.httpStatus == 400 && answer.code == .invalidArgument)
        let body = try JSONReader.parse(answer.body)
        #expect(body["error"]?.stringValue == "invalid_argument" && body["code"]?.int64Value == 3)
        #expect(body["message"]?.stringValue?.contains("author.born") == true)
    }

    static func bodyError(_ method: String, _ httpMethod: String, _ path: String, _ body: String) -> TranscodeError? {
        do {
            _ = try request(method, httpMethod, path, body: body)
            return nil
        } catch let e as TranscodeError {
            return e
        } catch {
            return nil
        }
    }

    @Test func bindingsThatDoNotFit() throws {
        let pool = try TranscodeTools.pool()
        let get = try #require(pool.method(path: "/transcodetest.v1.Library/GetBook"))
        let upload = try #require(pool.method(path: "/transcodetest.v1.Library/Upload"))
        #expect(throws: TranscodeError.self) { try Transcoder(pool: pool, method: upload) }
        for (template, body, responseBody) in [
            ("/v1/{nope}", "", ""), ("/v1/{name.x}", "", ""), ("/v1/{name}", "nope", ""), ("/v1/{name}", "", "nope"),
        ] {
            let b = HTTPBinding(
                httpMethod: "GET", template: try PathTemplate(template), body: body, responseBody: responseBody)
            #expect(throws: TranscodeError.self, "\(template) \(body) \(responseBody)") {
                try Transcoder(pool: pool, method: get, bindings: [b])
            }
        }
        #expect(throws: TranscodeError.self) { try Transcoder(pool: pool, method: get, bindings: []) }
        let rule = HttpRule(method: "GET", path: "/v1/{name")
        #expect(throws: TranscodeError.self) { try HTTPBinding.all(from: rule) }
    }

    /// The most literal binding wins; method must match; the rule and its additional bindings are all there.
    @Test func choosingBindings() throws {
        let general = HTTPBinding(httpMethod: "GET", template: try PathTemplate("/v1/{name}"))
        let search = HTTPBinding(httpMethod: "GET", template: try PathTemplate("/v1/users:search"))
        for list in [[general, search], [search, general]] {
            #expect(list.match(httpMethod: "GET", path: "/v1/users:search")?.binding == search)
            #expect(
                list.match(httpMethod: "GET", path: "/v1/bob")?.variables == [
                    PathBinding(fieldPath: ["name"], value: "bob")
                ])
            #expect(list.match(httpMethod: "POST", path: "/v1/bob") == nil)
        }
        let t = try TranscoderRequestTests.transcoder("GetBook")
        #expect(t.bindings.map(\.httpMethod) == ["GET", "GET", "POST"])
        #expect(
            t.bindings.map(\.template.description) == [
                "/v1/{name=shelves/*/books/*}", "/v1/books/{name=**}", "/v1/books:get",
            ])
        #expect(t.bindings[2].body == "*")
    }
}

/// Inputs sized to hurt: deep field paths from the query string, oneof members set from two places.
@Suite struct TranscoderLimitTests {
    /// `Book.author.address` is not recursive, but the depth check comes before resolution, so any name with
    /// more steps than the limit is refused without walking it.
    @Test func deepQueryNames() throws {
        let deep = Array(repeating: "filter", count: 10_000).joined(separator: ".")
        let t = try TranscoderRequestTests.transcoder("ListBooks")
        let matched = try #require(t.bindings.match(httpMethod: "GET", path: "/v1/shelves/s1/books"))
        let refused = TranscodeError.invalidValue(
            parameter: String(deep.prefix(64)) + "...", value: "", message: "field path deeper than 32")
        #expect(throws: refused) { try t.request(matched, query: deep + "=1", body: []) }
    }

    /// A later oneof member replaces an earlier one (query order), as protobuf setters do.
    @Test func oneofLastWins() throws {
        let pool = try TranscodeTools.pool()
        let method = try #require(pool.method(path: "/transcodetest.v1.Library/ImportBook"))
        let binding = HTTPBinding(httpMethod: "GET", template: try PathTemplate("/v2/books"))
        let t = try Transcoder(pool: pool, method: method, bindings: [binding])
        let matched = try #require(t.bindings.match(httpMethod: "GET", path: "/v2/books"))
        let message = try t.requestMessage(matched, query: "shelfName=a&shelfNumber=3", body: [])
        #expect(message.fields == [15: .single(.int32(3))])
        let other = try t.requestMessage(matched, query: "shelfNumber=3&shelf_name=a", body: [])
        #expect(other.fields == [14: .single(.string("a"))])
    }

    @Test func requestTargets() {
        #expect(splitRequestTarget("/v1/books?x=1&y=%3F?") == ("/v1/books", "x=1&y=%3F?"))
        #expect(splitRequestTarget("/v1/books") == ("/v1/books", ""))
        #expect(splitRequestTarget("/v1/books?") == ("/v1/books", ""))
    }
}
