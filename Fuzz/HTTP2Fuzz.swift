// libFuzzer target for MeshHTTP2: the server and client connection machines and the HPACK decoder. Every check is
// an invariant that must hold for ANY input; a violation traps and libFuzzer keeps the input.
//
// First input byte picks the mode: 0 connection after a valid preface and SETTINGS, 1 raw bytes into a fresh
// connection, 2 HPACK block, 3 Huffman string, 4 connection with the harness answering every request, 5 client
// connection with three requests open, fed the input as the server's bytes (after its SETTINGS), 6 the same with the
// harness driving the client (bodies, consumed, new streams), 7 client and server in memory with a request and a
// response built from the input (what one side accepts to send, the other must receive unchanged).

@testable import MeshHTTP2

private let limits = HTTP2Limits(
    maxConcurrentStreams: 8, initialWindowBytes: 1_000, maxFrameBytes: 16_384, maxHeaderBytes: 2_048,
    maxControlFramesPerSecond: 64, maxOutboundBytes: 64 * 1024)

/// Output a single `feed` may add beyond the outbound budget before the check at its end: the answers to one
/// 4 KiB input (at most one RST_STREAM, PING ACK or SETTINGS ACK per 9-octet frame) plus a GOAWAY.
private let outboundSlack = 4096 / 9 * 17 + 64

private let handshake = HTTP2ServerConnection.preface + [0, 0, 0, 4, 0, 0, 0, 0, 0] + [0, 0, 0, 4, 1, 0, 0, 0, 0]

/// Split points derived from the input itself.
private func splitPoints(_ data: UnsafeRawBufferPointer) -> [Int] {
    guard data.count > 1 else { return [] }
    var points: [Int] = []
    var seed = UInt64(data.count) &* 0x9E37_79B9_7F4A_7C15
    for k in 0..<min(data.count, 16) {
        seed = (seed ^ UInt64(data[k])) &* 0x1000_0000_01B3
        points.append(Int(seed % UInt64(data.count)))
    }
    return points.sorted()
}

/// Feeds `input` into `connection` in the pieces `cuts` gives, one millisecond apart; checks the per-feed
/// invariants and returns every event.
private func run(
    _ connection: inout HTTP2ServerConnection, _ input: UnsafeRawBufferPointer, cuts: [Int], answer: Bool
) -> [HTTP2Event] {
    var all: [HTTP2Event] = []
    var start = 0
    var now: UInt64 = 5_000_000_000
    for end in cuts + [input.count] where end >= start {
        // An exact-size heap copy, so AddressSanitizer sees a read past the piece.
        let piece = Array(input[start..<end])
        var events: [HTTP2Event] = []
        let wasClosed = connection.isClosed
        piece.withUnsafeBytes { connection.feed($0, now: now, into: &events) }
        check(!wasClosed || events.isEmpty, "no events after the connection closed")
        check(connection.outboundCount <= limits.maxOutboundBytes + outboundSlack, "outbound bounded")
        check(connection.activeStreamCount <= limits.maxConcurrentStreams, "concurrency bounded")
        checkEvents(events)
        if answer { respond(&connection, events) }
        all += events
        start = end
        now += 1_000_000
    }
    return all
}

private func checkEvents(_ events: [HTTP2Event]) {
    for (k, event) in events.enumerated() {
        switch event {
        case .request(let id, let head, _):
            check(id & 1 == 1, "client streams are odd")
            check(!head.method.isEmpty, "method present")
            for i in 0..<head.fields.count {
                check(!head.fields.name(i).contains { $0 >= 0x41 && $0 <= 0x5A }, "no uppercase names delivered")
            }
            check(head.fields.decodedSize <= limits.maxHeaderBytes, "delivered heads are within the limit")
        case .data(_, let bytes, _):
            check(bytes.count <= limits.maxFrameBytes, "data within a frame")
        case .connectionError:
            check(k == events.count - 1, "the connection error is the last event")
        default:
            break
        }
    }
}

