import Testing

@testable import MeshHTTP2

// The client side of RFC 9113 (HTTP2ClientConnection): handshake, request/response exchange against our own server
// connection in memory, stream limits, PING, GOAWAY and REFUSED_STREAM retry safety.

@Test("§3.4 client preface: the magic octets, SETTINGS with ENABLE_PUSH=0, then the connection window raised")
func clientPreface() {
    var client = HTTP2ClientConnection(limits: HTTP2Limits(maxConcurrentStreams: 10, initialWindowBytes: 100_000))
    let bytes = client.takeOutbound()
    #expect(Array(bytes.prefix(24)) == Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8))
    let sent = frames(Array(bytes.dropFirst(24)))
    #expect(sent.count == 2)
    #expect(sent[0].type == 0x4 && sent[0].flags == 0 && sent[0].stream == 0)
    let expected: [UInt8] = [0, 2] + Wire.be32(0) + [0, 4] + Wire.be32(100_000) + [0, 5] + Wire.be32(16_384)
        + [0, 6] + Wire.be32(65_536)
    #expect(sent[0].payload == expected)
    #expect(sent[1].type == 0x8 && sent[1].stream == 0 && sent[1].code == UInt32(1_000_000 - 65_535))
}

@Test("§3.4 the server preface must start with SETTINGS; anything else is a connection PROTOCOL_ERROR")
func serverPrefaceMustBeSettings() {
    var client = HTTP2ClientConnection()
    _ = client.takeOutbound()
    let events = client.feed(Wire.ping(), now: 0)
    #expect(clientConnectionError(events)! == (.protocolError, .settingsExpected))
    #expect(goAwayCode(client.takeOutbound()) == .protocolError)
    #expect(client.isClosed)
    #expect(throws: HTTP2OpenStreamError.connectionClosed) { try client.openStream(head: requestHead(), endStream: true) }
}

@Test("§6.5.3 the server's SETTINGS are acknowledged; §6.7 its PING is answered with the same opaque data")
func clientSettingsAndPing() {
    var client = HTTP2ClientConnection()
    _ = client.takeOutbound()
    #expect(client.feed(Wire.settings([(0x5, 32_768)]) + Wire.ping(0x5A), now: 0).isEmpty)
    #expect(client.peerSettingsReceived)
    #expect(frames(client.takeOutbound()) == [
        SentFrame(type: 0x4, flags: 0x1, stream: 0, payload: []),
        SentFrame(type: 0x6, flags: 0x1, stream: 0, payload: [UInt8](repeating: 0x5A, count: 8)),
    ])
}

@Test("end to end: a GET through our client into our server connection and its response back (§8.1)")
func endToEndGet() throws {
    var pair = Pair()
    let id = try pair.client.openStream(head: requestHead("GET", path: "/hello", [("accept", "text/plain")]),
        endStream: true)
    #expect(id == 1)
    // The server also sees the client's connection WINDOW_UPDATE (.windowOpened(0)); only stream events matter.
    let serverEvents = pair.pump().server.filter { $0 != .windowOpened(streamID: 0) }
    guard case .request(1, let head, true) = serverEvents.first else { Issue.record("\(serverEvents)"); return }
    #expect(String(decoding: head.path!, as: UTF8.self) == "/hello")
    #expect(String(decoding: head.fields.first("accept")!, as: UTF8.self) == "text/plain")
    try pair.server.writeResponseHead(streamID: 1, status: 200,
        headers: HTTP2HeaderList([("content-type", "text/plain"), ("content-length", "5")]), endStream: false)
    #expect(try pair.server.writeData(streamID: 1, Array("hello".utf8), endStream: true) == 5)
    let (clientEvents, _) = pair.pump()
    #expect(clientEvents.count == 2)
    guard case .response(1, let response, false) = clientEvents.first else { Issue.record("\(clientEvents)"); return }
    #expect(response.status == 200 && response.contentLength == 5)
    #expect(lines(response.fields) == [":status: 200", "content-type: text/plain", "content-length: 5"])
    #expect(clientEvents[1] == .data(streamID: 1, bytes: Array("hello".utf8), endStream: true))
    #expect(pair.client.activeStreamCount == 0 && pair.server.activeStreamCount == 0)
}

