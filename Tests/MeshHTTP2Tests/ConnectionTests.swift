import Testing

@testable import MeshHTTP2

@Test("§3.4 server preface: our SETTINGS first, then the connection window raised to streams × window")
func serverPreface() {
    var connection = HTTP2ServerConnection(limits: HTTP2Limits(maxConcurrentStreams: 10, initialWindowBytes: 100_000))
    let sent = frames(connection.takeOutbound())
    #expect(sent.count == 2)
    #expect(sent[0].type == 0x4 && sent[0].flags == 0)
    let expected: [UInt8] = [0, 3] + Wire.be32(10) + [0, 4] + Wire.be32(100_000) + [0, 5] + Wire.be32(16_384)
        + [0, 6] + Wire.be32(65_536)
    #expect(sent[0].payload == expected)
    #expect(sent[1].type == 0x8 && sent[1].stream == 0 && sent[1].code == UInt32(1_000_000 - 65_535))
}

@Test("§3.4 a wrong preface ends the connection with PROTOCOL_ERROR at the first wrong octet")
func badPreface() {
    var connection = HTTP2ServerConnection()
    _ = connection.takeOutbound()
    let events = connection.feed(Array("GET / HTTP/1.1\r\n".utf8), now: 0)
    #expect(connectionError(events)! == (.protocolError, .badPreface))
    #expect(goAwayCode(connection.takeOutbound()) == .protocolError)
    #expect(connection.isClosed)
}

@Test("§3.4 the first frame after the preface must be SETTINGS")
func settingsFirst() {
    var connection = HTTP2ServerConnection()
    let events = connection.feed(HTTP2ServerConnection.preface + Wire.ping(), now: 0)
    #expect(connectionError(events)! == (.protocolError, .settingsExpected))
}

@Test("preface and frames fed one octet at a time give the same events as in one piece")
func byteByByte() {
    let input = HTTP2ServerConnection.preface + Wire.settings() + Wire.settingsAck
        + Wire.headers(1, block: Wire.block(Wire.post), endStream: false) + Wire.data(1, [1, 2, 3], endStream: true)
    var whole = HTTP2ServerConnection()
    let wholeEvents = whole.feed(input, now: 0)
    var split = HTTP2ServerConnection()
    var splitEvents: [HTTP2Event] = []
    for byte in input { splitEvents += split.feed([byte], now: 0) }
    #expect(requests(wholeEvents) == [1])
    #expect(wholeEvents == splitEvents)
    #expect(whole.takeOutbound() == split.takeOutbound())
}

@Test("§6.5.3 SETTINGS is acknowledged; §6.7 PING is answered with the same opaque data")
func settingsAndPing() {
    var connection = connected()
    #expect(connection.feed(Wire.settings([(0x3, 50)]) + Wire.ping(0x5A), now: 0).isEmpty)
    let sent = frames(connection.takeOutbound())
    #expect(sent == [
        SentFrame(type: 0x4, flags: 0x1, stream: 0, payload: []),
        SentFrame(type: 0x6, flags: 0x1, stream: 0, payload: [UInt8](repeating: 0x5A, count: 8)),
    ])
    #expect(connection.feed(Wire.ping(0x5A, ack: true), now: 0).isEmpty)
    #expect(connection.takeOutbound().isEmpty)  // a PING ACK is not answered
}

@Test("a GET is delivered with its pseudo-headers; the response ends the stream")
func simpleExchange() throws {
    var connection = connected()
    let events = connection.feed(Wire.headers(1, block: Wire.block(Wire.get + [("accept", "*/*")])), now: 0)
    guard case .request(1, let head, true) = events.first else { Issue.record("no request: \(events)"); return }
    #expect(String(decoding: head.method, as: UTF8.self) == "GET")
    #expect(String(decoding: head.path!, as: UTF8.self) == "/")
    #expect(String(decoding: head.authority!, as: UTF8.self) == "example.com")
    #expect(head.regularFieldsStart == 4)
    #expect(connection.activeStreamCount == 1)
    try connection.writeResponseHead(streamID: 1, status: 200, headers: HTTP2HeaderList([("content-type", "text/plain")]),
        endStream: false)
    #expect(try connection.writeData(streamID: 1, Array("hello".utf8), endStream: true) == 5)
    #expect(connection.activeStreamCount == 0)
    let sent = frames(connection.takeOutbound())
    #expect(sent.map(\.type) == [0x1, 0x0])
    #expect(sent[0].flags == 0x4 && sent[1].flags == 0x1)
    var decoder = HPACKDecoder()
    let (list, error) = decodeBlock(&decoder, sent[0].payload)
    #expect(error == nil)
    #expect(lines(list) == [":status: 200", "content-type: text/plain"])
    #expect(throws: HTTP2WriteError.unknownStream) { try connection.writeData(streamID: 1, [1], endStream: true) }
}