/// Answers requests (head, a little body, trailers) and consumes data, exercising the writer under fuzzed state.
private func respond(_ connection: inout HTTP2ServerConnection, _ events: [HTTP2Event]) {
    for event in events {
        switch event {
        case .request(let id, _, _), .headersTooLarge(let id):
            try? connection.writeResponseHead(streamID: id, status: 200, headers: HTTP2HeaderList(), endStream: false)
            let taken = (try? connection.writeData(streamID: id, [UInt8](repeating: 0x41, count: 3_000), endStream: false)) ?? 0
            check(taken >= 0 && taken <= 3_000, "writeData takes part of what it is given")
            try? connection.writeTrailers(streamID: id, HTTP2HeaderList([("grpc-status", "0")]))
        case .data(let id, let bytes, _):
            connection.consumed(streamID: id, bytes: bytes.count)
        case .windowOpened(let id):
            if id != 0 { check(connection.sendWindow(streamID: id).map { $0 >= 0 } ?? true, "window never negative to the caller") }
        default:
            break
        }
    }
    connection.drainOutbound { $0.count / 2 }
}

private func fuzzConnection(_ data: UnsafeRawBufferPointer, preface: Bool, answer: Bool) {
    var input = preface ? handshake : []
    input += data
    input.withUnsafeBytes { bytes in
        var whole = HTTP2ServerConnection(limits: limits)
        let wholeEvents = run(&whole, bytes, cuts: [], answer: answer)
        guard !answer else { return }
        // The machine does not care how the bytes were cut: same events, same output. (The pieces are fed 1 ms
        // apart, all inside the first one-second budget window, so the time-based budgets count the same.)
        var split = HTTP2ServerConnection(limits: limits)
        let splitEvents = run(&split, bytes, cuts: splitPoints(bytes), answer: false)
        check(wholeEvents == splitEvents, "split feeding gives the same events")
        check(whole.takeOutbound() == split.takeOutbound(), "split feeding gives the same output")
    }
}

private func fuzzHPACK(_ data: UnsafeRawBufferPointer) {
    var whole = HPACKDecoder(maxTableSize: 256, maxListSize: 1_024)
    var wholeList = HTTP2HeaderList()
    let wholeError = whole.decodeBlock(data, into: &wholeList)
    // Resumed in pieces, the decoder must agree with the one-shot decode.
    var split = HPACKDecoder(maxTableSize: 256, maxListSize: 1_024)
    var splitList = HTTP2HeaderList()
    split.beginBlock()
    var pending: [UInt8] = []
    var failed = false
    var start = 0
    for end in splitPoints(data) + [data.count] where end >= start {
        pending += data[start..<end]
        start = end
        switch pending.withUnsafeBytes({ split.decode($0, into: &splitList) }) {
        case .failure: failed = true
        case .success(let used): pending.removeFirst(used)
        }
        if failed { break }
    }
    if wholeError == nil {
        check(!failed && pending.isEmpty, "resumed decode succeeds too")
        check(wholeList == splitList && wholeList.decodedSize == splitList.decodedSize, "resumed decode agrees")
        check(whole.table.size <= whole.table.maxSize, "dynamic table within its size")
        // What we decoded, re-encoded, decodes to the same fields.
        var encoder = HPACKEncoder()
        var block: [UInt8] = []
        encoder.encode(wholeList, into: &block)
        var again = HPACKDecoder()
        var list = HTTP2HeaderList()
        check(block.withUnsafeBytes { again.decodeBlock($0, into: &list) } == nil, "re-encoded block decodes")
        check(list == wholeList, "re-encoded block round-trips")
    }
}

private func fuzzHuffman(_ data: UnsafeRawBufferPointer) {
    var decoded: [UInt8] = []
    guard Huffman.decode(data, into: &decoded) == nil else { return }
    // A valid string has one encoding: the codes plus fewer than 8 one-bits of padding.
    var encoded: [UInt8] = []
    Huffman.encode(decoded, into: &encoded)
    check(encoded.elementsEqual(data), "Huffman decode then encode is the identity on valid input")
}

