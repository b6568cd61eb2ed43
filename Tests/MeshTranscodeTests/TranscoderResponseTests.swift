import MeshJSON
import MeshProtobuf
import MeshTestSupport
import MeshTranscode
import Testing

/// gRPC response bytes → JSON, compared (as parsed values) with Python's `json_format.MessageToJson` of the same
/// wire bytes, which `protoc --encode` produces from text format.
@Suite struct TranscoderResponseTests {
    static let fullBook = """
        name: "shelves/s1/books/b1" title: "Dune" author { name: "Frank" born: 1920 address { city: "Tacoma" } }
        tags: "sf" tags: "classic" genre: SCIENCE pages: 9007199254740993 available: true rating: 4.25
        cover: "\\000\\377" edition { value: 0 } copies: 4294967295 weight: 0.5 counts { key: "x" value: -1 }
        shelf_name: "top"
        """

    static func transcode(_ method: String, _ messages: [String]) throws -> (ours: JSONMeaning, wire: [[UInt8]]) {
        let t = try TranscoderRequestTests.transcoder(method)
        var body: [UInt8] = []
        var wire: [[UInt8]] = []
        for text in messages {
            let bytes = try TranscodeTools.encode("transcodetest.v1.Book", text)
            wire.append(bytes)
            GRPCFrames.append(bytes, to: &body)
        }
        return (try JSONMeaning(try t.response(t.bindings[0], grpcBody: body)), wire)
    }

    static func python(_ wire: [UInt8]) throws -> JSONMeaning {
        try JSONMeaning(try TranscodeTools.pythonJSON("transcodetest.v1.Book", wire))
    }

    @Test func unary() throws {
        for text in [Self.fullBook, "", #"genre: 7 rating: -0.0 pages: -1"#] {
            let (ours, wire) = try Self.transcode("GetBook", [text])
            #expect(ours == (try Self.python(wire[0])), "\(text)")
        }
    }

    /// response_body: a string field, a message field, a repeated field; an unset field is its default.
    @Test func responseBody() throws {
        for (method, key, fallback) in [
            ("GetTitle", "title", "\"\""), ("GetAuthor", "author", "{}"), ("TagBook", "tags", "[]"),
        ] {
            let (ours, wire) = try Self.transcode(method, [Self.fullBook])
            #expect(ours == (try Self.python(wire[0]))[key], "\(method)")
            let (empty, _) = try Self.transcode(method, [#"name: "n""#])
            #expect(empty == (try JSONMeaning(fallback)), "\(method) unset")
        }
    }

    /// Server streaming: a JSON array, one element per message, in order; no messages is `[]`.
    @Test func serverStreaming() throws {
        let texts = [Self.fullBook, "", #"title: "second" genre: FICTION"#]
        let (ours, wire) = try Self.transcode("WatchBooks", texts)
        #expect(ours == .array(try wire.map(Self.python)))
        let (none, _) = try Self.transcode("WatchBooks", [])
        #expect(none == .array([]))
    }

    @Test func badReplies() throws {
        let t = try TranscoderRequestTests.transcoder("GetBook")
        let b = t.bindings[0]
        let one = GRPCFrames.encode([0x12, 0x01, 0x41])  // title: "A"
        #expect(try JSONMeaning(try t.response(b, grpcBody: one)) == (try JSONMeaning(#"{"title":"A"}"#)))
        for body in [[], one + one, [1, 0, 0, 0, 1, 0], Array(one.dropLast()), GRPCFrames.encode([0x12, 0x05, 0x41])] {
            #expect(throws: TranscodeError.self, "\(body)") { try t.response(b, grpcBody: body) }
        }
        do {
            _ = try t.response(b, grpcBody: [])
        } catch {
            #expect(error.transcodedError.httpStatus == 500)
        }
    }
}

/// The incremental form of a server-streaming reply: cut at every byte, the pieces concatenate to the same
/// JSON array that `Transcoder.response` returns for the whole body.
@Suite struct StreamingResponseTests {
    @Test func everySplitPoint() throws {
        let t = try TranscoderRequestTests.transcoder("WatchBooks")
        var body: [UInt8] = []
        for text in [TranscoderResponseTests.fullBook, "", #"title: "second""#] {
            GRPCFrames.append(try TranscodeTools.encode("transcodetest.v1.Book", text), to: &body)
        }
        let whole = try t.response(t.bindings[0], grpcBody: body)
        for cut in 0...body.count {
            var s = StreamingResponse(transcoder: t, binding: t.bindings[0])
            let first = try s.feed(body[..<cut])
            let pieces = first + (try s.feed(body[cut...])) + (try s.finish())
            #expect(pieces == whole, "cut at \(cut)")
        }
        var empty = StreamingResponse(transcoder: t, binding: t.bindings[0])
        #expect(try empty.feed([]).isEmpty)
        #expect(try empty.finish() == Array("[]".utf8))
    }

    @Test func brokenStreams() throws {
        let t = try TranscoderRequestTests.transcoder("WatchBooks")
        var truncated = StreamingResponse(transcoder: t, binding: t.bindings[0])
        #expect(try truncated.feed([0, 0, 0, 0, 9, 1]).isEmpty)
        #expect(throws: TranscodeError.self) { try truncated.finish() }
        var compressed = StreamingResponse(transcoder: t, binding: t.bindings[0])
        #expect(throws: TranscodeError.self) { try compressed.feed([1, 0, 0, 0, 0]) }
        var garbage = StreamingResponse(transcoder: t, binding: t.bindings[0])
        #expect(throws: TranscodeError.self) { try garbage.feed(GRPCFrames.encode([0xFF])) }
    }
}
