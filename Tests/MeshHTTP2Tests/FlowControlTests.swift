import Testing

@testable import MeshHTTP2

@Test("§6.9 DATA over the stream window is a stream FLOW_CONTROL_ERROR; the connection window is given back")
func streamWindowExceeded() {
    var connection = connected(HTTP2Limits(initialWindowBytes: 10))
    _ = connection.feed(Wire.headers(1, block: Wire.block(Wire.post), endStream: false), now: 0)
    let events = connection.feed(Wire.data(1, [UInt8](repeating: 0, count: 11)), now: 0)
    #expect(events == [.streamFailed(streamID: 1, code: .flowControlError, reason: nil)])
    #expect(resets(connection.takeOutbound()).map(\.1) == [.flowControlError])
    // 100 streams × 10 octets is below the RFC's 65,535, so the connection window stays at 65,535.
    #expect(connection.connectionRecvWindow + connection.connectionRecvPending == 65_535)
}

@Test("§6.9 DATA over the connection window is a connection FLOW_CONTROL_ERROR")
func connectionWindowExceeded() {
    // 1 stream × 16,384 = 16,384 but the connection window never drops below the RFC's 65,535 initial value.
    var connection = connected(HTTP2Limits(maxConcurrentStreams: 4, initialWindowBytes: HTTP2Window.max))
    var events: [HTTP2Event] = []
    for id in stride(from: UInt32(1), through: 7, by: 2) {
        events += connection.feed(Wire.headers(id, block: Wire.block(Wire.post), endStream: false), now: 0)
    }
    let full = [UInt8](repeating: 0, count: 16_384)
    // The connection window is 4 × (2^31−1) capped at 2^31−1; without consuming anything, the peer can send exactly
    // that much. Rather than send 2 GiB, shrink what is left by bookkeeping and check the edge.
    connection.connectionRecvWindow = 16_384
    events = connection.feed(Wire.data(1, full), now: 0)
    #expect(events.count == 1 && connectionError(events) == nil)
    events = connection.feed(Wire.data(3, [1]), now: 0)
    #expect(connectionError(events)! == (.flowControlError, .flowControl))
}

@Test("receive windows re-open as the caller consumes: WINDOW_UPDATE once half a window is owed")
func receiveWindowReplenish() {
    var connection = connected(HTTP2Limits(maxConcurrentStreams: 2, initialWindowBytes: 1000))
    // Connection window 2 × 1000 = 2000 < 65,535: it stays at the RFC default.
    _ = connection.feed(Wire.headers(1, block: Wire.block(Wire.post), endStream: false), now: 0)
    _ = connection.feed(Wire.data(1, [UInt8](repeating: 1, count: 400)), now: 0)
    connection.consumed(streamID: 1, bytes: 400)
    #expect(connection.takeOutbound().isEmpty)  // 400 < 500 owed: nothing yet
    _ = connection.feed(Wire.data(1, [UInt8](repeating: 1, count: 200)), now: 0)
    connection.consumed(streamID: 1, bytes: 200)
    let sent = frames(connection.takeOutbound())
    #expect(sent.map(\.type) == [0x8])
    #expect(sent[0].stream == 1 && sent[0].code == 600)
    // The stream window is back to 1000: 1000 more octets are fine, 1001 are not.
    #expect(connection.feed(Wire.data(1, [UInt8](repeating: 1, count: 1000)), now: 0).count == 1)
    #expect(connection.feed(Wire.data(1, [1]), now: 0) == [.streamFailed(streamID: 1, code: .flowControlError, reason: nil)])
}

@Test("padding counts against the windows and is credited back without the caller")
func paddingCredited() {
    var connection = connected(HTTP2Limits(maxConcurrentStreams: 1, initialWindowBytes: 100))
    _ = connection.feed(Wire.headers(1, block: Wire.block(Wire.post), endStream: false), now: 0)
    let padded = Wire.frame(0x0, 0x8, stream: 1, [59, 0xAB] + [UInt8](repeating: 0, count: 59))  // 61 flow, 1 data
    let events = connection.feed(padded, now: 0)
    #expect(events == [.data(streamID: 1, bytes: [0xAB], endStream: false)])
    let sent = frames(connection.takeOutbound())
    #expect(sent.filter { $0.type == 0x8 && $0.stream == 1 }.map(\.code) == [60])
}

@Test("§6.9.1 WINDOW_UPDATE past 2^31−1: connection error on stream 0, stream error on a stream")
func windowOverflow() {
    var connection = connected()
    #expect(connectionError(connection.feed(Wire.windowUpdate(0, 0x7FFF_FFFF), now: 0))! == (.flowControlError, .flowControl))
    var second = connected()
    _ = second.feed(Wire.headers(1, block: Wire.block(Wire.get)), now: 0)
    let events = second.feed(Wire.windowUpdate(1, 0x7FFF_FFFF - 65_535 + 1), now: 0)
    #expect(events == [.streamFailed(streamID: 1, code: .flowControlError, reason: nil)])
    #expect(!second.isClosed)
}

@Test("§6.9 WINDOW_UPDATE of 0: PROTOCOL_ERROR on the connection, stream error on a stream")
func zeroIncrement() {
    var connection = connected()
    #expect(connectionError(connection.feed(Wire.windowUpdate(0, 0), now: 0))! == (.protocolError, .zeroWindowIncrement))
    var second = connected()
    _ = second.feed(Wire.headers(1, block: Wire.block(Wire.get)), now: 0)
    #expect(second.feed(Wire.windowUpdate(1, 0), now: 0) == [.streamFailed(streamID: 1, code: .protocolError, reason: nil)])
}

