import Foundation

/// HTTP/2 bytes built by hand (RFC 9113 §3.4, §4.1, §6; RFC 7541 §5–§6 for field blocks), independent of the codec
/// under test, for tests that must send what a well-behaved client never would: any frame type, flag, length or
/// stream id, and field blocks as literal representations (no Huffman, no indexing unless asked for).
public enum H2Wire {
    /// The client connection preface (RFC 9113 §3.4).
    public static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Frame types (RFC 9113 §6).
    public static let data: UInt8 = 0x0, headers: UInt8 = 0x1, priority: UInt8 = 0x2, rstStream: UInt8 = 0x3,
        settings: UInt8 = 0x4, pushPromise: UInt8 = 0x5, ping: UInt8 = 0x6, goAway: UInt8 = 0x7,
        windowUpdate: UInt8 = 0x8, continuation: UInt8 = 0x9
    /// Flags.
    public static let endStream: UInt8 = 0x1, ack: UInt8 = 0x1, endHeaders: UInt8 = 0x4, padded: UInt8 = 0x8,
        priorityFlag: UInt8 = 0x20

    /// Error codes (RFC 9113 §7).
    public enum Code {
        public static let noError: UInt32 = 0x0, protocolError: UInt32 = 0x1, internalError: UInt32 = 0x2,
            flowControlError: UInt32 = 0x3, settingsTimeout: UInt32 = 0x4, streamClosed: UInt32 = 0x5,
            frameSizeError: UInt32 = 0x6, refusedStream: UInt32 = 0x7, cancel: UInt32 = 0x8,
            compressionError: UInt32 = 0x9, connectError: UInt32 = 0xa, enhanceYourCalm: UInt32 = 0xb

        /// The RFC's name of `code`, for messages.
        public static func name(_ code: UInt32) -> String {
            let names = [
                "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
                "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
                "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
            ]
            return Int(code) < names.count ? names[Int(code)] : "0x" + String(code, radix: 16)
        }
    }

    /// SETTINGS identifiers (RFC 9113 §6.5.2).
    public enum Setting {
        public static let headerTableSize: UInt16 = 0x1, enablePush: UInt16 = 0x2, maxConcurrentStreams: UInt16 = 0x3,
            initialWindowSize: UInt16 = 0x4, maxFrameSize: UInt16 = 0x5, maxHeaderListSize: UInt16 = 0x6
    }

    public static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// One frame: the 9-octet header (RFC 9113 §4.1) with `payload.count` as its length, then `payload`.
    public static func frame(_ type: UInt8, flags: UInt8 = 0, stream: UInt32, _ payload: [UInt8] = []) -> [UInt8] {
        frame(type, flags: flags, stream: stream, length: payload.count, payload)
    }

    /// A frame whose length field says `length` whatever the payload is (for length errors).
    public static func frame(_ type: UInt8, flags: UInt8 = 0, stream: UInt32, length: Int, _ payload: [UInt8])
        -> [UInt8]
    {
        [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, flags] + be32(stream)
            + payload
    }

    /// A SETTINGS frame with `values` (or an ACK).
    public static func settingsFrame(_ values: [(UInt16, UInt32)] = [], ack: Bool = false) -> [UInt8] {
        frame(settings, flags: ack ? H2Wire.ack : 0, stream: 0,
              values.flatMap { [UInt8($0.0 >> 8), UInt8($0.0 & 0xFF)] + be32($0.1) })
    }

    /// The client's preface and its SETTINGS.
    public static func handshake(_ values: [(UInt16, UInt32)] = []) -> [UInt8] { preface + settingsFrame(values) }

    /// A HEADERS frame; `padding` adds the Pad Length octet and that many zeros, `dependsOn` the priority fields.
    public static func headersFrame(
        _ stream: UInt32, _ block: [UInt8], endStream: Bool = true, endHeaders: Bool = true, padding: Int? = nil,
        dependsOn: UInt32? = nil, extraFlags: UInt8 = 0
    ) -> [UInt8] {
        var flags = extraFlags | (endStream ? H2Wire.endStream : 0) | (endHeaders ? H2Wire.endHeaders : 0)
        var payload = block
        if let dependsOn {
            flags |= priorityFlag
            payload = be32(dependsOn) + [15] + payload
        }
        if let padding {
            flags |= padded
            payload = [UInt8(padding)] + payload + [UInt8](repeating: 0, count: padding)
        }
        return frame(headers, flags: flags, stream: stream, payload)
    }