// MARK: - Client side

/// The server preface and its ACK of our SETTINGS, prepended to the client modes' input.
private let serverHandshake: [UInt8] = [0, 0, 0, 4, 0, 0, 0, 0, 0] + [0, 0, 0, 4, 1, 0, 0, 0, 0]

/// A client with a GET (stream 1), a POST with a body to come (3) and a HEAD (5) open, preface drained.
private func clientWithRequests() -> HTTP2ClientConnection {
    var client = HTTP2ClientConnection(limits: limits)
    func head(_ method: String) -> HTTP2HeaderList {
        HTTP2HeaderList([(":method", method), (":scheme", "http"), (":authority", "u"), (":path", "/")])
    }
    check((try? client.openStream(head: head("GET"), endStream: true)) == 1, "first stream is 1")
    check((try? client.openStream(head: head("POST"), endStream: false)) == 3, "second stream is 3")
    check((try? client.openStream(head: head("HEAD"), endStream: true)) == 5, "third stream is 5")
    _ = client.takeOutbound()
    return client
}

/// Per-stream facts the client invariants need.
private struct ClientTracker {
    var responded: Set<UInt32> = []
    /// The response ended (END_STREAM): only a reset may follow, while our request body is still going.
    var ended: Set<UInt32> = []
    /// Reset, failed or unprocessed: nothing may follow.
    var gone: Set<UInt32> = []
    var closed = false

    mutating func observe(_ events: [HTTP2ClientEvent], highest: UInt32) {
        for (k, event) in events.enumerated() {
            switch event {
            case .response(let id, let head, let endStream):
                checkStream(id, highest, event)
                check(!responded.contains(id), "one final head per stream")
                check((200...599).contains(head.status), "final status delivered")
                check(head.fields.decodedSize <= limits.maxHeaderBytes, "delivered heads are within the limit")
                for i in 0..<head.fields.count {
                    check(!head.fields.name(i).contains { $0 >= 0x41 && $0 <= 0x5A }, "no uppercase names delivered")
                }
                responded.insert(id)
                if endStream { ended.insert(id) }
            case .data(let id, let bytes, let endStream):
                checkStream(id, highest, event)
                check(responded.contains(id), "DATA only after the final head")
                check(bytes.count <= limits.maxFrameBytes, "data within a frame")
                if endStream { ended.insert(id) }
            case .trailers(let id, let fields):
                checkStream(id, highest, event)
                check(responded.contains(id), "trailers only after the final head")
                for i in 0..<fields.count { check(fields.name(i).first != UInt8(ascii: ":"), "no pseudo in trailers") }
                ended.insert(id)
            case .streamReset(let id, let code, let retrySafe):
                checkStream(id, highest, event, reset: true)
                check(!retrySafe || (code == .refusedStream && !responded.contains(id)), "retry-safe only if refused")
                gone.insert(id)
            case .streamFailed(let id, _, _):
                checkStream(id, highest, event, reset: true)
                gone.insert(id)
            case .goAway(let last, _, let unprocessed):
                check(unprocessed.allSatisfy { $0 > last && $0 <= highest }, "unprocessed streams are above last-id")
                check(unprocessed.allSatisfy { !gone.contains($0) }, "unprocessed streams were open")
                check(unprocessed.allSatisfy { !responded.contains($0) }, "a stream that answered is never unprocessed")
                gone.formUnion(unprocessed)
            case .connectionError:
                check(k == events.count - 1, "the connection error is the last event")
                closed = true
            case .windowOpened, .streamLimitChanged, .pingAcknowledged:
                break
            }
        }
    }

    /// An event for a stream that is ours and not finished.
    private func checkStream(_ id: UInt32, _ highest: UInt32, _ event: HTTP2ClientEvent, reset: Bool = false) {
        check(id & 1 == 1 && id <= highest, "events only for our streams")
        check(!gone.contains(id), "no events after a stream was reset (\(event))")
        check(reset || !ended.contains(id), "only a reset after the response ended (\(event))")
    }
}

