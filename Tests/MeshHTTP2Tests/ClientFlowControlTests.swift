import Testing

@testable import MeshHTTP2

// Flow control on the client side (RFC 9113 §5.2, §6.9) and the SPEC §10 budgets an upstream is held to.

@Test("§6.9 writeData takes the smaller of the stream and connection windows; END_STREAM only with the last octet")
func clientSendWindows() throws {
    var client = clientConnected(serverSettings: [(0x4, 10)])
    let id = try client.openStream(head: requestHead("POST"), endStream: false)
    _ = client.takeOutbound()
    #expect(client.sendWindow(streamID: id) == 10)
    #expect(try client.writeData(streamID: id, [UInt8](repeating: 1, count: 25), endStream: true) == 10)
    let sent = frames(client.takeOutbound())
    #expect(sent.count == 1 && sent[0].type == 0x0 && sent[0].flags == 0 && sent[0].payload.count == 10)
    #expect(client.sendWindow(streamID: id) == 0)
    #expect(try client.writeData(streamID: id, [1], endStream: true) == 0)
    #expect(client.takeOutbound().isEmpty)
    // The stream window opens: reported, and the rest goes with END_STREAM.
    #expect(client.feed(Wire.windowUpdate(id, 100), now: 0) == [.windowOpened(streamID: id)])
    #expect(try client.writeData(streamID: id, [UInt8](repeating: 1, count: 15), endStream: true) == 15)
    #expect(frames(client.takeOutbound()).map(\.flags) == [0x1])
    #expect(client.connectionSendWindow == 65_535 - 25)
}

@Test("§6.9.1 the connection window limits all streams together")
func clientConnectionWindow() throws {
    var client = clientConnected(serverSettings: [(0x4, 1_000_000)])
    let a = try client.openStream(head: requestHead("POST"), endStream: false)
    let b = try client.openStream(head: requestHead("POST"), endStream: false)
    let big = [UInt8](repeating: 0, count: 60_000)
    #expect(try client.writeData(streamID: a, big, endStream: false) == 60_000)
    #expect(try client.writeData(streamID: b, big, endStream: false) == 5_535)
    #expect(client.sendWindow(streamID: b) == 0)
    #expect(client.feed(Wire.windowUpdate(0, 1_000), now: 0) == [.windowOpened(streamID: 0)])
    #expect(client.sendWindow(streamID: a) == 1_000)
}

@Test("§6.5.2 DATA is cut at the peer's SETTINGS_MAX_FRAME_SIZE")
func clientFrameSize() throws {
    var client = clientConnected(serverSettings: [(0x4, 100_000)])
    _ = client.feed(Wire.windowUpdate(0, 100_000), now: 0)
    let id = try client.openStream(head: requestHead("POST"), endStream: false)
    _ = client.takeOutbound()
    #expect(try client.writeData(streamID: id, [UInt8](repeating: 0, count: 40_000), endStream: true) == 40_000)
    #expect(frames(client.takeOutbound()).map(\.payload.count) == [16_384, 16_384, 7_232])
}

@Test("§6.9.2 SETTINGS_INITIAL_WINDOW_SIZE moves open streams' send windows, down to negative")
func clientInitialWindowChange() throws {
    var client = clientConnected()
    let id = try client.openStream(head: requestHead("POST"), endStream: false)
    #expect(try client.writeData(streamID: id, [UInt8](repeating: 0, count: 60_000), endStream: false) == 60_000)
    _ = client.feed(Wire.settings([(0x4, 50_000)]), now: 0)
    #expect(client.streams[id]?.sendWindow == -10_000)
    #expect(client.sendWindow(streamID: id) == 0)
    #expect(client.feed(Wire.settings([(0x4, 70_000)]), now: 0) == [.windowOpened(streamID: 0)])
    #expect(client.streams[id]?.sendWindow == 10_000)
}