@Test("send side: writeData stops at the peer's windows and resumes after WINDOW_UPDATE")
func sendWindow() throws {
    var connection = connected()
    _ = connection.feed(Wire.headers(1, block: Wire.block(Wire.get)), now: 0)
    try connection.writeResponseHead(streamID: 1, status: 200, headers: HTTP2HeaderList(), endStream: false)
    let body = [UInt8](repeating: 7, count: 70_000)
    #expect(try connection.writeData(streamID: 1, body, endStream: true) == 65_535)
    #expect(connection.sendWindow(streamID: 1) == 0)
    #expect(connection.activeStreamCount == 1)  // END_STREAM not sent: bytes are left
    let events = connection.feed(Wire.windowUpdate(1, 10_000) + Wire.windowUpdate(0, 3_000), now: 0)
    #expect(events == [.windowOpened(streamID: 1), .windowOpened(streamID: 0)])
    #expect(connection.sendWindow(streamID: 1) == 3_000)  // the connection window is the smaller one
    #expect(try connection.writeData(streamID: 1, Array(body[65_535...]), endStream: true) == 3_000)
    let sent = frames(connection.takeOutbound()).filter { $0.type == 0x0 }
    #expect(sent.map(\.payload.count) == [16_384, 16_384, 16_384, 16_383, 3_000])
    #expect(sent.allSatisfy { $0.flags == 0 })
}

@Test("§6.9.2 SETTINGS_INITIAL_WINDOW_SIZE moves open streams' send windows, even below zero")
func initialWindowChange() throws {
    var connection = connected()
    _ = connection.feed(Wire.headers(1, block: Wire.block(Wire.get)), now: 0)
    try connection.writeResponseHead(streamID: 1, status: 200, headers: HTTP2HeaderList(), endStream: false)
    #expect(try connection.writeData(streamID: 1, [UInt8](repeating: 0, count: 60_000), endStream: false) == 60_000)
    _ = connection.feed(Wire.settings([(0x4, 50_000)]), now: 0)
    #expect(connection.streams[1]?.sendWindow == -10_000)
    #expect(try connection.writeData(streamID: 1, [1], endStream: false) == 0)
    let events = connection.feed(Wire.settings([(0x4, 70_000)]), now: 0)
    #expect(events == [.windowOpened(streamID: 0)])
    #expect(connection.streams[1]?.sendWindow == 10_000)
    // A value that pushes a stream past 2^31−1 is a connection FLOW_CONTROL_ERROR.
    _ = connection.feed(Wire.windowUpdate(1, 0x7FFF_0000), now: 0)
    #expect(connectionError(connection.feed(Wire.settings([(0x4, 0x7FFF_FFFF)]), now: 0))! == (.flowControlError, .flowControl))
}

@Test("§6.5.2 SETTINGS values out of range")
func badSettings() {
    let cases: [((UInt16, UInt32), HTTP2ErrorCode)] = [
        ((0x2, 2), .protocolError),  // ENABLE_PUSH
        ((0x4, 0x8000_0000), .flowControlError),  // INITIAL_WINDOW_SIZE
        ((0x5, 16_383), .protocolError),  // MAX_FRAME_SIZE too small
        ((0x5, 16_777_216), .protocolError),  // MAX_FRAME_SIZE too large
        ((0x8, 2), .protocolError),  // ENABLE_CONNECT_PROTOCOL
    ]
    for (setting, code) in cases {
        var connection = connected()
        #expect(connectionError(connection.feed(Wire.settings([setting]), now: 0))?.0 == code, "\(setting)")
    }
    var connection = connected()
    #expect(connection.feed(Wire.settings([(0x99, 12)]), now: 0).isEmpty)  // unknown: ignored
}

@Test("peer SETTINGS_MAX_FRAME_SIZE sizes our DATA and header frames")
func peerMaxFrameSize() throws {
    var connection = connected()
    _ = connection.feed(Wire.settings([(0x5, 20_000)]) + Wire.headers(1, block: Wire.block(Wire.get)), now: 0)
    _ = connection.takeOutbound()
    var big = HTTP2HeaderList()
    big.append("x-big", String(repeating: "~", count: 30_000))  // 13-bit Huffman code: no compression
    try connection.writeResponseHead(streamID: 1, status: 200, headers: big, endStream: false)
    #expect(try connection.writeData(streamID: 1, [UInt8](repeating: 0, count: 45_000), endStream: true) == 45_000)
    let sent = frames(connection.takeOutbound())
    #expect(sent.map(\.type) == [0x1, 0x9, 0x0, 0x0, 0x0])  // 30,000 literal octets: HEADERS + CONTINUATION
    #expect(sent.map(\.payload.count).max()! <= 20_000)
    #expect(sent.last!.flags == 0x1)
    var decoder = HPACKDecoder()
    let (list, error) = decodeBlock(&decoder, sent[0].payload + sent[1].payload)
    #expect(error == nil && list.first("x-big")?.count == 30_000)
}

@Test("our SETTINGS ACK switches new streams to our initial window; earlier streams move by the difference")
func localSettingsAck() {
    var connection = HTTP2ServerConnection(limits: HTTP2Limits(initialWindowBytes: 1000))
    _ = connection.feed(HTTP2ServerConnection.preface + Wire.settings() + Wire.headers(1, block: Wire.block(Wire.post),
        endStream: false), now: 0)
    #expect(connection.streams[1]?.recvWindow == 65_535)  // before the ACK the client may use the default
    _ = connection.feed(Wire.settingsAck + Wire.headers(3, block: Wire.block(Wire.post), endStream: false), now: 0)
    #expect(connection.streams[1]?.recvWindow == 1000)
    #expect(connection.streams[3]?.recvWindow == 1000)
}