    /// A CONTINUATION frame.
    public static func continuationFrame(_ stream: UInt32, _ block: [UInt8], endHeaders: Bool = true) -> [UInt8] {
        frame(continuation, flags: endHeaders ? H2Wire.endHeaders : 0, stream: stream, block)
    }

    /// A DATA frame, optionally padded.
    public static func dataFrame(_ stream: UInt32, _ bytes: [UInt8], endStream: Bool = true, padding: Int? = nil)
        -> [UInt8]
    {
        guard let padding else { return frame(data, flags: endStream ? H2Wire.endStream : 0, stream: stream, bytes) }
        return frame(data, flags: (endStream ? H2Wire.endStream : 0) | padded, stream: stream,
                     [UInt8(padding)] + bytes + [UInt8](repeating: 0, count: padding))
    }

    /// A DATA frame with text.
    public static func dataFrame(_ stream: UInt32, _ text: String, endStream: Bool = true) -> [UInt8] {
        dataFrame(stream, Array(text.utf8), endStream: endStream)
    }

    public static func rstStreamFrame(_ stream: UInt32, _ code: UInt32) -> [UInt8] {
        frame(rstStream, stream: stream, be32(code))
    }

    public static func pingFrame(_ opaque: String, ack: Bool = false, flags: UInt8 = 0) -> [UInt8] {
        frame(ping, flags: flags | (ack ? H2Wire.ack : 0), stream: 0, Array(opaque.utf8))
    }

    public static func goAwayFrame(last: UInt32, _ code: UInt32, stream: UInt32 = 0) -> [UInt8] {
        frame(goAway, stream: stream, be32(last) + be32(code))
    }

    public static func windowUpdateFrame(_ stream: UInt32, _ increment: UInt32) -> [UInt8] {
        frame(windowUpdate, stream: stream, be32(increment))
    }

    public static func priorityFrame(_ stream: UInt32, dependsOn: UInt32, weight: UInt8 = 15) -> [UInt8] {
        frame(priority, stream: stream, be32(dependsOn) + [weight])
    }

    // MARK: - HPACK (RFC 7541)

    /// An integer with an N-bit prefix (§5.1); `first` holds the representation's pattern bits.
    public static func integer(_ value: Int, prefixBits: Int, first: UInt8 = 0) -> [UInt8] {
        let limit = (1 << prefixBits) - 1
        if value < limit { return [first | UInt8(value)] }
        var out = [first | UInt8(limit)]
        var rest = value - limit
        while rest >= 128 {
            out.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
        return out
    }

    /// A string literal without Huffman coding (§5.2).
    public static func string(_ bytes: [UInt8]) -> [UInt8] { integer(bytes.count, prefixBits: 7) + bytes }

    /// A Huffman-flagged string literal of `coded` octets as given (for malformed Huffman tests).
    public static func huffmanString(_ coded: [UInt8]) -> [UInt8] {
        integer(coded.count, prefixBits: 7, first: 0x80) + coded
    }

    /// Indexed Header Field (§6.1).
    public static func indexed(_ index: Int) -> [UInt8] { integer(index, prefixBits: 7, first: 0x80) }

    /// Literal Header Field without Indexing, new name (§6.2.2); `never` makes it Never Indexed (§6.2.3),
    /// `indexing` With Incremental Indexing (§6.2.1).
    public static func literal(_ name: String, _ value: String, indexing: Bool = false, never: Bool = false)
        -> [UInt8]
    {
        let first: [UInt8] = indexing ? [0x40] : never ? [0x10] : [0x00]
        return first + string(Array(name.utf8)) + string(Array(value.utf8))
    }

    /// A field block of literal fields (without indexing, new names).
    public static func block(_ fields: [(String, String)]) -> [UInt8] {
        fields.flatMap { literal($0.0, $0.1) }
    }

    /// The fields of a request: the four pseudo-header fields, then `extra`.
    public static func request(
        _ method: String = "GET", path: String, authority: String = "localhost", extra: [(String, String)] = []
    ) -> [(String, String)] {
        [(":method", method), (":scheme", "http"), (":authority", authority), (":path", path)] + extra
    }
}

/// A raw-socket HTTP/2 client in Python (standard library only: socket, struct, ssl): it sends bytes built with `H2Wire`
/// as told and records every frame the gateway sends back, decoding field blocks with its own HPACK decoder
/// (static and dynamic tables, Huffman). Two modes: `run(port:scripts:)` plays independent scripts, each on a
/// fresh connection; `runStreams(port:cases:)` sends generated requests as streams of shared connections.
public enum HTTP2FrameClient {
    /// One step of a script.
    public enum Step: Sendable {
        /// Write these bytes.
        case send([UInt8])
        /// Wait (up to 5 s) until the stream ended (END_STREAM from the gateway, or RST_STREAM) or the connection.
        case awaitEnd(UInt32)
        /// Wait until a response HEADERS arrived on the stream.
        case awaitHeaders(UInt32)
        /// Wait until a DATA frame arrived on the stream.
        case awaitData(UInt32)
        /// Wait until the gateway acknowledged our SETTINGS.
        case awaitSettingsAck
        /// Read for this many milliseconds.
        case sleep(Int)
        /// Record a marker in the transcript (to tell what came before a step from what came after).
        case mark(String)