@Test("body and trailers are delivered in order; trailers end the request (§8.1)")
func bodyAndTrailers() throws {
    var connection = connected()
    let input = Wire.headers(1, block: Wire.block(Wire.post + [("content-length", "5")]), endStream: false)
        + Wire.data(1, [1, 2]) + Wire.data(1, [3, 4, 5])
        + Wire.headers(1, block: Wire.block([("grpc-status", "0")]), endStream: true)
    let events = connection.feed(input, now: 0)
    #expect(events.count == 4)
    #expect(events[1] == .data(streamID: 1, bytes: [1, 2], endStream: false))
    #expect(events[2] == .data(streamID: 1, bytes: [3, 4, 5], endStream: false))
    guard case .trailers(1, let trailers) = events[3] else { Issue.record("no trailers"); return }
    #expect(lines(trailers) == ["grpc-status: 0"])
    // The request is over: more DATA is a stream error STREAM_CLOSED (§5.1 half-closed (remote)).
    let late = connection.feed(Wire.data(1, [9]), now: 0)
    #expect(late == [.streamFailed(streamID: 1, code: .streamClosed, reason: nil)])
    #expect(resets(connection.takeOutbound()).map(\.1) == [.streamClosed])
}

@Test("response trailers end the stream; a second head is refused")
func responseTrailers() throws {
    var connection = connected()
    _ = connection.feed(Wire.headers(1, block: Wire.block(Wire.get)), now: 0)
    try connection.writeResponseHead(streamID: 1, status: 200, headers: HTTP2HeaderList(), endStream: false)
    #expect(throws: HTTP2WriteError.responseAlreadyStarted) {
        try connection.writeResponseHead(streamID: 1, status: 200, headers: HTTP2HeaderList(), endStream: false)
    }
    try connection.writeTrailers(streamID: 1, HTTP2HeaderList([("grpc-status", "0")]))
    let sent = frames(connection.takeOutbound())
    #expect(sent.map(\.flags) == [0x4, 0x5])
    #expect(connection.activeStreamCount == 0)
}

@Test("§5.1 stream states: response ended first, then the request body, then the stream is closed")
func halfClosedLocalThenRemote() throws {
    var connection = connected()
    _ = connection.feed(Wire.headers(1, block: Wire.block(Wire.post), endStream: false), now: 0)
    try connection.writeResponseHead(streamID: 1, status: 413, headers: HTTP2HeaderList(), endStream: true)
    #expect(connection.activeStreamCount == 1)  // half-closed (local): the client may still send
    #expect(throws: HTTP2WriteError.alreadyEnded) { try connection.writeData(streamID: 1, [1], endStream: true) }
    let events = connection.feed(Wire.data(1, [1], endStream: true), now: 0)
    #expect(events == [.data(streamID: 1, bytes: [1], endStream: true)])
    #expect(connection.activeStreamCount == 0)
}

@Test("§5.1.1 an even stream id is a connection PROTOCOL_ERROR")
func evenStream() {
    var connection = connected()
    let events = connection.feed(Wire.headers(2, block: Wire.block(Wire.get)), now: 0)
    #expect(connectionError(events)! == (.protocolError, .invalidStreamID))
}

@Test("§5.1 DATA, RST_STREAM and WINDOW_UPDATE on an idle stream are connection PROTOCOL_ERRORs")
func idleStreamFrames() {
    for frame in [Wire.data(1, [1]), Wire.rst(1), Wire.windowUpdate(3, 10)] {
        var connection = connected()
        #expect(connectionError(connection.feed(frame, now: 0))! == (.protocolError, .idleStream))
    }
}