@Test("§6.9.1 a WINDOW_UPDATE past 2^31−1: stream FLOW_CONTROL_ERROR on a stream, connection error on stream 0")
func clientWindowOverflow() throws {
    var client = clientConnected()
    let id = try client.openStream(head: requestHead("POST"), endStream: false)
    let events = client.feed(Wire.windowUpdate(id, 0x7FFF_FFFF), now: 0)
    #expect(events == [.streamFailed(streamID: id, code: .flowControlError, reason: nil)])
    #expect(clientConnectionError(client.feed(Wire.windowUpdate(0, 0x7FFF_FFFF), now: 0))! == (.flowControlError, .flowControl))
}

@Test("§6.9 receive side: the stream window is our initial window; consumed returns it in half-window batches")
func clientReceiveWindow() throws {
    var client = clientConnected(HTTP2Limits(maxConcurrentStreams: 2, initialWindowBytes: 20_000))
    let id = try client.openStream(head: requestHead(), endStream: true)
    _ = client.takeOutbound()
    let events = client.feed(Wire.headers(id, block: responseBlock("200"), endStream: false)
        + Wire.data(id, [UInt8](repeating: 1, count: 9_000)) + Wire.data(id, [UInt8](repeating: 1, count: 11_000)),
        now: 0)
    #expect(events.count == 3)
    #expect(client.streams[id]?.recvWindow == 0)
    client.consumed(streamID: id, bytes: 9_000)
    #expect(client.takeOutbound().isEmpty)  // under half a window owed: nothing yet
    client.consumed(streamID: id, bytes: 11_000)
    let updates = frames(client.takeOutbound()).map { ($0.stream, $0.code) }
    // The stream window is topped up; the connection's target is 65,535 (2 × 20,000 is less, and a connection
    // window never starts below the RFC's), so 20,000 owed is not half of it yet.
    #expect(updates.map(\.0) == [id] && updates.map(\.1) == [20_000])
    #expect(client.connectionRecvPending == 20_000)
    #expect(client.streams[id]?.recvWindow == 20_000)
}

@Test("§6.9 DATA over our stream window is a stream FLOW_CONTROL_ERROR; over the connection window a connection one")
func clientReceiveOverflow() throws {
    var client = clientConnected(HTTP2Limits(maxConcurrentStreams: 1, initialWindowBytes: 1_000))
    let id = try client.openStream(head: requestHead(), endStream: true)
    _ = client.feed(Wire.headers(id, block: responseBlock("200"), endStream: false), now: 0)
    let events = client.feed(Wire.data(id, [UInt8](repeating: 1, count: 1_001)), now: 0)
    #expect(events == [.streamFailed(streamID: id, code: .flowControlError, reason: nil)])
    // The connection window: 65,535 delivered on one stream and not consumed, then one more octet on another.
    var other = clientConnected(HTTP2Limits(maxConcurrentStreams: 1))
    let first = try other.openStream(head: requestHead(), endStream: true)
    let body = (0..<4).flatMap { _ in Wire.data(first, [UInt8](repeating: 1, count: 16_383)) }
        + Wire.data(first, [1, 2, 3], endStream: true)
    #expect(other.feed(Wire.headers(first, block: responseBlock("200"), endStream: false) + body, now: 0).count == 6)
    let second = try other.openStream(head: requestHead(), endStream: true)
    let over = other.feed(Wire.headers(second, block: responseBlock("200"), endStream: false) + Wire.data(second, [1]),
        now: 0)
    #expect(clientConnectionError(over)! == (.flowControlError, .flowControl))
}

@Test("§5.1 DATA for a stream we reset is dropped and its connection window given back at once")
func clientClosedStreamData() throws {
    var client = clientConnected(HTTP2Limits(maxConcurrentStreams: 1))
    let id = try client.openStream(head: requestHead(), endStream: true)
    client.resetStream(streamID: id)
    let flood = (0..<10).flatMap { _ in Wire.data(id, [UInt8](repeating: 1, count: 16_000)) }
    #expect(client.feed(flood, now: 0).isEmpty)
    #expect(client.connectionRecvWindow + client.connectionRecvPending == client.connectionWindowTarget)
}