        var json: [String: Any] {
            switch self {
            case .send(let bytes): ["send": bytes.map { String(format: "%02x", $0) }.joined()]
            case .awaitEnd(let id): ["await": "end", "stream": id]
            case .awaitHeaders(let id): ["await": "headers", "stream": id]
            case .awaitData(let id): ["await": "data", "stream": id]
            case .awaitSettingsAck: ["await": "settings-ack"]
            case .sleep(let ms): ["sleep": ms]
            case .mark(let label): ["mark": label]
            }
        }
    }

    /// What a script does; after its steps (unless `finalPing` is false) the client sends a PING and waits for its
    /// ACK, which shows the connection still serves and that every frame before it was processed.
    public struct Script: Sendable {
        public var steps: [Step]
        public var finalPing: Bool
        public init(_ steps: [Step], finalPing: Bool = true) {
            self.steps = steps
            self.finalPing = finalPing
        }
    }

    /// The opaque data of the final PING.
    public static let finalPingOpaque = "finalchk"

    /// One thing the client saw, in order: a frame (`type` is `data`, `headers`, `rst`, `settings`, `ping`,
    /// `goaway`, `window`, or `frame` for others), `eof`, `timeout`, `mark`, `send-failed`, or `alpn` (TLS chose
    /// another protocol than h2: `label`).
    public struct Event: Sendable, CustomStringConvertible {
        public let type: String
        public let stream: UInt32
        public let code: UInt32?
        public let end: Bool
        public let ack: Bool
        public let fields: [(String, String)]
        public let hpackError: String?
        public let text: String
        public let length: Int
        public let opaque: String
        public let last: UInt32
        public let label: String
        public let values: [(UInt16, UInt32)]

        init(_ object: [String: Any]) {
            func int(_ key: String) -> Int? { (object[key] as? NSNumber)?.intValue }
            type = object["type"] as? String ?? "?"
            stream = UInt32(int("stream") ?? 0)
            code = int("code").map { UInt32($0) }
            end = object["end"] as? Bool ?? false
            ack = object["ack"] as? Bool ?? false
            fields = (object["fields"] as? [[String]] ?? []).map { ($0[0], $0[1]) }
            hpackError = object["hpack-error"] as? String
            text = object["text"] as? String ?? ""
            length = int("length") ?? 0
            opaque = object["opaque"] as? String ?? ""
            last = UInt32(int("last") ?? 0)
            label = object["label"] as? String ?? ""
            values = (object["values"] as? [[NSNumber]] ?? []).map { (UInt16($0[0].intValue), UInt32($0[1].intValue)) }
        }

        public var description: String {
            switch type {
            case "data": "DATA(\(stream), \(length)\(end ? ", END_STREAM" : ""))"
            case "headers":
                "HEADERS(\(stream)\(end ? ", END_STREAM" : ""), \(hpackError ?? fields.map { "\($0.0): \($0.1)" }.joined(separator: "; ")))"
            case "rst": "RST_STREAM(\(stream), \(H2Wire.Code.name(code ?? 0)))"
            case "settings": ack ? "SETTINGS(ACK)" : "SETTINGS(\(values.map { "\($0.0)=\($0.1)" }.joined(separator: ",")))"
            case "ping": "PING(\(ack ? "ACK, " : "")\(opaque))"
            case "goaway": "GOAWAY(last \(last), \(H2Wire.Code.name(code ?? 0)))"
            case "window": "WINDOW_UPDATE(\(stream))"
            case "mark": "<\(label)>"
            default: type.uppercased()
            }
        }
    }

    /// Everything one script's connection saw.
    public struct Transcript: Sendable, CustomStringConvertible {
        public let events: [Event]
        /// A Python exception, if the script itself failed.
        public let error: String?