@Test("§5.1 frames on a closed stream are dropped; a closed stream's field block still updates HPACK")
func closedStreamFrames() {
    var connection = connected()
    _ = connection.feed(Wire.headers(1, block: Wire.block(Wire.get)) + Wire.rst(1), now: 0)
    // A block with incremental indexing (0x40) on the closed stream, then a request that refers to the entry.
    let indexing: [UInt8] = [0x40, 0x01, 0x78, 0x01, 0x79]  // x: y
    let events = connection.feed(
        Wire.headers(1, block: indexing) + Wire.windowUpdate(1, 5) + Wire.rst(1)
            + Wire.headers(3, block: Wire.block(Wire.get) + [0xBE]), now: 0)
    guard case .request(3, let head, _) = events.first, events.count == 1 else { Issue.record("\(events)"); return }
    #expect(String(decoding: head.fields.first("x")!, as: UTF8.self) == "y")
    // §6.1: DATA on a stream the client itself reset is STREAM_CLOSED (here as a connection error).
    #expect(connectionError(connection.feed(Wire.data(1, [1]), now: 0))! == (.streamClosed, .closedStream))
}

@Test("§5.1.1 HEADERS with an id below the highest that was never opened is a PROTOCOL_ERROR")
func decreasingStreamID() {
    var connection = connected()
    _ = connection.feed(Wire.headers(5, block: Wire.block(Wire.get)), now: 0)
    #expect(connectionError(connection.feed(Wire.headers(3, block: Wire.block(Wire.get)), now: 0))!
        == (.protocolError, .invalidStreamID))
}

@Test("§6.10 CONTINUATION continues a block; anything else inside the block is a PROTOCOL_ERROR")
func continuationRules() {
    let block = Wire.block(Wire.get)
    var connection = connected()
    let events = connection.feed(
        Wire.headers(1, block: Array(block[0..<5]), endHeaders: false) + Wire.continuation(1, block: Array(block[5...])),
        now: 0)
    #expect(requests(events) == [1])
    let broken: [[UInt8]] = [
        Wire.continuation(3, block: block),  // no block in progress
        Wire.headers(3, block: block, endHeaders: false) + Wire.ping(),
        Wire.headers(3, block: block, endHeaders: false) + Wire.continuation(5, block: []),
        Wire.headers(3, block: block, endHeaders: false) + Wire.headers(5, block: block),
    ]
    for input in broken {
        var c = connected()
        #expect(connectionError(c.feed(input, now: 0))! == (.protocolError, .headerBlockInterrupted))
    }
}

@Test("§8.4 PUSH_PROMISE from a client is a connection PROTOCOL_ERROR")
func pushPromise() {
    var connection = connected()
    let events = connection.feed(Wire.frame(0x5, 0x4, stream: 1, Wire.be32(2) + [0x82]), now: 0)
    #expect(connectionError(events)! == (.protocolError, .pushPromise))
}

@Test("§4.3 an undecodable field block is a connection COMPRESSION_ERROR")
func compressionError() {
    var connection = connected()
    let events = connection.feed(Wire.headers(1, block: [0x80]), now: 0)  // index 0
    #expect(connectionError(events)! == (.compressionError, .compression))
    #expect(goAwayCode(connection.takeOutbound()) == .compressionError)
}

@Test("§4.2 a frame over our SETTINGS_MAX_FRAME_SIZE is a connection FRAME_SIZE_ERROR")
func oversizedFrame() {
    var connection = connected()
    let events = connection.feed(Wire.data(1, [UInt8](repeating: 0, count: 16_385)), now: 0)
    #expect(connectionError(events)! == (.frameSizeError, .malformedFrame))
}

@Test("§5.1.2 a stream over MAX_CONCURRENT_STREAMS gets RST_STREAM REFUSED_STREAM, the others go on")
func concurrencyLimit() {
    var connection = connected(HTTP2Limits(maxConcurrentStreams: 2))
    let events = connection.feed(
        Wire.headers(1, block: Wire.block(Wire.get)) + Wire.headers(3, block: Wire.block(Wire.get))
            + Wire.headers(5, block: Wire.block(Wire.get)), now: 0)
    #expect(requests(events) == [1, 3])
    #expect(resets(connection.takeOutbound()).map { $0.0 } == [5])
    #expect(!connection.isClosed)
    try? connection.writeResponseHead(streamID: 1, status: 204, headers: HTTP2HeaderList(), endStream: true)
    #expect(requests(connection.feed(Wire.headers(7, block: Wire.block(Wire.get)), now: 0)) == [7])
}