@Test("end to end: a gRPC-style POST with request trailers, response body and grpc-status trailers (§8.1)")
func endToEndTrailers() throws {
    var pair = Pair()
    let id = try pair.client.openStream(
        head: requestHead("POST", path: "/svc/Method", [("content-type", "application/grpc"), ("te", "trailers")]),
        endStream: false)
    #expect(try pair.client.writeData(streamID: id, [0, 0, 0, 0, 2, 8, 1], endStream: false) == 7)
    try pair.client.writeTrailers(streamID: id, HTTP2HeaderList([("x-checksum", "abc")]))
    #expect(throws: HTTP2WriteError.alreadyEnded) { try pair.client.writeData(streamID: id, [1], endStream: true) }
    let serverEvents = pair.pump().server.filter { $0 != .windowOpened(streamID: 0) }
    #expect(requests(serverEvents) == [1])
    #expect(serverEvents.dropFirst().first == .data(streamID: 1, bytes: [0, 0, 0, 0, 2, 8, 1], endStream: false))
    guard case .trailers(1, let requestTrailers) = serverEvents.last else { Issue.record("\(serverEvents)"); return }
    #expect(lines(requestTrailers) == ["x-checksum: abc"])
    pair.server.consumed(streamID: 1, bytes: 7)
    try pair.server.writeResponseHead(streamID: 1, status: 200,
        headers: HTTP2HeaderList([("content-type", "application/grpc")]), endStream: false)
    _ = try pair.server.writeData(streamID: 1, [0, 0, 0, 0, 0], endStream: false)
    try pair.server.writeTrailers(streamID: 1, HTTP2HeaderList([("grpc-status", "0"), ("grpc-message", "ok")]))
    let (clientEvents, _) = pair.pump()
    #expect(statuses(clientEvents) == [200])
    #expect(clientEvents[1] == .data(streamID: 1, bytes: [0, 0, 0, 0, 0], endStream: false))
    guard case .trailers(1, let trailers) = clientEvents.last else { Issue.record("\(clientEvents)"); return }
    #expect(String(decoding: trailers.first("grpc-status")!, as: UTF8.self) == "0")
    #expect(pair.client.activeStreamCount == 0)
}

@Test("end to end: a 64 KiB upload and download across several windows, credited with consumed (§6.9)")
func endToEndLargeBodies() throws {
    var pair = Pair(client: HTTP2Limits(initialWindowBytes: 16_384), server: HTTP2Limits(initialWindowBytes: 16_384))
    _ = pair.pump()
    let body = (0..<65_536).map { UInt8(truncatingIfNeeded: $0) }
    let id = try pair.client.openStream(head: requestHead("PUT", path: "/blob"), endStream: false)
    var sent = 0
    var received: [UInt8] = []
    for _ in 0..<100 where sent < body.count {
        sent += try body[sent...].withUnsafeBytes { try pair.client.writeData(streamID: id, $0, endStream: true) }
        for event in pair.pump().server {
            if case .data(let stream, let bytes, _) = event {
                received += bytes
                pair.server.consumed(streamID: stream, bytes: bytes.count)
            }
        }
    }
    #expect(sent == body.count && received == body)
    try pair.server.writeResponseHead(streamID: id, status: 200, headers: HTTP2HeaderList(), endStream: false)
    var offset = 0
    var downloaded: [UInt8] = []
    for _ in 0..<100 where offset < body.count {
        offset += try body[offset...].withUnsafeBytes { try pair.server.writeData(streamID: id, $0, endStream: true) }
        for event in pair.pump().client {
            if case .data(let stream, let bytes, _) = event {
                downloaded += bytes
                pair.client.consumed(streamID: stream, bytes: bytes.count)
            }
        }
    }
    #expect(downloaded == body)
    #expect(pair.client.activeStreamCount == 0 && pair.server.activeStreamCount == 0)
}

