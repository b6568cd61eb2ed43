// libFuzzer target for MeshHTTP2: the server connection machine and the HPACK decoder. Every check is an invariant
// that must hold for ANY input; a violation traps and libFuzzer keeps the input.
//
// First input byte picks the mode: 0 connection after a valid preface and SETTINGS, 1 raw bytes into a fresh
// connection, 2 HPACK block, 3 Huffman string, 4 connection with the harness answering every request.

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

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let data = UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : count)
    var control = ControlBytes(data)
    let mode = control.choice(5)
    let rest = control.rest
    switch mode {
    case 0: fuzzConnection(rest, preface: true, answer: false)
    case 1: fuzzConnection(rest, preface: false, answer: false)
    case 2: fuzzHPACK(rest)
    case 3: fuzzHuffman(rest)
    default: fuzzConnection(rest, preface: true, answer: true)
    }
    return 0
}