/// Feeds `input` to `client` in pieces; checks the invariants and, with `drive`, acts like the gateway would.
private func runClient(
    _ client: inout HTTP2ClientConnection, _ input: UnsafeRawBufferPointer, cuts: [Int], drive: Bool
) -> [HTTP2ClientEvent] {
    var all: [HTTP2ClientEvent] = []
    var tracker = ClientTracker()
    var start = 0
    var now: UInt64 = 5_000_000_000
    for end in cuts + [input.count] where end >= start {
        let piece = Array(input[start..<end])
        var events: [HTTP2ClientEvent] = []
        let wasClosed = client.isClosed
        piece.withUnsafeBytes { client.feed($0, now: now, into: &events) }
        check(!wasClosed || events.isEmpty, "no events after the connection closed")
        check(client.outboundCount <= limits.maxOutboundBytes + outboundSlack, "outbound bounded")
        check(client.activeStreamCount <= limits.maxConcurrentStreams, "concurrency bounded")
        tracker.observe(events, highest: client.nextStreamID - 2)
        if drive { driveClient(&client, events, now: now) }
        all += events
        start = end
        now += 1_000_000
    }
    return all
}

/// The gateway's part: consume what arrives, push the POST body as windows open, open more streams, ping.
private func driveClient(_ client: inout HTTP2ClientConnection, _ events: [HTTP2ClientEvent], now: UInt64) {
    for event in events {
        switch event {
        case .data(let id, let bytes, _):
            client.consumed(streamID: id, bytes: bytes.count)
        case .windowOpened:
            let taken = (try? client.writeData(streamID: 3, [UInt8](repeating: 0x42, count: 2_000), endStream: false)) ?? 0
            check(taken >= 0 && taken <= 2_000, "writeData takes part of what it is given")
            if let window = client.sendWindow(streamID: 3) { check(window >= 0, "window never negative to the caller") }
        case .response(let id, _, _):
            if id == 3 { try? client.writeTrailers(streamID: 3, HTTP2HeaderList([("x-sum", "1")])) }
        case .streamLimitChanged, .streamReset, .goAway:
            let head = HTTP2HeaderList([(":method", "GET"), (":scheme", "http"), (":authority", "u"), (":path", "/n")])
            let before = client.nextStreamID
            if client.canOpenStream {
                // The connection can take a stream; the head itself may still be refused (a header list above
                // the server's SETTINGS_MAX_HEADER_LIST_SIZE), never for a connection-level reason.
                do throws(HTTP2OpenStreamError) {
                    check(try client.openStream(head: head, endStream: true) == before, "a new stream takes the next id")
                } catch .headerListTooLarge {
                    check(client.nextStreamID == before, "a refused head spends no stream id")
                } catch {
                    check(false, "canOpenStream means the connection opens it: \(error)")
                }
            }
        default:
            break
        }
    }
    _ = client.sendPing(now: now)
    client.drainOutbound { $0.count / 2 }
}

private func fuzzClient(_ data: UnsafeRawBufferPointer, drive: Bool) {
    var input = serverHandshake
    input += data
    input.withUnsafeBytes { bytes in
        var whole = clientWithRequests()
        let wholeEvents = runClient(&whole, bytes, cuts: [], drive: drive)
        guard !drive else { return }
        var split = clientWithRequests()
        let splitEvents = runClient(&split, bytes, cuts: splitPoints(bytes), drive: false)
        check(wholeEvents == splitEvents, "client: split feeding gives the same events")
        check(whole.takeOutbound() == split.takeOutbound(), "client: split feeding gives the same output")
    }
}

/// Fields from fuzz bytes: each field is a name and a value cut at 0x00 bytes, names taken as they are.
private func fields(_ bytes: UnsafeRawBufferPointer, count: Int) -> [([UInt8], [UInt8])] {
    let parts = bytes.split(separator: 0, omittingEmptySubsequences: false).prefix(count * 2).map { Array($0) }
    return stride(from: 0, to: parts.count - 1, by: 2).map { (parts[$0], parts[$0 + 1]) }
}

