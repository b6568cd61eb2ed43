import MeshHTTP2

/// One second in the `now` unit (nanoseconds).
let second: UInt64 = 1_000_000_000

/// Frame builders for the client side of tests (RFC 9113 §4.1 layout, written by hand rather than with the
/// module's writer so that a writer bug cannot hide a parser bug).
enum Wire {
    static func frame(_ type: UInt8, _ flags: UInt8 = 0, stream: UInt32 = 0, _ payload: [UInt8] = []) -> [UInt8] {
        let n = payload.count
        return [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), type, flags]
            + be32(stream) + payload
    }

    static func be32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    static func settings(_ entries: [(UInt16, UInt32)] = []) -> [UInt8] {
        frame(0x4, 0, stream: 0, entries.flatMap { [UInt8($0.0 >> 8), UInt8($0.0 & 0xFF)] + be32($0.1) })
    }

    static let settingsAck = frame(0x4, 0x1)

    static func ping(_ opaque: UInt8 = 7, ack: Bool = false) -> [UInt8] {
        frame(0x6, ack ? 1 : 0, stream: 0, [UInt8](repeating: opaque, count: 8))
    }

    static func data(_ stream: UInt32, _ payload: [UInt8], endStream: Bool = false) -> [UInt8] {
        frame(0x0, endStream ? 0x1 : 0, stream: stream, payload)
    }

    static func rst(_ stream: UInt32, _ code: UInt32 = 0x8) -> [UInt8] { frame(0x3, 0, stream: stream, be32(code)) }

    static func windowUpdate(_ stream: UInt32, _ increment: UInt32) -> [UInt8] {
        frame(0x8, 0, stream: stream, be32(increment))
    }

    static func headers(_ stream: UInt32, block: [UInt8], endStream: Bool = true, endHeaders: Bool = true) -> [UInt8] {
        frame(0x1, (endStream ? 0x1 : 0) | (endHeaders ? 0x4 : 0), stream: stream, block)
    }

    static func continuation(_ stream: UInt32, block: [UInt8], endHeaders: Bool = true) -> [UInt8] {
        frame(0x9, endHeaders ? 0x4 : 0, stream: stream, block)
    }

    /// A field block for `fields`, each as a literal without indexing with a literal name (RFC 7541 §6.2.2),
    /// so tests control exactly what is sent (uppercase names included).
    static func block(_ fields: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (name, value) in fields {
            out.append(0x00)
            HPACKInteger.encode(name.utf8.count, prefixBits: 7, firstByte: 0, into: &out)
            out += Array(name.utf8)
            HPACKInteger.encode(value.utf8.count, prefixBits: 7, firstByte: 0, into: &out)
            out += Array(value.utf8)
        }
        return out
    }

    static let get: [(String, String)] = [
        (":method", "GET"), (":scheme", "https"), (":path", "/"), (":authority", "example.com"),
    ]
    static let post: [(String, String)] = [
        (":method", "POST"), (":scheme", "https"), (":path", "/upload"), (":authority", "example.com"),
    ]
}

/// A frame the server wrote.
struct SentFrame: Equatable {
    var type: UInt8
    var flags: UInt8
    var stream: UInt32
    var payload: [UInt8]

    var code: UInt32 { payload.count >= 4 ? UInt32(payload[0]) << 24 | UInt32(payload[1]) << 16
        | UInt32(payload[2]) << 8 | UInt32(payload[3]) : 0 }
}

/// Splits server output into frames.
func frames(_ bytes: [UInt8]) -> [SentFrame] {
    var out: [SentFrame] = []
    var i = 0
    while i + 9 <= bytes.count {
        let n = Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
        let stream = UInt32(bytes[i + 5] & 0x7F) << 24 | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 8
            | UInt32(bytes[i + 8])
        out.append(SentFrame(type: bytes[i + 3], flags: bytes[i + 4], stream: stream, payload: Array(bytes[(i + 9)..<(i + 9 + n)])))
        i += 9 + n
    }
    precondition(i == bytes.count, "trailing partial frame in server output")
    return out
}

/// A server connection past the preface and SETTINGS exchange, output drained.
func connected(_ limits: HTTP2Limits = HTTP2Limits(), now: UInt64 = 0) -> HTTP2ServerConnection {
    var connection = HTTP2ServerConnection(limits: limits)
    let events = connection.feed(HTTP2ServerConnection.preface + Wire.settings() + Wire.settingsAck, now: now)
    precondition(events.isEmpty, "unexpected events in handshake: \(events)")
    _ = connection.takeOutbound()
    return connection
}

/// The GOAWAY error code in `bytes`, if any.
func goAwayCode(_ bytes: [UInt8]) -> HTTP2ErrorCode? {
    guard let frame = frames(bytes).last(where: { $0.type == 0x7 }) else { return nil }
    return HTTP2ErrorCode(rawValue: UInt32(frame.payload[4]) << 24 | UInt32(frame.payload[5]) << 16
        | UInt32(frame.payload[6]) << 8 | UInt32(frame.payload[7]))
}

/// RST_STREAM frames in `bytes` as (stream, code).
func resets(_ bytes: [UInt8]) -> [(UInt32, HTTP2ErrorCode)] {
    frames(bytes).filter { $0.type == 0x3 }.map { ($0.stream, HTTP2ErrorCode(rawValue: $0.code)) }
}

/// The connection error in `events`, if any.
func connectionError(_ events: [HTTP2Event]) -> (HTTP2ErrorCode, HTTP2ConnectionFailure)? {
    for event in events { if case .connectionError(let code, let reason) = event { return (code, reason) } }
    return nil
}

/// The stream ids of `.request` events.
func requests(_ events: [HTTP2Event]) -> [UInt32] {
    events.compactMap { if case .request(let id, _, _) = $0 { return id } else { return nil } }
}