@Test("§5.1.1 stream ids are odd and increasing; §5.1.2 the peer's MAX_CONCURRENT_STREAMS is a distinct refusal")
func clientConcurrencyLimit() throws {
    var client = clientConnected(serverSettings: [(0x3, 2)])
    #expect(client.streamLimit == 2)
    #expect(try client.openStream(head: requestHead(), endStream: true) == 1)
    #expect(try client.openStream(head: requestHead(), endStream: true) == 3)
    #expect(!client.canOpenStream)
    #expect(throws: HTTP2OpenStreamError.concurrencyLimit) { try client.openStream(head: requestHead(), endStream: true) }
    // Nothing was sent for the refused request, and it used no stream id.
    _ = client.takeOutbound()
    _ = client.feed(Wire.headers(1, block: responseBlock("204"), endStream: true), now: 0)
    #expect(client.activeStreamCount == 1)
    #expect(try client.openStream(head: requestHead(), endStream: true) == 5)
    // The peer raising its limit is reported so a queue can go on.
    #expect(client.feed(Wire.settings([(0x3, 10)]), now: 0) == [.streamLimitChanged(limit: 10)])
}

@Test("§5.1.2 before the server's SETTINGS our own maxConcurrentStreams caps the streams we open")
func concurrencyBeforeSettings() throws {
    var client = HTTP2ClientConnection(limits: HTTP2Limits(maxConcurrentStreams: 1))
    _ = try client.openStream(head: requestHead(), endStream: true)
    #expect(throws: HTTP2OpenStreamError.concurrencyLimit) { try client.openStream(head: requestHead(), endStream: true) }
}

@Test("§5.1.1 stream ids run out at streamIDHighWater: a distinct error, open another connection")
func streamIDsExhausted() throws {
    var client = clientConnected(HTTP2Limits(streamIDHighWater: 3))
    _ = try client.openStream(head: requestHead(), endStream: true)
    _ = try client.openStream(head: requestHead(), endStream: true)
    #expect(throws: HTTP2OpenStreamError.streamIDsExhausted) { try client.openStream(head: requestHead(), endStream: true) }
}

@Test("§8.2, §8.3.1 a malformed request head is refused before anything is sent")
func invalidRequestRefused() {
    var client = clientConnected()
    let cases: [(HTTP2HeaderList, HTTP2Malformation)] = [
        (HTTP2HeaderList([(":method", "GET"), (":scheme", "http"), (":authority", "u")]), .invalidPath),
        (requestHead("GET", [("connection", "close")]), .connectionSpecificField),
        (requestHead("GET", [("X-Upper", "1")]), .uppercaseName),
        (requestHead("GET", [("te", "gzip")]), .invalidTE),
    ]
    for (head, malformation) in cases {
        #expect(throws: HTTP2OpenStreamError.invalidRequest(malformation)) { try client.openStream(head: head, endStream: true) }
    }
    #expect(client.takeOutbound().isEmpty)
    #expect(throws: HTTP2WriteError.unknownStream) { try client.writeData(streamID: 1, [1], endStream: true) }
}

@Test("§6.5.2 a head over the peer's SETTINGS_MAX_HEADER_LIST_SIZE is refused locally")
func requestHeadOverPeerLimit() {
    var client = clientConnected(serverSettings: [(0x6, 200)])
    let big = requestHead("GET", [("x-big", String(repeating: "a", count: 300))])
    #expect(throws: HTTP2OpenStreamError.headerListTooLarge) { try client.openStream(head: big, endStream: true) }
}