        public var description: String {
            (error.map { "client error: \($0); " } ?? "") + events.map(\.description).joined(separator: " ")
        }
        /// The first GOAWAY.
        public var goAway: Event? { events.first { $0.type == "goaway" } }
        /// RST_STREAM frames on `stream`.
        public func resets(_ stream: UInt32) -> [Event] { events.filter { $0.type == "rst" && $0.stream == stream } }
        /// Every RST_STREAM.
        public var allResets: [Event] { events.filter { $0.type == "rst" } }
        /// The final (non-1xx) `:status` of `stream`, when a response head arrived.
        public func status(_ stream: UInt32) -> Int? {
            for event in events where event.type == "headers" && event.stream == stream {
                if let value = event.fields.first(where: { $0.0 == ":status" })?.1, let code = Int(value), code >= 200 {
                    return code
                }
            }
            return nil
        }
        /// Whether the gateway ended `stream` with END_STREAM.
        public func ended(_ stream: UInt32) -> Bool {
            events.contains { ($0.type == "data" || $0.type == "headers") && $0.stream == stream && $0.end }
        }
        /// The response body of `stream`.
        public func body(_ stream: UInt32) -> String {
            events.filter { $0.type == "data" && $0.stream == stream }.map(\.text).joined()
        }
        /// Whether a PING ACK carrying `opaque` (text) arrived.
        public func pingAcked(_ opaque: String) -> Bool {
            let hex = opaque.utf8.map { String(format: "%02x", $0) }.joined()
            return events.contains { $0.type == "ping" && $0.ack && $0.opaque == hex }
        }
        /// The final PING was answered: the connection was still serving after every step.
        public var alive: Bool { pingAcked(HTTP2FrameClient.finalPingOpaque) && goAway == nil }
        /// The gateway closed the connection.
        public var closed: Bool { events.contains { $0.type == "eof" } }
        /// A HEADERS block the client could not decode.
        public var hpackErrors: [String] { events.compactMap(\.hpackError) }
    }

    /// Writes the driver once per process.
    static let scriptPath: String = {
        let directory = (try? GatewayProcess.makeTempDirectory()) ?? "/tmp"
        let path = directory + "/h2client.py"
        try? ChildProcess.writeFile(path, source)
        return path
    }()

    static func python(_ port: UInt16, mode: String, input: Any, caFile: String? = nil, timeoutMs: Int) throws -> Any {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        let inputPath = directory + "/input.json"
        let data = try JSONSerialization.data(withJSONObject: input)
        try ChildProcess.writeFile(inputPath, String(decoding: data, as: UTF8.self))
        let result = try Tool.run(
            "/usr/bin/env", ["python3", scriptPath, "\(port)", mode, inputPath] + (caFile.map { [$0] } ?? []),
            timeoutMs: timeoutMs)
        guard result.termination == .exited(0),
            let output = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        else {
            throw TestSupportError("h2 client failed (\(result.termination)): \(result.stderr.suffix(2000))")
        }
        return output
    }

    /// Plays every script on its own connection to 127.0.0.1:`port` (a few at once); transcripts in order. With
    /// `caFile` each connection is TLS (server name `localhost`, verified against that CA) offering ALPN `h2` only.
    public static func run(port: UInt16, scripts: [Script], caFile: String? = nil, timeoutMs: Int = 120_000) throws
        -> [Transcript]
    {
        let input = scripts.map { script -> [String: Any] in
            ["steps": script.steps.map(\.json), "final_ping": script.finalPing]
        }
        let output = try python(port, mode: "scripts", input: input, caFile: caFile, timeoutMs: timeoutMs)
            as? [[String: Any]] ?? []
        return output.map { object in
            Transcript(
                events: (object["events"] as? [[String: Any]] ?? []).map(Event.init), error: object["error"] as? String)
        }
    }

    /// One generated request for `runStreams`: `fields` as (name, value, representation, huffman) where the
    /// representation is `plain` (literal without indexing), `index` (indexed once in the table, referenced
    /// after) or `never`; the block split into frames of `split` octets; DATA chunks with optional padding;
    /// trailers (a last HEADERS with END_STREAM) or none.
    public struct StreamRequest: Sendable {
        public var fields: [(String, String, String, Bool)]
        public var split: Int
        public var endOnHeaders: Bool
        public var data: [(String, Int)]
        public var trailers: [(String, String)]?

        public init(
            fields: [(String, String, String, Bool)], split: Int = 16384, endOnHeaders: Bool, data: [(String, Int)] = [],
            trailers: [(String, String)]? = nil
        ) {
            self.fields = fields
            self.split = split
            self.endOnHeaders = endOnHeaders
            self.data = data
            self.trailers = trailers
        }
    }

    /// How a generated request's stream ended.
    public struct StreamResult: Sendable, CustomStringConvertible {
        public let stream: UInt32
        public let status: Int?
        public let reset: UInt32?
        public let goAway: UInt32?
        public let body: String
        public let timedOut: Bool