@Test("SPEC §10: a response header section over maxHeaderBytes, complete, is a stream error (CANCEL)")
func clientHeadersTooLarge() throws {
    var client = clientConnected(HTTP2Limits(maxHeaderBytes: 200))
    let id = try client.openStream(head: requestHead(), endStream: true)
    _ = client.takeOutbound()
    let events = client.feed(
        Wire.headers(id, block: responseBlock("200", [("x-big", String(repeating: "a", count: 300))])), now: 0)
    #expect(events == [.streamFailed(streamID: id, code: .cancel, reason: .headersTooLarge)])
    #expect(!client.isClosed)
    // The HPACK state stayed in step: the next response on another stream decodes.
    let next = try client.openStream(head: requestHead(), endStream: true)
    #expect(statuses(client.feed(Wire.headers(next, block: responseBlock("200")), now: 0)) == [200])
}

@Test("SPEC §10: a CONTINUATION flood or HPACK bomb passing maxHeaderBytes before END_HEADERS ends the connection")
func clientContinuationFlood() throws {
    var client = clientConnected(HTTP2Limits(maxHeaderBytes: 1_000))
    let id = try client.openStream(head: requestHead(), endStream: true)
    var input = Wire.headers(id, block: responseBlock("200"), endStream: false, endHeaders: false)
    for _ in 0..<20 { input += Wire.continuation(id, block: Wire.block([("x", String(repeating: "a", count: 100))]), endHeaders: false) }
    let events = client.feed(input, now: 0)
    #expect(clientConnectionError(events)! == (.enhanceYourCalm, .headerBlockTooLarge))
    #expect(goAwayCode(client.takeOutbound()) == .enhanceYourCalm)
    // HPACK bomb: one indexed entry referenced over and over (each reference costs 1 octet, decodes to ~1 KB).
    var bombed = clientConnected(HTTP2Limits(maxHeaderBytes: 4_096))
    let stream = try bombed.openStream(head: requestHead(), endStream: true)
    var big: [UInt8] = [0x40, 0x01, 0x78]  // literal with incremental indexing, new name "x" (RFC 7541 §6.2.1)
    HPACKInteger.encode(1_000, prefixBits: 7, firstByte: 0, into: &big)
    big += [UInt8](repeating: 0x61, count: 1_000)
    let bomb = Wire.headers(stream, block: responseBlock("200") + big + [UInt8](repeating: 0xBE, count: 100),
        endStream: false, endHeaders: false)
    #expect(clientConnectionError(bombed.feed(bomb, now: 0))! == (.enhanceYourCalm, .headerBlockTooLarge))
}

@Test("SPEC §10: more than maxControlFramesPerSecond PINGs or SETTINGS from the upstream ends the connection")
func clientControlFlood() {
    var client = clientConnected(HTTP2Limits(maxControlFramesPerSecond: 10))
    var input: [UInt8] = []
    for _ in 0..<11 { input += Wire.ping() }
    #expect(clientConnectionError(client.feed(input, now: 2 * second))! == (.enhanceYourCalm, .controlFrameFlood))
    // Within budget across seconds it is fine.
    var calm = clientConnected(HTTP2Limits(maxControlFramesPerSecond: 10))
    for k in 0..<30 { #expect(calm.feed(Wire.ping(), now: UInt64(k) * second / 5 + 3 * second).isEmpty) }
}

@Test("SPEC §10: output the caller does not drain is bounded: openStream refuses, and PING answers end the connection")
func clientOutboundBound() throws {
    var client = clientConnected(HTTP2Limits(maxControlFramesPerSecond: 100_000, maxOutboundBytes: 64 * 1024))
    let padding = (0..<30).map { ("x-\($0)", String(repeating: "v", count: 2_000)) }
    while client.outboundCount < 64 * 1024 {
        _ = try client.openStream(head: requestHead("GET", padding), endStream: true)
    }
    #expect(throws: HTTP2OpenStreamError.outboundFull) { try client.openStream(head: requestHead(), endStream: true) }
    let pings = (0..<10).flatMap { _ in Wire.ping() }
    #expect(clientConnectionError(client.feed(pings, now: 0))! == (.enhanceYourCalm, .outboundOverflow))
}