@Test("§8.7 REFUSED_STREAM before a response head is reported safe to retry; other codes are not")
func refusedStreamIsRetrySafe() throws {
    var client = clientConnected()
    let a = try client.openStream(head: requestHead(), endStream: true)
    let b = try client.openStream(head: requestHead(), endStream: true)
    let c = try client.openStream(head: requestHead(), endStream: true)
    _ = client.feed(Wire.headers(c, block: responseBlock("200"), endStream: false), now: 0)
    let events = client.feed(Wire.rst(a, 0x7) + Wire.rst(b, 0x2) + Wire.rst(c, 0x7), now: 0)
    #expect(events == [
        .streamReset(streamID: a, code: .refusedStream, retrySafe: true),
        .streamReset(streamID: b, code: .internalError, retrySafe: false),
        // A head already arrived: the request was processed, whatever the code says.
        .streamReset(streamID: c, code: .refusedStream, retrySafe: false),
    ])
    #expect(client.activeStreamCount == 0)
}

@Test("end to end: our server's REFUSED_STREAM over its limit reaches the client as safe to retry (§5.1.2)")
func endToEndRefused() throws {
    var pair = Pair(server: HTTP2Limits(maxConcurrentStreams: 1))
    // Before the server's SETTINGS arrive the client does not know the limit, so both streams go out.
    _ = try pair.client.openStream(head: requestHead(), endStream: true)
    let second = try pair.client.openStream(head: requestHead(), endStream: true)
    let (clientEvents, serverEvents) = pair.pump()
    #expect(requests(serverEvents) == [1])
    #expect(clientEvents.contains(.streamReset(streamID: second, code: .refusedStream, retrySafe: true)))
    #expect(clientEvents.contains(.streamLimitChanged(limit: 1)))
    #expect(pair.client.streamLimit == 1 && pair.client.activeStreamCount == 1)
}

@Test("§6.8 GOAWAY: streams above last-stream-id are reported unprocessed and closed; no new streams")
func goAwayRetrySafety() throws {
    var client = clientConnected()
    for _ in 0..<4 { _ = try client.openStream(head: requestHead(), endStream: true) }
    let goAway = Wire.frame(0x7, 0, stream: 0, Wire.be32(3) + Wire.be32(0))
    let events = client.feed(goAway, now: 0)
    #expect(events == [.goAway(lastStreamID: 3, code: .noError, unprocessed: [5, 7])])
    #expect(client.openStreamIDs == [1, 3])
    #expect(throws: HTTP2OpenStreamError.goingAway) { try client.openStream(head: requestHead(), endStream: true) }
    // Streams at or below it finish normally.
    let rest = client.feed(Wire.headers(3, block: responseBlock("200"), endStream: true), now: 0)
    #expect(statuses(rest) == [200])
    // A second GOAWAY may lower the id (§6.8).
    let lower = client.feed(Wire.frame(0x7, 0, stream: 0, Wire.be32(0) + Wire.be32(2)), now: 0)
    #expect(lower == [.goAway(lastStreamID: 0, code: .internalError, unprocessed: [1])])
    #expect(client.activeStreamCount == 0)
}

@Test("§6.8 a stream that already answered is never reported unprocessed by a GOAWAY below it")
func goAwayAfterResponse() throws {
    var client = clientConnected()
    _ = try client.openStream(head: requestHead("POST"), endStream: false)
    _ = try client.openStream(head: requestHead("POST"), endStream: false)
    _ = client.feed(Wire.headers(3, block: responseBlock("200"), endStream: false), now: 0)
    let events = client.feed(Wire.frame(0x7, 0, stream: 0, Wire.be32(0) + Wire.be32(0)), now: 0)
    #expect(events == [
        .streamFailed(streamID: 3, code: .protocolError, reason: nil),
        .goAway(lastStreamID: 0, code: .noError, unprocessed: [1]),
    ])
}