        public var description: String {
            "stream \(stream): status \(status.map(String.init) ?? "none"), "
                + "RST_STREAM \(reset.map(H2Wire.Code.name) ?? "none"), GOAWAY \(goAway.map(H2Wire.Code.name) ?? "none")"
                + (timedOut ? ", timed out" : "") + (body.isEmpty ? "" : ", body \(body.prefix(160))")
        }
    }

    /// Sends each request as one stream, in order, waiting for each to end before the next; requests share a
    /// connection until the gateway ends it (GOAWAY or close), then the next one opens a new connection.
    public static func runStreams(port: UInt16, _ requests: [StreamRequest], timeoutMs: Int = 120_000) throws
        -> [StreamResult]
    {
        let input = requests.map { r -> [String: Any] in
            var object: [String: Any] = [
                "fields": r.fields.map { [$0.0, $0.1, $0.2, $0.3] as [Any] }, "split": r.split,
                "end_on_headers": r.endOnHeaders, "data": r.data.map { [$0.0, $0.1] as [Any] },
            ]
            if let trailers = r.trailers { object["trailers"] = trailers.map { [$0.0, $0.1, "plain", false] as [Any] } }
            return object
        }
        let output = try python(port, mode: "streams", input: input, timeoutMs: timeoutMs) as? [[String: Any]] ?? []
        return output.map { o in
            StreamResult(
                stream: UInt32((o["stream"] as? NSNumber)?.intValue ?? 0), status: (o["status"] as? NSNumber)?.intValue,
                reset: (o["rst"] as? NSNumber).map { UInt32($0.intValue) },
                goAway: (o["goaway"] as? NSNumber).map { UInt32($0.intValue) }, body: o["body"] as? String ?? "",
                timedOut: o["timeout"] as? Bool ?? false)
        }
    }