@Test("§6.8 GOAWAY from the peer is reported; our graceful GOAWAY ignores newer streams")
func goAways() throws {
    var connection = connected()
    _ = connection.feed(Wire.headers(1, block: Wire.block(Wire.get)), now: 0)
    let events = connection.feed(Wire.frame(0x7, 0, stream: 0, Wire.be32(0) + Wire.be32(0)), now: 0)
    #expect(events == [.goAway(lastStreamID: 0, code: .noError)])
    connection.goAway()
    let sent = frames(connection.takeOutbound())
    #expect(sent.count == 1 && sent[0].type == 0x7 && Array(sent[0].payload[0..<4]) == Wire.be32(1))
    #expect(requests(connection.feed(Wire.headers(3, block: Wire.block(Wire.get)), now: 0)).isEmpty)
    try connection.writeResponseHead(streamID: 1, status: 200, headers: HTTP2HeaderList(), endStream: true)
    #expect(connection.activeStreamCount == 0)
}

@Test("stream-id exhaustion: a stream at the high-water mark starts a graceful GOAWAY")
func streamIDExhaustion() {
    var connection = connected()
    let id: UInt32 = 0x7FFF_0001
    let events = connection.feed(Wire.headers(id, block: Wire.block(Wire.get)), now: 0)
    #expect(requests(events) == [id])
    let sent = frames(connection.takeOutbound())
    #expect(sent.count == 1 && sent[0].type == 0x7)
    #expect(Array(sent[0].payload[0..<8]) == Wire.be32(id) + Wire.be32(0))
    #expect(requests(connection.feed(Wire.headers(id + 2, block: Wire.block(Wire.get)), now: 0)).isEmpty)
    #expect(!connection.isClosed)
}

@Test("the caller's reset sends RST_STREAM and frees the slot without a rapid-reset charge")
func callerReset() {
    var connection = connected(HTTP2Limits(maxConcurrentStreams: 1))
    for id in stride(from: UInt32(1), through: 7, by: 2) {
        #expect(requests(connection.feed(Wire.headers(id, block: Wire.block(Wire.get)), now: 0)) == [id])
        connection.resetStream(streamID: id, code: .cancel)
    }
    #expect(resets(connection.takeOutbound()).map(\.1) == [.cancel, .cancel, .cancel, .cancel])
    #expect(!connection.isClosed)
}

@Test("a recycled request head's storage decodes the next block: the new head is exact, a head still held is intact")
func recycledHeadStorage() {
    var connection = connected()
    var first = connection.feed(Wire.headers(1, block: Wire.block(Wire.get + [("x-first", "one"), ("x-long", String(repeating: "a", count: 300))])), now: 0)
    guard case .request(1, let head1, _) = first.removeFirst() else { Issue.record("no request"); return }
    let before = head1.fields.pairs.map { "\($0.name)=\($0.value)" }
    connection.recycle(head1.fields)
    let second = connection.feed(Wire.headers(3, block: Wire.block(Wire.get + [("x-second", "two")])), now: 0)
    guard case .request(3, let head3, _) = second.first else { Issue.record("no request: \(second)"); return }
    #expect(head3.fields.pairs.map { "\($0.name)=\($0.value)" } == Wire.get.map { "\($0.0)=\($0.1)" } + ["x-second=two"])
    // The first head was still held when its storage was recycled: it keeps its own fields.
    #expect(head1.fields.pairs.map { "\($0.name)=\($0.value)" } == before)
    // Released, then recycled: the third head is decoded into it and is exact too.
    connection.recycle(head3.fields)
    let third = connection.feed(Wire.headers(5, block: Wire.block(Wire.post)), now: 0)
    guard case .request(5, let head5, _) = third.first else { Issue.record("no request: \(third)"); return }
    #expect(head5.fields.pairs.map { "\($0.name)=\($0.value)" } == Wire.post.map { "\($0.0)=\($0.1)" })
}