@Test("end to end: our server's graceful GOAWAY lets open streams finish and refuses new ones on the client")
func endToEndGoAway() throws {
    var pair = Pair()
    _ = try pair.client.openStream(head: requestHead(), endStream: true)
    _ = pair.pump()
    pair.server.goAway()
    let (events, _) = pair.pump()
    #expect(events == [.goAway(lastStreamID: 1, code: .noError, unprocessed: [])])
    try pair.server.writeResponseHead(streamID: 1, status: 200, headers: HTTP2HeaderList(), endStream: true)
    #expect(statuses(pair.pump().client) == [200])
    #expect(!pair.client.canOpenStream)
}

@Test("§6.8 our own GOAWAY: NO_ERROR refuses new streams, an error code closes the connection")
func clientGoAway() throws {
    var client = clientConnected()
    _ = try client.openStream(head: requestHead(), endStream: true)
    _ = client.takeOutbound()
    client.goAway()
    let sent = frames(client.takeOutbound())
    #expect(sent.map(\.type) == [0x7] && sent[0].payload == Wire.be32(0) + Wire.be32(0))
    #expect(throws: HTTP2OpenStreamError.goingAway) { try client.openStream(head: requestHead(), endStream: true) }
    #expect(statuses(client.feed(Wire.headers(1, block: responseBlock("200")), now: 0)) == [200])
    client.goAway(code: .internalError)
    #expect(client.takeOutbound().isEmpty)  // only the first GOAWAY is sent
    #expect(client.isClosed)
}

@Test("§6.7 our PING measures the round trip; an ACK with other opaque data is ignored")
func clientPing() {
    var client = clientConnected()
    let first = client.sendPing(now: 5 * MeshHTTP2Tests.second)
    let again = client.sendPing(now: 5 * MeshHTTP2Tests.second)
    #expect(first && !again)  // one at a time
    let ping = frames(client.takeOutbound())
    #expect(ping.count == 1 && ping[0].type == 0x6 && ping[0].flags == 0)
    #expect(client.feed(Wire.ping(0x11, ack: true), now: 6 * MeshHTTP2Tests.second).isEmpty)
    let ack = Wire.frame(0x6, 0x1, stream: 0, ping[0].payload)
    #expect(client.feed(ack, now: 6 * MeshHTTP2Tests.second) == [.pingAcknowledged(roundTrip: MeshHTTP2Tests.second)])
    #expect(!client.pingOutstanding)
}

@Test("the caller's reset: RST_STREAM CANCEL, late frames for the stream are dropped and their window returned")
func clientCallerReset() throws {
    var client = clientConnected()
    let id = try client.openStream(head: requestHead(), endStream: true)
    client.resetStream(streamID: id)
    #expect(resets(client.takeOutbound()).map(\.1) == [.cancel])
    let body = (0..<10).flatMap { _ in Wire.data(id, [UInt8](repeating: 1, count: 8_000)) }
    let late = client.feed(Wire.headers(id, block: responseBlock("200"), endStream: false) + body, now: 0)
    #expect(late.isEmpty)
    // The 80,000 octets are owed back to the connection window at once (sent once half the window is owed).
    #expect(client.connectionRecvWindow + client.connectionRecvPending == client.connectionWindowTarget)
}

@Test("preface and response fed one octet at a time give the same events as in one piece")
func clientByteByByte() throws {
    let input = Wire.settings() + Wire.settingsAck
        + Wire.headers(1, block: responseBlock("200", [("content-length", "3")]), endStream: false)
        + Wire.data(1, [1, 2, 3], endStream: true)
    var whole = HTTP2ClientConnection()
    _ = try whole.openStream(head: requestHead(), endStream: true)
    let wholeEvents = whole.feed(input, now: 0)
    var split = HTTP2ClientConnection()
    _ = try split.openStream(head: requestHead(), endStream: true)
    var splitEvents: [HTTP2ClientEvent] = []
    for byte in input { splitEvents += split.feed([byte], now: 0) }
    #expect(statuses(wholeEvents) == [200])
    #expect(wholeEvents == splitEvents)
    #expect(whole.takeOutbound() == split.takeOutbound())
}
