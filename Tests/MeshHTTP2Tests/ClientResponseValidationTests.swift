import Testing

@testable import MeshHTTP2

// Responses an upstream may get wrong (RFC 9113 §8.1, §8.1.1, §8.2, §8.3.2): each is a stream error (RST_STREAM
// PROTOCOL_ERROR and `.streamFailed` with the reason); the connection and its other streams go on.

/// A connected client with one GET open on stream 1, output drained.
private func clientWithRequest(_ method: String = "GET") throws -> HTTP2ClientConnection {
    var client = clientConnected()
    _ = try client.openStream(head: requestHead(method), endStream: true)
    _ = client.takeOutbound()
    return client
}

@Test(
    "§8.2, §8.3.2 malformed response heads are stream PROTOCOL_ERRORs",
    arguments: [
        ([("content-type", "text/plain")], HTTP2Malformation.invalidStatus),  // §8.3.2: :status is required
        ([(":status", "20")], .invalidStatus),
        ([(":status", "2000")], .invalidStatus),
        ([(":status", "20x")], .invalidStatus),
        ([(":status", "099")], .invalidStatus),
        ([(":status", "600")], .invalidStatus),
        ([(":status", "101")], .invalidStatus),  // §8.6: no Switching Protocols in HTTP/2
        ([(":status", "200"), (":status", "200")], .duplicatePseudo),
        ([(":status", "200"), (":path", "/")], .unknownPseudo),  // §8.3.2: :status is the only one
        ([("server", "x"), (":status", "200")], .pseudoAfterRegular),  // §8.3
        ([(":status", "200"), ("Content-Type", "text/plain")], .uppercaseName),  // §8.2.1
        ([(":status", "200"), ("connection", "keep-alive")], .connectionSpecificField),  // §8.2.2
        ([(":status", "200"), ("transfer-encoding", "chunked")], .connectionSpecificField),
        ([(":status", "200"), ("keep-alive", "5")], .connectionSpecificField),
        ([(":status", "200"), ("upgrade", "h2c")], .connectionSpecificField),
        ([(":status", "200"), ("x", "a\r\nb")], .invalidValue),  // §8.2.1
        ([(":status", "200"), ("x", " padded")], .invalidValue),
        ([(":status", "200"), ("content-length", "5x")], .invalidContentLength),
        ([(":status", "200"), ("content-length", "5"), ("content-length", "6")], .invalidContentLength),
    ] as [([(String, String)], HTTP2Malformation)])
func malformedResponseHead(fields: [(String, String)], malformation: HTTP2Malformation) throws {
    var client = try clientWithRequest()
    let events = client.feed(Wire.headers(1, block: Wire.block(fields), endStream: false), now: 0)
    #expect(events == [.streamFailed(streamID: 1, code: .protocolError, reason: malformation)])
    #expect(resets(client.takeOutbound()).map(\.1) == [.protocolError])
    #expect(!client.isClosed && client.activeStreamCount == 0)
}

@Test("§8.1.1 DATA more or less than content-length is a stream PROTOCOL_ERROR")
func responseContentLengthMismatch() throws {
    for body in [[UInt8](repeating: 1, count: 4), [UInt8](repeating: 1, count: 6)] {
        var client = try clientWithRequest()
        let events = client.feed(
            Wire.headers(1, block: responseBlock("200", [("content-length", "5")]), endStream: false)
                + Wire.data(1, body, endStream: true), now: 0)
        #expect(statuses(events) == [200])
        #expect(events.last == .streamFailed(streamID: 1, code: .protocolError, reason: .contentLengthMismatch))
    }
    // A head with END_STREAM and a non-zero content-length is malformed too.
    var client = try clientWithRequest()
    let events = client.feed(Wire.headers(1, block: responseBlock("200", [("content-length", "5")])), now: 0)
    #expect(events == [.streamFailed(streamID: 1, code: .protocolError, reason: .contentLengthMismatch)])
}

@Test("§8.1.1 the DATA total is checked again at the trailers")
func contentLengthAtTrailers() throws {
    var client = try clientWithRequest()
    let events = client.feed(
        Wire.headers(1, block: responseBlock("200", [("content-length", "5")]), endStream: false)
            + Wire.data(1, [1, 2]) + Wire.headers(1, block: Wire.block([("grpc-status", "0")])), now: 0)
    #expect(events.last == .streamFailed(streamID: 1, code: .protocolError, reason: .contentLengthMismatch))
}

@Test("§8.1.1, RFC 9110 §6.4.1: a HEAD response, a 204 and a 304 have no content whatever content-length says")
func noContentResponses() throws {
    var head = try clientWithRequest("HEAD")
    let headEvents = head.feed(Wire.headers(1, block: responseBlock("200", [("content-length", "1234")])), now: 0)
    guard case .response(1, let response, true) = headEvents.first else { Issue.record("\(headEvents)"); return }
    #expect(response.contentLength == 1234)
    var notModified = try clientWithRequest()
    #expect(statuses(notModified.feed(
        Wire.headers(1, block: responseBlock("304", [("content-length", "99")])), now: 0)) == [304])
    // DATA with content on a 204 is malformed.
    var noContent = try clientWithRequest()
    let events = noContent.feed(Wire.headers(1, block: responseBlock("204"), endStream: false)
        + Wire.data(1, [1], endStream: true), now: 0)
    #expect(events.last == .streamFailed(streamID: 1, code: .protocolError, reason: .contentLengthMismatch))
}