    /// The client (Python 3, standard library only).
    static let source = #"""
import json, socket, struct, sys, threading, time

# HPACK Huffman code (RFC 7541 Appendix B): the code is canonical, so the lengths of symbols 0..256 define it
# (one letter per symbol, 'A' = 5 bits). Checked against the appendix C examples before anything runs.
LENGTHS = [ord(c) - ord("A") + 5 for c in (
    "ISXXXXXXXTZXXZXXXXXXXXZXXXXXXXXXBFFHIBDGFFDGDBBBAAABBBBBBBCDKBHFIBCCCCCCCCCCCCCCCCCCCCCCDCDIOIJBKABABABBBACCBB"
    "BABCBAABCCCCCKGJIXPRPPRRRSRSSSSSTSTTRSTSSSSQRSRSSTRQPRRSSQSRRTQRSSQQRQSRSSPRRRSRRSVVPORSRUVVVWWVTUOQVWWVWTQQV"
    "VXWWWPTPQRQQSRRUUTTVSVWVVWWWWWXWWWWWVZ")]
CODES, code = [0] * 257, 0
for length in range(1, 31):
    for symbol in range(257):
        if LENGTHS[symbol] == length:
            CODES[symbol] = code
            code += 1
    code <<= 1
DECODE = {(CODES[s], LENGTHS[s]): s for s in range(257)}


def huff_encode(data):
    acc, bits, out = 0, 0, bytearray()
    for b in data:
        acc, bits = (acc << LENGTHS[b]) | CODES[b], bits + LENGTHS[b]
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if bits:
        out.append(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xFF)
    return bytes(out)


def huff_decode(data):
    out, cur, n = bytearray(), 0, 0
    for byte in data:
        for i in range(7, -1, -1):
            cur, n = (cur << 1) | ((byte >> i) & 1), n + 1
            symbol = DECODE.get((cur, n))
            if symbol is not None:
                if symbol == 256:
                    raise ValueError("EOS in Huffman string")
                out.append(symbol)
                cur, n = 0, 0
    if n > 7 or cur != (1 << n) - 1:
        raise ValueError("bad Huffman padding")
    return bytes(out)


for text, hexed in [(b"www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"), (b"no-cache", "a8eb10649cbf"),
                    (b"custom-key", "25a849e95ba97d7f"), (b"custom-value", "25a849e95bb8e8b4bf"),
                    (b"302", "6402"), (b"private", "aec3771a4b"),
                    (b"Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"),
                    (b"https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3")]:
    if huff_encode(text).hex() != hexed or huff_decode(bytes.fromhex(hexed)) != text:
        sys.exit("Huffman table does not match RFC 7541 appendix C for %r" % text)
if sum(2.0 ** -n for n in LENGTHS) != 1.0:
    sys.exit("Huffman code is not complete")

STATIC = [None] + [tuple(e.split("=", 1)) if "=" in e else (e, "") for e in (
    ":authority|:method=GET|:method=POST|:path=/|:path=/index.html|:scheme=http|:scheme=https|:status=200|"
    ":status=204|:status=206|:status=304|:status=400|:status=404|:status=500|accept-charset|"
    "accept-encoding=gzip, deflate|accept-language|accept-ranges|accept|access-control-allow-origin|age|allow|"
    "authorization|cache-control|content-disposition|content-encoding|content-language|content-length|"
    "content-location|content-range|content-type|cookie|date|etag|expect|expires|from|host|if-match|"
    "if-modified-since|if-none-match|if-range|if-unmodified-since|last-modified|link|location|max-forwards|"
    "proxy-authenticate|proxy-authorization|range|referer|refresh|retry-after|server|set-cookie|"
    "strict-transport-security|transfer-encoding|user-agent|vary|via|www-authenticate").split("|")]
assert len(STATIC) == 62


def enc_int(value, prefix, first):
    limit = (1 << prefix) - 1
    if value < limit:
        return bytes([first | value])
    out, value = bytearray([first | limit]), value - limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def dec_int(buf, i, prefix):
    limit = (1 << prefix) - 1
    value, i = buf[i] & limit, i + 1
    if value < limit:
        return value, i
    shift = 0
    while True:
        b = buf[i]
        i += 1
        value += (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def enc_str(data, huffman):
    if huffman:
        h = huff_encode(data)
        return enc_int(len(h), 7, 0x80) + h
    return enc_int(len(data), 7, 0) + data


class Table:
    """An HPACK dynamic table (RFC 7541 §2.3.2, §4)."""

    def __init__(self, size=4096):
        self.entries, self.size, self.max = [], 0, size

    def get(self, index):
        if 1 <= index <= 61:
            return STATIC[index]
        if index - 62 < 0 or index - 62 >= len(self.entries):
            raise ValueError("invalid index %d" % index)
        return self.entries[index - 62]

    def add(self, name, value):
        self.entries.insert(0, (name, value))
        self.size += len(name) + len(value) + 32
        self.resize(self.max)

    def resize(self, size):
        self.max = size
        while self.size > self.max and self.entries:
            n, v = self.entries.pop()
            self.size -= len(n) + len(v) + 32


def decode_block(table, buf):
    fields, i = [], 0
    while i < len(buf):
        b = buf[i]
        if b & 0x80:
            index, i = dec_int(buf, i, 7)
            fields.append(table.get(index))
            continue
        if b & 0xE0 == 0x20:
            size, i = dec_int(buf, i, 5)
            table.resize(size)
            continue
        prefix = 6 if b & 0x40 else 4
        index, i = dec_int(buf, i, prefix)
        if index:
            name = table.get(index)[0]
        else:
            huffman = buf[i] & 0x80
            n, i = dec_int(buf, i, 7)
            name, i = (huff_decode(buf[i:i + n]) if huffman else bytes(buf[i:i + n])).decode("latin-1"), i + n
        huffman = buf[i] & 0x80
        n, i = dec_int(buf, i, 7)
        value, i = (huff_decode(buf[i:i + n]) if huffman else bytes(buf[i:i + n])).decode("latin-1"), i + n
        if prefix == 6:
            table.add(name, value)
        fields.append((name, value))
    return fields


class Encoder:
    """Field blocks for the generated requests: each field literal, indexed (added to the table, or referenced
    once it is there) or never indexed, its strings Huffman-coded or not, as the case says."""

    def __init__(self):
        self.table = Table()

    def encode(self, fields):
        out = bytearray()
        for name, value, mode, huffman in fields:
            nb, vb = name.encode("latin-1"), value.encode("latin-1")
            if mode == "index":
                exact = [i for i in range(1, 62) if STATIC[i] == (name, value)]
                exact += [62 + k for k, e in enumerate(self.table.entries) if e == (name, value)]
                if exact:
                    out += enc_int(exact[0], 7, 0x80)
                    continue
            named = [i for i in range(1, 62) if STATIC[i][0] == name]
            prefix, first = {"index": (6, 0x40), "never": (4, 0x10)}.get(mode, (4, 0x00))
            if named:
                out += enc_int(named[0], prefix, first)
            else:
                out += enc_int(0, prefix, first) + enc_str(nb, huffman)
            out += enc_str(vb, huffman)
            if mode == "index":
                self.table.add(name, value)
        return bytes(out)


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class Conn:
    def __init__(self, port, ca=None):
        self.buf, self.events, self.eof = b"", [], False
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if ca:
            import ssl
            context = ssl.create_default_context(cafile=ca)
            context.set_alpn_protocols(["h2"])
            self.sock = context.wrap_socket(self.sock, server_hostname="localhost")
            if self.sock.selected_alpn_protocol() != "h2":
                self.events.append({"type": "alpn", "label": str(self.sock.selected_alpn_protocol())})
        self.table, self.block = Table(), None
        self.ended, self.status, self.bodies = set(), {}, {}

    def send(self, data):
        try:
            self.sock.settimeout(5)
            self.sock.sendall(data)
        except OSError as error:
            self.events.append({"type": "send-failed", "error": str(error)})

    def pump(self, timeout):
        """Reads what arrives within `timeout` seconds and records it; False once the peer closed."""
        if self.eof:
            return False
        try:
            self.sock.settimeout(max(timeout, 0.001))
            chunk = self.sock.recv(1 << 20)
        except (TimeoutError, socket.timeout, BlockingIOError):
            return True
        except OSError:
            chunk = b""  # a reset (or a TLS error) ends the connection like a close
        if not chunk:
            self.eof = True
            self.events.append({"type": "eof"})
            return False
        self.buf += chunk
        while len(self.buf) >= 9:
            length = int.from_bytes(self.buf[0:3], "big")
            if len(self.buf) < 9 + length:
                break
            kind, flags = self.buf[3], self.buf[4]
            stream = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
            payload, self.buf = self.buf[9:9 + length], self.buf[9 + length:]
            self.on_frame(kind, flags, stream, payload)
        return True

    def on_frame(self, kind, flags, stream, payload):
        ev = {"type": "frame", "kind": kind, "flags": flags, "stream": stream, "length": len(payload)}
        if kind in (0, 1) and flags & 0x8:
            pad = payload[0]
            payload = payload[1:len(payload) - pad]
        if kind == 0:
            ev.update(type="data", end=bool(flags & 1), text=payload[:4000].decode("latin-1"))
            self.bodies[stream] = self.bodies.get(stream, b"") + payload
            if flags & 1:
                self.ended.add(stream)
        elif kind == 1 or kind == 9:
            if kind == 1:
                if flags & 0x20:
                    payload = payload[5:]
                self.block = [stream, flags, b""]
            if self.block is None:
                self.events.append({"type": "stray-continuation", "stream": stream})
                return
            self.block[2] += payload
            if not flags & 0x4:
                return
            stream, first, block = self.block
            self.block = None
            ev = {"type": "headers", "stream": stream, "end": bool(first & 1)}
            try:
                ev["fields"] = [list(f) for f in decode_block(self.table, block)]
                status = [v for n, v in ev["fields"] if n == ":status"]
                if status and int(status[0]) >= 200:
                    self.status[stream] = int(status[0])
            except (ValueError, IndexError) as error:
                ev["hpack-error"] = str(error)
            if first & 1:
                self.ended.add(stream)
        elif kind == 3:
            ev.update(type="rst", code=int.from_bytes(payload[0:4], "big"))
            self.ended.add(stream)
        elif kind == 4:
            values = [[int.from_bytes(payload[k:k + 2], "big"), int.from_bytes(payload[k + 2:k + 6], "big")]
                      for k in range(0, len(payload) - 5, 6)]
            ev.update(type="settings", ack=bool(flags & 1), values=values)
            if not flags & 1:
                self.send(frame(4, 1, 0))
        elif kind == 6:
            ev.update(type="ping", ack=bool(flags & 1), opaque=payload.hex())
            if not flags & 1:
                self.send(frame(6, 1, 0, payload))
        elif kind == 7:
            ev.update(type="goaway", last=int.from_bytes(payload[0:4], "big") & 0x7FFFFFFF,
                      code=int.from_bytes(payload[4:8], "big"), debug=payload[8:200].decode("latin-1"))
        elif kind == 8:
            ev.update(type="window", increment=int.from_bytes(payload[0:4], "big") & 0x7FFFFFFF)
        self.events.append(ev)

    def wait(self, done, timeout=5.0):
        deadline = time.time() + timeout
        while not done():
            left = deadline - time.time()
            if left <= 0:
                self.events.append({"type": "timeout"})
                return False
            if not self.pump(min(left, 0.5)):
                return done()
        return True

    def has(self, kind, **match):
        return any(e["type"] == kind and all(e.get(k) == v for k, v in match.items()) for e in self.events)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


FINAL_PING = b"finalchk"


def run_script(port, script, ca=None):
    """Conformance mode: sends the steps' bytes, waits where told, then (unless told otherwise) a PING whose ACK
    shows the connection still serves; a GOAWAY is followed by waiting for the close."""
    conn = Conn(port, ca)
    for step in script["steps"]:
        if "send" in step:
            conn.send(bytes.fromhex(step["send"]))
        elif "sleep" in step:
            end = time.time() + step["sleep"] / 1000.0
            while time.time() < end and conn.pump(end - time.time()):
                pass
        elif "mark" in step:
            conn.events.append({"type": "mark", "label": step["mark"]})
        else:
            what, sid = step["await"], step.get("stream", 0)
            conn.wait({
                "end": lambda: sid in conn.ended,
                "headers": lambda: conn.has("headers", stream=sid),
                "data": lambda: conn.has("data", stream=sid),
                "settings-ack": lambda: conn.has("settings", ack=True),
                "goaway": lambda: conn.has("goaway"),
            }[what], step.get("timeout", 5.0))
        if conn.eof:
            break
    if script.get("final_ping", True) and not conn.eof:
        conn.send(frame(6, 0, 0, FINAL_PING))
        conn.wait(lambda: conn.has("ping", ack=True, opaque=FINAL_PING.hex()) or conn.has("goaway"))
    if conn.has("goaway"):
        conn.wait(lambda: conn.eof, 3.0)
    conn.close()
    return {"events": conn.events}


def run_streams(port, cases):
    """Property mode: each case is one request stream, sent whole, then awaited; cases share a connection until the
    gateway ends it. Reports per case the status, body, RST_STREAM or GOAWAY code."""
    results, conn, encoder, sid = [], None, None, 1
    for case in cases:
        if conn is None:
            conn, encoder, sid = Conn(port), Encoder(), 1
            settings = struct.pack(">HI", 2, 0) + struct.pack(">HI", 4, 0x7FFFFFFF)
            conn.send(PREFACE + frame(4, 0, 0, settings) + frame(8, 0, 0, struct.pack(">I", 0x7FFFFFFF - 65535)))
        block = encoder.encode(case["fields"])
        split = max(1, case.get("split", 16384))
        pieces = [block[k:k + split] for k in range(0, len(block), split)] or [b""]
        end_on_headers = case["end_on_headers"]
        out = bytearray()
        for k, piece in enumerate(pieces):
            last = 0x4 if k == len(pieces) - 1 else 0
            if k == 0:
                out += frame(1, last | (1 if end_on_headers else 0), sid, piece)
            else:
                out += frame(9, last, sid, piece)
        chunks = case.get("data", [])
        trailers = case.get("trailers")
        for k, (text, pad) in enumerate(chunks):
            payload = text.encode("latin-1")
            end = 1 if k == len(chunks) - 1 and trailers is None else 0
            if pad >= 0:
                out += frame(0, end | 0x8, sid, bytes([pad]) + payload + bytes(pad))
            else:
                out += frame(0, end, sid, payload)
        if trailers is not None:
            out += frame(1, 0x5, sid, encoder.encode(trailers))
        conn.events = []
        conn.send(bytes(out))
        conn.wait(lambda: sid in conn.ended or conn.has("goaway"), 10.0)
        rst = [e["code"] for e in conn.events if e["type"] == "rst" and e["stream"] == sid]
        goaway = [e["code"] for e in conn.events if e["type"] == "goaway"]
        body = conn.bodies.pop(sid, b"")
        results.append({"stream": sid, "status": conn.status.pop(sid, None), "rst": rst[0] if rst else None,
                        "goaway": goaway[0] if goaway else None, "body": body[:400].decode("latin-1"),
                        "timeout": conn.has("timeout")})
        sid += 2
        if goaway or conn.eof or conn.has("timeout"):
            conn.close()
            conn = None
    if conn is not None:
        conn.close()
    return results


def run_scripts(port, scripts, ca=None, workers=6):
    """Runs independent scripts, each on its own connection, a few at a time."""
    results, lock, queue = [None] * len(scripts), threading.Lock(), list(range(len(scripts)))

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                index = queue.pop(0)
            try:
                results[index] = run_script(port, scripts[index], ca)
            except Exception as error:
                results[index] = {"events": [], "error": repr(error)}

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


if __name__ == "__main__":
    port, mode, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ca = sys.argv[4] if len(sys.argv) > 4 else None
    with open(path) as f:
        request = json.load(f)
    result = run_scripts(port, request, ca) if mode == "scripts" else run_streams(port, request)
    print(json.dumps(result))
"""#
}
