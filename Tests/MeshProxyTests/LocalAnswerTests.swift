import MeshHTTP1
import MeshJSON
import MeshProxy
import Testing

/// `LocalAnswer`: every answer the gateway makes itself is one complete HTTP/1.1 response as the strict parser
/// reads it — framing that matches the body that follows, one `x-request-id`, the persistence asked for — and
/// is never written in part.
@Suite struct LocalAnswerTests {
    static let route = #"""
        {"match": {"path_prefix": "/"}, "upstream": "app", "response_headers": {"set": {"x-frame-options": "DENY"}},
         "fallback": {"status": 503, "headers": {"content-type": "text/plain", "retry-after": "5"}, "body": "maintenance", "on": ["5xx"]}}
        """#

    static func answers() throws -> [(String, LocalAnswer)] {
        let route = try routesConfig([Self.route]).listeners[0].routes[0]
        let fallback = try #require(route.fallback)
        return [
            ("error", .error(.forbidden, grpc: false, extraHeader: nil)),
            ("error+header", .error(.httpsRequired, grpc: false, extraHeader: "location: https://a.example/x?y")),
            ("grpc error", .error(.unavailable, grpc: true, extraHeader: nil)),
            ("fallback", .fallback(fallback)),
            ("text", .text(Array("token.key-authorization".utf8))),
            ("json", .json(status: 404, body: StableBytes(Array(#"{"code":5}"#.utf8)), route: route)),
            ("json 200", .json(status: 200, body: StableBytes(Array("{}".utf8)), route: nil)),
        ]
    }

    /// The head and body as they would be queued: the head block, then a body stored apart from it.
    struct Sent {
        var written: LocalAnswer.Written
        var bytes: [UInt8]
    }

    static func send(
        _ answer: LocalAnswer, room: Int = 4096, persistence: ResponseHeadBuilder.Persistence, withBody: Bool
    ) -> Sent? {
        var block = [UInt8](repeating: 0, count: room)
        let result = block.withUnsafeMutableBytes { space -> (LocalAnswer.Written, Int)? in
            var w = HeadWriter(space)
            let written = Array("req-42".utf8).withUnsafeBytes { id in
                answer.write(into: &w, requestID: id, persistence: persistence, withBody: withBody)
            }
            return written.map { ($0, w.count) }
        }
        guard let (written, count) = result else { return nil }
        return Sent(written: written, bytes: Array(block[0..<count]) + (written.body.map { Array($0) } ?? []))
    }

    @Test(arguments: [ResponseHeadBuilder.Persistence.keepAlive, .keepAliveHTTP10, .close], [true, false])
    func eachAnswerIsOneWholeResponse(_ persistence: ResponseHeadBuilder.Persistence, _ withBody: Bool) throws {
        let headers = UnsafeMutableBufferPointer<HTTPHeaderField>.allocate(capacity: 64)
        defer { headers.deallocate() }
        for (name, answer) in try Self.answers() {
            let sent = try #require(Self.send(answer, persistence: persistence, withBody: withBody), "\(name)")
            var parser = ResponseParser()
            let parsed = sent.bytes.withUnsafeBytes {
                parser.parse($0, headers: headers, requestMethod: withBody ? .get : .head)
            }
            guard case .complete(let head) = parsed else {
                Issue.record("\(name): \(String(decoding: sent.bytes, as: UTF8.self))")
                continue
            }
            #expect(head.status == sent.written.status, "\(name)")
            let body = Array(sent.bytes[head.headLength...])
            #expect(body.count == sent.written.bodyBytes || name.contains("error"), "\(name)")
            if withBody, case .contentLength(let length) = head.framing {
                #expect(body.count == length, "\(name): the body that follows is the one stated")
            } else {
                #expect(body.isEmpty, "\(name): a response to HEAD carries no body")
            }
            sent.bytes.withUnsafeBytes { buffer in
                let fields = (0..<head.headerCount).map { headers[$0] }
                let ids = fields.filter { $0.known == .xRequestID }.map { Array($0.value(in: buffer)) }
                #expect(ids == [Array("req-42".utf8)], "\(name): one x-request-id, the exchange's")
                let connection = fields.filter { $0.known == .connection }.map {
                    String(decoding: $0.value(in: buffer), as: UTF8.self)
                }
                let expected: [String] =
                    switch persistence {
                    case .keepAlive: []
                    case .keepAliveHTTP10: ["keep-alive"]
                    case .close: ["close"]
                    }
                #expect(connection == expected, "\(name)")
            }
            #expect(head.keepAlive == (persistence != .close), "\(name)")
        }
    }

    /// A block one octet short of the head gets nothing: no answer is sent in part.
    @Test func anAnswerThatDoesNotFitIsNotWritten() throws {
        for (name, answer) in try Self.answers() {
            let whole = try #require(Self.send(answer, persistence: .keepAlive, withBody: true), "\(name)")
            let headBlock = whole.bytes.count - (whole.written.body?.count ?? 0)
            #expect(Self.send(answer, room: headBlock - 1, persistence: .keepAlive, withBody: true) == nil, "\(name)")
            #expect(Self.send(answer, room: headBlock, persistence: .keepAlive, withBody: true) != nil, "\(name)")
        }
    }

    @Test func whatEachAnswerSays() throws {
        let answers = try Self.answers()
        func text(_ index: Int) throws -> String {
            let sent = try #require(Self.send(answers[index].1, persistence: .keepAlive, withBody: true))
            return String(decoding: sent.bytes, as: UTF8.self)
        }
        let error = try text(0)
        #expect(error.hasPrefix("HTTP/1.1 403 ") && error.contains("content-type: application/json\r\n"))
        let body = try JSONReader.parse(Array(error.utf8.split(separator: UInt8(ascii: "\n")).last!))
        #expect(body["error"]?.stringValue == "forbidden" && body["request_id"]?.stringValue == "req-42")
        #expect(try text(1).hasPrefix("HTTP/1.1 308 ") && text(1).contains("\r\nlocation: https://a.example/x?y\r\n"))
        let grpc = try text(2)
        #expect(grpc.hasPrefix("HTTP/1.1 200 ") && grpc.contains("grpc-status: 14\r\n"))
        #expect(grpc.contains("content-type: application/grpc\r\n") && grpc.hasSuffix("\r\n\r\n"))
        let fallback = try text(3)
        #expect(fallback.hasPrefix("HTTP/1.1 503 ") && fallback.hasSuffix("\r\n\r\nmaintenance"))
        #expect(fallback.contains("x-meshgate-fallback: 1\r\n") && fallback.contains("retry-after: 5\r\n"))
        #expect(try text(4).hasSuffix("content-type: text/plain\r\ncontent-length: 23\r\nx-request-id: req-42\r\n\r\ntoken.key-authorization"))
        let json = try text(5)
        #expect(json.hasPrefix("HTTP/1.1 404 \r\ncontent-type: application/json\r\n"))
        #expect(json.contains("x-frame-options: DENY\r\n") && json.hasSuffix(#"{"code":5}"#))
        #expect(try text(6).hasPrefix("HTTP/1.1 200 OK\r\n"))
    }
}