/// What the client accepts to send, our server must receive with the same fields; what the server sends back the
/// client must deliver unchanged or reject as malformed, never alter.
private func fuzzRoundTrip(_ data: UnsafeRawBufferPointer) {
    var control = ControlBytes(data)
    let status = 100 + control.choice(500)
    let half = control.rest.count / 2
    let requestPart = UnsafeRawBufferPointer(rebasing: control.rest[..<(control.rest.startIndex + half)])
    let responsePart = UnsafeRawBufferPointer(rebasing: control.rest[(control.rest.startIndex + half)...])
    var head = HTTP2HeaderList([(":method", "POST"), (":scheme", "http"), (":authority", "u"), (":path", "/")])
    for (name, value) in fields(requestPart, count: 8) { head.append(name: name, value: value) }
    var client = HTTP2ClientConnection(limits: limits)
    var server = HTTP2ServerConnection(limits: limits)
    var serverEvents: [HTTP2Event] = []
    var clientEvents: [HTTP2ClientEvent] = []
    func pump() {
        for _ in 0..<16 {
            let toServer = client.takeOutbound()
            let toClient = server.takeOutbound()
            if toServer.isEmpty && toClient.isEmpty { return }
            serverEvents += server.feed(toServer, now: 0)
            clientEvents += client.feed(toClient, now: 0)
        }
    }
    guard let id = try? client.openStream(head: head, endStream: true) else { return }
    pump()
    let requestEvents = serverEvents.filter { if case .windowOpened = $0 { false } else { true } }
    let bigHead = head.decodedSize > limits.maxHeaderBytes
    guard case .request(let serverID, let received, true)? = requestEvents.first else {
        check(bigHead && requestEvents.first == .headersTooLarge(streamID: id), "a valid request reaches the server: \(requestEvents)")
        return
    }
    check(serverID == id && received.fields == head, "the server receives the request unchanged")
    var response = HTTP2HeaderList()
    for (name, value) in fields(responsePart, count: 8) { response.append(name: name, value: value) }
    do throws(HTTP2WriteError) {
        try server.writeResponseHead(streamID: id, status: status, headers: response, endStream: false)
        _ = try server.writeData(streamID: id, [1, 2, 3], endStream: true)
    } catch {
        check(false, "the server can answer its open stream")
    }
    pump()
    check(clientConnectionOK(clientEvents), "a response never breaks the client connection: \(clientEvents)")
    let streamEvents = clientEvents.filter {
        switch $0 {
        case .windowOpened, .streamLimitChanged: false
        default: true
        }
    }
    switch streamEvents.first {
    case .response(id, let delivered, false)?:
        check(delivered.status == status && status >= 200, "final status delivered as sent")
        check(delivered.fields.count == response.count + 1, "every field delivered")
        for i in 0..<response.count {
            check(delivered.fields.name(i + 1) == response.name(i) && delivered.fields.value(i + 1) == response.value(i),
                "fields delivered unchanged")
        }
    case .streamFailed(id, _, _)?, nil:
        break  // malformed (or a 1xx, skipped, then DATA before a final head)
    default:
        check(false, "unexpected client events: \(streamEvents)")
    }
}

private func clientConnectionOK(_ events: [HTTP2ClientEvent]) -> Bool {
    !events.contains { if case .connectionError = $0 { true } else { false } }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let data = UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : count)
    var control = ControlBytes(data)
    let mode = control.choice(8)
    let rest = control.rest
    switch mode {
    case 0: fuzzConnection(rest, preface: true, answer: false)
    case 1: fuzzConnection(rest, preface: false, answer: false)
    case 2: fuzzHPACK(rest)
    case 3: fuzzHuffman(rest)
    case 4: fuzzConnection(rest, preface: true, answer: true)
    case 5: fuzzClient(rest, drive: false)
    case 6: fuzzClient(rest, drive: true)
    default: fuzzRoundTrip(rest)
    }
    return 0
}