@Test("§8.1 1xx informational heads are skipped (100 and 103 alike), then the final head is delivered")
func informationalSkipped() throws {
    var client = try clientWithRequest()
    let events = client.feed(
        Wire.headers(1, block: responseBlock("100"), endStream: false)
            + Wire.headers(1, block: responseBlock("103", [("link", "</a.css>; rel=preload")]), endStream: false)
            + Wire.headers(1, block: responseBlock("200"), endStream: false)
            + Wire.data(1, [7], endStream: true), now: 0)
    #expect(statuses(events) == [200])
    #expect(events.last == .data(streamID: 1, bytes: [7], endStream: true))
}

@Test("§8.1 an informational head with END_STREAM is malformed")
func informationalWithEndStream() throws {
    var client = try clientWithRequest()
    let events = client.feed(Wire.headers(1, block: responseBlock("100"), endStream: true), now: 0)
    #expect(events == [.streamFailed(streamID: 1, code: .protocolError, reason: .informationalEndStream)])
}

@Test("§8.1 DATA before the final head is malformed; its connection window is given back")
func dataBeforeHead() throws {
    var client = try clientWithRequest()
    let events = client.feed(Wire.headers(1, block: responseBlock("100"), endStream: false) + Wire.data(1, [1, 2]),
        now: 0)
    #expect(events == [.streamFailed(streamID: 1, code: .protocolError, reason: .dataBeforeResponse)])
    #expect(client.connectionRecvWindow + client.connectionRecvPending == client.connectionWindowTarget)
}

@Test("§8.1 trailers: without END_STREAM, or with a pseudo-header, they are malformed")
func malformedResponseTrailers() throws {
    let cases: [([UInt8], HTTP2Malformation)] = [
        (Wire.headers(1, block: Wire.block([("grpc-status", "0")]), endStream: false), .trailersWithoutEndStream),
        (Wire.headers(1, block: Wire.block([(":status", "200")])), .pseudoInTrailers),
        (Wire.headers(1, block: Wire.block([("Grpc-Status", "0")])), .uppercaseName),
    ]
    for (trailers, malformation) in cases {
        var client = try clientWithRequest()
        let events = client.feed(Wire.headers(1, block: responseBlock("200"), endStream: false) + trailers, now: 0)
        #expect(events.last == .streamFailed(streamID: 1, code: .protocolError, reason: malformation))
    }
}

@Test("§5.1 a frame after the response ended is a stream STREAM_CLOSED while our request body is still going")
func afterResponseEnded() throws {
    var client = clientConnected()
    _ = try client.openStream(head: requestHead("POST"), endStream: false)
    _ = client.feed(Wire.headers(1, block: responseBlock("200")), now: 0)
    #expect(client.activeStreamCount == 1)  // half-closed (remote): the request body may still go
    #expect(try client.writeData(streamID: 1, [1], endStream: false) == 1)
    let events = client.feed(Wire.data(1, [9]), now: 0)
    #expect(events == [.streamFailed(streamID: 1, code: .streamClosed, reason: nil)])
}

@Test("§8.1 RST_STREAM NO_ERROR after a complete response only stops the request body")
func noErrorResetAfterResponse() throws {
    var client = clientConnected()
    _ = try client.openStream(head: requestHead("POST"), endStream: false)
    let events = client.feed(Wire.headers(1, block: responseBlock("413")) + Wire.rst(1, 0x0), now: 0)
    #expect(statuses(events) == [413])
    #expect(events.last == .streamReset(streamID: 1, code: .noError, retrySafe: false))
    #expect(throws: HTTP2WriteError.unknownStream) { try client.writeData(streamID: 1, [1], endStream: true) }
}

@Test("§6.6, §8.4 PUSH_PROMISE after our SETTINGS_ENABLE_PUSH=0 is a connection PROTOCOL_ERROR")
func pushPromiseRefused() throws {
    var client = try clientWithRequest()
    let push = Wire.frame(0x5, 0x4, stream: 1, Wire.be32(2) + Wire.block(Wire.get))
    let events = client.feed(push, now: 0)
    #expect(clientConnectionError(events)! == (.protocolError, .pushPromise))
    #expect(goAwayCode(client.takeOutbound()) == .protocolError)
}

@Test("§6.5.2 a server SETTINGS_ENABLE_PUSH of 1 is a connection PROTOCOL_ERROR")
func serverEnablePush() {
    var client = HTTP2ClientConnection()
    let events = client.feed(Wire.settings([(0x2, 1)]), now: 0)
    #expect(clientConnectionError(events)! == (.protocolError, .invalidSetting))
}

@Test("§5.1 HEADERS, DATA, RST_STREAM or WINDOW_UPDATE on a stream we never opened is a connection PROTOCOL_ERROR")
func clientIdleStreams() throws {
    for frame in [Wire.headers(3, block: responseBlock("200")), Wire.headers(2, block: responseBlock("200")),
        Wire.data(3, [1]), Wire.rst(3), Wire.windowUpdate(2, 1)]
    {
        var client = try clientWithRequest()
        #expect(clientConnectionError(client.feed(frame, now: 0))! == (.protocolError, .idleStream))
    }
}

@Test("§4.3 a bad HPACK block from the upstream is a connection COMPRESSION_ERROR")
func clientCompressionError() throws {
    var client = try clientWithRequest()
    let events = client.feed(Wire.headers(1, block: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]), now: 0)
    #expect(clientConnectionError(events)! == (.compressionError, .compression))
}
