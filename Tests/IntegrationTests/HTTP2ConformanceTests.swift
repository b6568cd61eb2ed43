import Foundation
import Glibc
import MeshTestSupport
import Testing

/// RFC 9113 and RFC 7541 walked section by section the way h2spec does (generic, §3–§8, HPACK), through the real
/// gateway: each case is a script of hand-built frames (`H2Wire`) played by a raw-socket Python client on a fresh
/// connection, and what the RFC requires of the server is asserted on what came back — the connection error code
/// in GOAWAY (and the close), the RST_STREAM code, or a valid response. Malformed requests must also never reach the
/// upstream, and the connection must go on serving (SPEC §10).
///
/// One gateway serves the whole suite (one more for the TLS run): every script runs once, a few connections at a
/// time, on first use; each parametrized case then checks its own transcript. The same cases run over h2c (prior
/// knowledge on the plaintext listener) and over TLS with h2 chosen by ALPN.
@Suite struct HTTP2ConformanceTests {
    typealias Step = HTTP2FrameClient.Step
    typealias Code = H2Wire.Code

    /// What a case requires.
    enum Check: Sendable {
        /// GOAWAY with this code, then the connection closes (§5.4.1).
        case connectionError(UInt32)
        /// RST_STREAM on the stream with one of these codes, or a GOAWAY with one (§5.4.1: an endpoint may treat a
        /// stream error as a connection error).
        case streamError(UInt32, [UInt32])
        /// RST_STREAM on the stream with this code, and the connection keeps serving (SPEC §10: malformed requests
        /// end their stream, not the connection).
        case resetKeepsServing(UInt32, UInt32)
        /// A complete response with this `:status` on the stream.
        case status(UInt32, Int)
        /// No RST_STREAM, no GOAWAY, and the final PING was acknowledged.
        case ignored
        /// No GOAWAY, and the final PING was acknowledged.
        case alive
        /// No GOAWAY other than NO_ERROR.
        case noErrorGoAway
        /// A PING ACK with this opaque text arrived.
        case pingAck(String)
        /// No PING with this opaque text arrived at all.
        case noPing(String)
        /// The first frame from the gateway is a SETTINGS frame (not an ACK).
        case firstFrameSettings
        /// The gateway's first SETTINGS carry these values.
        case serverSettings([(UInt16, UInt32)])
        /// The gateway acknowledged this many of our SETTINGS frames.
        case settingsAcks(Int)
        /// The connection closed without any HTTP/2 frame that shows it served (no PING ACK, no response).
        case closedWithoutServing
        /// The GOAWAY names this last stream.
        case goAwayLastStream(UInt32)
        /// No DATA with payload on the stream before the marker.
        case noDataBefore(String, UInt32)
        /// At least one DATA on the stream, none longer than this.
        case dataFramesAtMost(UInt32, Int)
        /// The echoed response body of the stream contains this text (the echo upstream answers with the request
        /// head and body it received).
        case bodyContains(UInt32, String)
        /// The response body of the stream does not contain this text.
        case bodyLacks(UInt32, String)
        /// The upstream never received a request for this path.
        case upstreamNever(String)
        /// The upstream received a request for this path with exactly this body.
        case upstreamBody(String, String)
        /// The upstream received a request for this path with a body of this many octets.
        case upstreamBodyCount(String, Int)
        /// Every check of one of the lists holds (for places where the RFC allows different answers).
        case anyOf([[Check]])
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let index: Int
        let name: String
        let script: HTTP2FrameClient.Script
        let checks: [Check]
        var testDescription: String { name }
    }

    /// Builds one case's frames: paths are unique per case and stream, so the upstream's records tell cases apart.
    struct Builder {
        let index: Int
        func path(_ stream: UInt32) -> String { "/c\(index)/s\(stream)" }
        func slowPath(_ stream: UInt32) -> String { "/slow/c\(index)/s\(stream)" }
        func fields(_ stream: UInt32, _ method: String = "GET", extra: [(String, String)] = []) -> [(String, String)] {
            H2Wire.request(method, path: path(stream), extra: extra)
        }
        /// HEADERS of a GET (END_STREAM unless told otherwise).
        func get(_ stream: UInt32, extra: [(String, String)] = [], endStream: Bool = true, flags: UInt8 = 0)
            -> [UInt8]
        {
            H2Wire.headersFrame(stream, H2Wire.block(fields(stream, extra: extra)), endStream: endStream, extraFlags: flags)
        }
        /// HEADERS of a GET to the slow upstream (answers after 3 s): the stream stays half-closed (remote).
        func slow(_ stream: UInt32) -> [UInt8] {
            H2Wire.headersFrame(stream, H2Wire.block(H2Wire.request(path: slowPath(stream))))
        }
        /// HEADERS of a POST without END_STREAM: the stream stays open (the upstream waits for the body).
        func post(_ stream: UInt32, contentLength: Int? = nil) -> [UInt8] {
            let extra = contentLength.map { [("content-length", "\($0)")] } ?? []
            return H2Wire.headersFrame(stream, H2Wire.block(fields(stream, "POST", extra: extra)), endStream: false)
        }
        /// HEADERS with exactly these fields.
        func headers(_ stream: UInt32, _ fields: [(String, String)], endStream: Bool = true) -> [UInt8] {
            H2Wire.headersFrame(stream, H2Wire.block(fields), endStream: endStream)
        }
    }

    static let handshake = H2Wire.handshake()

    // MARK: - The cases

    static let cases: [Case] = {
        var list: [Case] = []
        func add(_ name: String, finalPing: Bool = true, _ make: (Builder) -> ([Step], [Check])) {
            let (steps, checks) = make(Builder(index: list.count))
            list.append(Case(index: list.count, name: name, script: .init(steps, finalPing: finalPing), checks: checks))
        }
        /// A connection error after the handshake, caused by `bytes`.
        func connectionError(_ name: String, _ code: UInt32, _ bytes: @escaping (Builder) -> [UInt8]) {
            add(name) { b in ([.send(handshake + bytes(b))], [.connectionError(code)]) }
        }
        /// A malformed request on stream 1 (RFC 9113 §8.1.1): RST_STREAM PROTOCOL_ERROR, never forwarded, and stream
        /// 3 on the same connection is still served.
        func malformed(_ name: String, _ bytes: @escaping (Builder) -> [UInt8]) {
            add(name) { b in
                ([.send(handshake + bytes(b)), .awaitEnd(1), .send(b.get(3)), .awaitEnd(3)],
                 [.resetKeepsServing(1, Code.protocolError), .status(3, 200), .upstreamNever(b.path(1))])
            }
        }
        func malformedFields(_ name: String, _ fields: @escaping (Builder) -> [(String, String)]) {
            malformed(name) { b in b.headers(1, fields(b)) }
        }
        let c = Code.self

        // §3.4–3.5 Starting HTTP/2
        add("3.4 the server preface is a SETTINGS frame, first, and our SETTINGS are acknowledged") { b in
            ([.send(handshake), .awaitSettingsAck], [.firstFrameSettings, .settingsAcks(1), .ignored])
        }
        add("3.4 the server SETTINGS advertise SPEC §10's limits (100 streams, 65,535 window, 16,384 frame, 64 KiB list)") { b in
            ([.send(handshake), .awaitSettingsAck],
             [.serverSettings([(3, 100), (4, 65_535), (5, 16_384), (6, 65_536)])])
        }
        add("3.4 a preface arriving in pieces is still a preface (h2c prior knowledge beside HTTP/1)") { b in
            let p = H2Wire.preface
            return ([.send(Array(p[0..<1])), .sleep(30), .send(Array(p[1..<9])), .sleep(30), .send(Array(p[9...])),
                     .send(H2Wire.settingsFrame() + b.get(1)), .awaitEnd(1)],
                    [.status(1, 200), .ignored])
        }
        add("3.5 an invalid connection preface → connection error, nothing served") { b in
            ([.send(Array("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".utf8) + H2Wire.settingsFrame() + b.get(1))],
             [.closedWithoutServing])
        }
        add("3.5 a preface followed by a frame other than SETTINGS → PROTOCOL_ERROR") { _ in
            ([.send(H2Wire.preface + H2Wire.pingFrame("notfirst"))], [.connectionError(c.protocolError)])
        }

        // §4.1 Frame format
        add("4.1 a frame of unknown type is ignored") { b in
            ([.send(handshake + H2Wire.frame(0xBE, stream: 0, Array("ignoreme".utf8))
                    + H2Wire.frame(0xBE, flags: 0xFF, stream: 1, [1, 2, 3]) + b.get(1)), .awaitEnd(1)],
             [.status(1, 200), .ignored])
        }
        add("4.1 undefined flags are ignored (PING, HEADERS)") { b in
            ([.send(handshake + H2Wire.pingFrame("flagpng1", flags: 0xFE) + b.get(1, flags: 0xD2)), .awaitEnd(1)],
             [.pingAck("flagpng1"), .status(1, 200), .ignored])
        }
        add("4.1 the reserved bit of a stream identifier is ignored") { b in
            ([.send(handshake + H2Wire.headersFrame(0x8000_0001, H2Wire.block(b.fields(1)))), .awaitEnd(1)],
             [.status(1, 200), .ignored])
        }

        // §4.2 Frame size
        add("4.2 DATA of exactly SETTINGS_MAX_FRAME_SIZE (16,384) octets is accepted") { b in
            ([.send(handshake + b.post(1, contentLength: 16_384)
                    + H2Wire.dataFrame(1, [UInt8](repeating: 0x61, count: 16_384))), .awaitEnd(1)],
             [.status(1, 200), .upstreamBodyCount(b.path(1), 16_384), .ignored])
        }
        add("4.2 DATA over SETTINGS_MAX_FRAME_SIZE → FRAME_SIZE_ERROR") { b in
            ([.send(handshake + b.post(1) + H2Wire.dataFrame(1, [UInt8](repeating: 0x61, count: 16_385)))],
             [.streamError(1, [c.frameSizeError])])
        }
        connectionError("4.2 HEADERS over SETTINGS_MAX_FRAME_SIZE → connection FRAME_SIZE_ERROR", c.frameSizeError) { b in
            b.get(1, extra: [("x-big", String(repeating: "b", count: 16_400))])
        }
        connectionError("4.2 SETTINGS over SETTINGS_MAX_FRAME_SIZE → connection FRAME_SIZE_ERROR", c.frameSizeError) { _ in
            H2Wire.settingsFrame([(UInt16, UInt32)](repeating: (0x99, 0), count: 2731))
        }
        connectionError("4.2 HEADERS too short for its priority fields → FRAME_SIZE_ERROR", c.frameSizeError) { _ in
            H2Wire.frame(H2Wire.headers, flags: 0x25, stream: 1, [0, 0, 0])
        }

        // §4.3 Field section compression
        connectionError("4.3 a field block ending inside a representation → COMPRESSION_ERROR", c.compressionError) { b in
            H2Wire.headersFrame(1, H2Wire.block(b.fields(1)) + [0x00, 0x05, 0x61, 0x62])
        }
        connectionError("4.3 PRIORITY inside a field block → PROTOCOL_ERROR", c.protocolError) { b in
            H2Wire.headersFrame(1, H2Wire.block(b.fields(1)), endHeaders: false) + H2Wire.priorityFrame(1, dependsOn: 0)
                + H2Wire.continuationFrame(1, H2Wire.literal("x-a", "1"))
        }
        connectionError("4.3 HEADERS of another stream inside a field block → PROTOCOL_ERROR", c.protocolError) { b in
            H2Wire.headersFrame(1, H2Wire.block(b.fields(1)), endHeaders: false) + b.get(3)
        }
        add("4.3 one HPACK context per connection: a field indexed on stream 1 is referenced on stream 3") { b in
            let first = H2Wire.block(b.fields(1)) + H2Wire.literal("x-indexed", "one", indexing: true)
            let second = H2Wire.block(b.fields(3)) + H2Wire.indexed(62)
            return ([.send(handshake + H2Wire.headersFrame(1, first)), .awaitEnd(1),
                     .send(H2Wire.headersFrame(3, second)), .awaitEnd(3)],
                    [.status(1, 200), .status(3, 200), .bodyContains(3, "x-indexed: one"), .ignored])
        }

        // §5.1 Stream states
        connectionError("5.1 idle: DATA → PROTOCOL_ERROR", c.protocolError) { _ in H2Wire.dataFrame(1, "test") }
        connectionError("5.1 idle: RST_STREAM → PROTOCOL_ERROR", c.protocolError) { _ in
            H2Wire.rstStreamFrame(1, c.cancel)
        }
        connectionError("5.1 idle: WINDOW_UPDATE → PROTOCOL_ERROR", c.protocolError) { _ in
            H2Wire.windowUpdateFrame(1, 100)
        }
        connectionError("5.1 idle: CONTINUATION → PROTOCOL_ERROR", c.protocolError) { b in
            H2Wire.continuationFrame(1, H2Wire.block(b.fields(1)))
        }
        add("5.1 idle: PRIORITY is allowed and opens nothing (a lower stream id still opens after it)") { b in
            ([.send(handshake + H2Wire.priorityFrame(5, dependsOn: 0) + b.get(1)), .awaitEnd(1)],
             [.status(1, 200), .ignored])
        }
        add("5.1 half-closed (remote): DATA → STREAM_CLOSED") { b in
            ([.send(handshake + b.slow(1) + H2Wire.dataFrame(1, "test"))], [.streamError(1, [c.streamClosed])])
        }
        add("5.1 half-closed (remote): HEADERS → STREAM_CLOSED") { b in
            ([.send(handshake + b.slow(1) + b.headers(1, [("x-late", "1")]))], [.streamError(1, [c.streamClosed])])
        }
        add("5.1 half-closed (remote): CONTINUATION → STREAM_CLOSED or PROTOCOL_ERROR") { b in
            ([.send(handshake + b.slow(1) + H2Wire.continuationFrame(1, H2Wire.literal("x-late", "1")))],
             [.streamError(1, [c.streamClosed, c.protocolError])])
        }
        add("5.1 half-closed (remote): WINDOW_UPDATE is allowed") { b in
            ([.send(handshake + b.slow(1) + H2Wire.windowUpdateFrame(1, 100))], [.ignored])
        }
        add("5.1 half-closed (remote): PRIORITY is allowed") { b in
            ([.send(handshake + b.slow(1) + H2Wire.priorityFrame(1, dependsOn: 0))], [.ignored])
        }
        add("5.1 half-closed (remote): RST_STREAM is allowed") { b in
            ([.send(handshake + b.slow(1) + H2Wire.rstStreamFrame(1, c.cancel))], [.alive])
        }
        add("5.1 closed: DATA after the client's RST_STREAM → STREAM_CLOSED (§6.1)") { b in
            ([.send(handshake + b.post(1) + H2Wire.rstStreamFrame(1, c.cancel) + H2Wire.dataFrame(1, "test"))],
             [.streamError(1, [c.streamClosed])])
        }
        add("5.1 closed: DATA after both ends sent END_STREAM → STREAM_CLOSED (§6.1)") { b in
            ([.send(handshake + b.get(1)), .awaitEnd(1), .send(H2Wire.dataFrame(1, "test"))],
             [.status(1, 200), .streamError(1, [c.streamClosed])])
        }
        add("5.1 closed: HEADERS after the client's RST_STREAM is refused or ignored, HPACK stays in step") { b in
            let late = H2Wire.literal("x-after-reset", "yes", indexing: true)
            let next = H2Wire.block(b.fields(3)) + H2Wire.indexed(62)
            return ([.send(handshake + b.post(1) + H2Wire.rstStreamFrame(1, c.cancel) + H2Wire.headersFrame(1, late)),
                     .send(H2Wire.headersFrame(3, next)), .awaitEnd(3)],
                    [.anyOf([[.connectionError(c.streamClosed)], [.connectionError(c.protocolError)],
                             [.status(3, 200), .bodyContains(3, "x-after-reset: yes"), .alive]])])
        }
        add("5.1 closed: PRIORITY is allowed") { b in
            ([.send(handshake + b.get(1)), .awaitEnd(1), .send(H2Wire.priorityFrame(1, dependsOn: 0))],
             [.status(1, 200), .ignored])
        }
        add("5.1 closed: WINDOW_UPDATE just after the stream ended is allowed") { b in
            ([.send(handshake + b.get(1)), .awaitEnd(1), .send(H2Wire.windowUpdateFrame(1, 100))],
             [.status(1, 200), .ignored])
        }
        add("5.1 closed: RST_STREAM just after the stream ended is allowed") { b in
            ([.send(handshake + b.get(1)), .awaitEnd(1), .send(H2Wire.rstStreamFrame(1, c.cancel))],
             [.status(1, 200), .ignored])
        }

        // §5.1.1 Stream identifiers
        connectionError("5.1.1 an even stream identifier → PROTOCOL_ERROR", c.protocolError) { b in b.get(2) }
        add("5.1.1 a stream identifier lower than a previous one → PROTOCOL_ERROR") { b in
            ([.send(handshake + b.get(5) + b.get(3))], [.connectionError(c.protocolError)])
        }
        add("5.1.1 stream identifiers may skip values (1, then 7)") { b in
            ([.send(handshake + b.get(1) + b.get(7)), .awaitEnd(1), .awaitEnd(7)],
             [.status(1, 200), .status(7, 200), .ignored])
        }

        // §5.1.2 Stream concurrency
        add("5.1.2 a stream over SETTINGS_MAX_CONCURRENT_STREAMS (100) → RST_STREAM REFUSED_STREAM") { b in
            let open = (0..<100).flatMap { b.post(UInt32(2 * $0 + 1)) }
            return ([.send(handshake + open + b.post(201)), .awaitEnd(201)],
                    [.resetKeepsServing(201, c.refusedStream), .upstreamNever(b.path(201))])
        }

        // §5.3.1 Stream dependencies
        add("5.3.1 HEADERS depending on its own stream → stream PROTOCOL_ERROR") { b in
            ([.send(handshake + H2Wire.headersFrame(1, H2Wire.block(b.fields(1)), dependsOn: 1))],
             [.streamError(1, [c.protocolError]), .upstreamNever(b.path(1))])
        }
        add("5.3.1 PRIORITY making an open stream depend on itself → stream PROTOCOL_ERROR") { b in
            ([.send(handshake + b.post(1) + H2Wire.priorityFrame(1, dependsOn: 1))],
             [.streamError(1, [c.protocolError])])
        }

        // §5.4.1 Connection error handling
        add("5.4.1 a connection error sends GOAWAY naming the last processed stream, then closes") { b in
            ([.send(handshake + b.get(1)), .awaitEnd(1), .send(H2Wire.frame(H2Wire.ping, stream: 0, [1, 2, 3, 4, 5, 6]))],
             [.status(1, 200), .connectionError(c.frameSizeError), .goAwayLastStream(1)])
        }

        // §5.5 Extending HTTP/2
        add("5.5 an extension frame on an open stream is ignored") { b in
            ([.send(handshake + b.post(1) + H2Wire.frame(0x42, stream: 1, [9, 9]) + H2Wire.dataFrame(1, "body")),
              .awaitEnd(1)],
             [.status(1, 200), .upstreamBody(b.path(1), "body"), .ignored])
        }
        connectionError("5.5 an extension frame inside a field block → PROTOCOL_ERROR", c.protocolError) { b in
            H2Wire.headersFrame(1, H2Wire.block(b.fields(1)), endHeaders: false) + H2Wire.frame(0x42, stream: 1, [9])
                + H2Wire.continuationFrame(1, H2Wire.literal("x-a", "1"))
        }

        // §6.1 DATA
        connectionError("6.1 DATA on stream 0 → PROTOCOL_ERROR", c.protocolError) { _ in H2Wire.dataFrame(0, "test") }
        connectionError("6.1 DATA whose Pad Length is not less than its payload → PROTOCOL_ERROR", c.protocolError) { b in
            b.post(1) + H2Wire.frame(H2Wire.data, flags: H2Wire.padded, stream: 1, [6] + Array("abcde".utf8))
        }
        add("6.1 padded DATA: the padding is not body") { b in
            ([.send(handshake + b.post(1, contentLength: 5) + H2Wire.dataFrame(1, Array("hello".utf8), padding: 10)),
              .awaitEnd(1)],
             [.status(1, 200), .upstreamBody(b.path(1), "hello"), .ignored])
        }
        add("6.1 a body in several DATA frames, the last one empty with END_STREAM") { b in
            ([.send(handshake + b.post(1) + H2Wire.dataFrame(1, "ab", endStream: false)
                    + H2Wire.dataFrame(1, "cdef", endStream: false) + H2Wire.dataFrame(1, "")), .awaitEnd(1)],
             [.status(1, 200), .upstreamBody(b.path(1), "abcdef"), .ignored])
        }

        // §6.2 HEADERS
        connectionError("6.2 HEADERS on stream 0 → PROTOCOL_ERROR", c.protocolError) { b in
            H2Wire.headersFrame(0, H2Wire.block(b.fields(1)))
        }
        connectionError("6.2 HEADERS whose Pad Length is not less than its payload → PROTOCOL_ERROR", c.protocolError) { b in
            let block = H2Wire.block(b.fields(1))
            return H2Wire.frame(H2Wire.headers, flags: 0x0D, stream: 1, [UInt8(block.count + 1)] + block)
        }
        add("6.2 padded HEADERS are served") { b in
            ([.send(handshake + H2Wire.headersFrame(1, H2Wire.block(b.fields(1)), padding: 16)), .awaitEnd(1)],
             [.status(1, 200), .ignored])
        }
        add("6.2 HEADERS with priority fields are served") { b in
            ([.send(handshake + H2Wire.headersFrame(1, H2Wire.block(b.fields(1)), padding: 3, dependsOn: 0)),
              .awaitEnd(1)],
             [.status(1, 200), .ignored])
        }

        // §6.3 PRIORITY
        connectionError("6.3 PRIORITY on stream 0 → PROTOCOL_ERROR", c.protocolError) { _ in
            H2Wire.priorityFrame(0, dependsOn: 1)
        }
        add("6.3 PRIORITY of 4 octets on an open stream → stream FRAME_SIZE_ERROR") { b in
            ([.send(handshake + b.post(1) + H2Wire.frame(H2Wire.priority, stream: 1, [0, 0, 0, 0]))],
             [.streamError(1, [c.frameSizeError])])
        }

        // §6.4 RST_STREAM
        connectionError("6.4 RST_STREAM on stream 0 → PROTOCOL_ERROR", c.protocolError) { _ in
            H2Wire.rstStreamFrame(0, c.cancel)
        }
        connectionError("6.4 RST_STREAM of 3 octets → FRAME_SIZE_ERROR", c.frameSizeError) { b in
            b.post(1) + H2Wire.frame(H2Wire.rstStream, stream: 1, [0, 0, 8])
        }
        add("6.4 RST_STREAM cancels an open stream; the connection goes on") { b in
            ([.send(handshake + b.post(1) + H2Wire.rstStreamFrame(1, c.cancel) + b.get(3)), .awaitEnd(3)],
             [.status(3, 200), .upstreamNever(b.path(1)), .alive])
        }

        // §6.5 SETTINGS
        connectionError("6.5 SETTINGS ACK with a payload → FRAME_SIZE_ERROR", c.frameSizeError) { _ in
            H2Wire.frame(H2Wire.settings, flags: H2Wire.ack, stream: 0, [0, 3, 0, 0, 0, 10])
        }
        connectionError("6.5 SETTINGS on a stream other than 0 → PROTOCOL_ERROR", c.protocolError) { _ in
            H2Wire.frame(H2Wire.settings, stream: 1, [0, 3, 0, 0, 0, 10])
        }
        connectionError("6.5 SETTINGS whose length is not a multiple of 6 → FRAME_SIZE_ERROR", c.frameSizeError) { _ in
            H2Wire.frame(H2Wire.settings, stream: 0, [0, 3, 0])
        }
        connectionError("6.5.2 SETTINGS_ENABLE_PUSH 2 → PROTOCOL_ERROR", c.protocolError) { _ in
            H2Wire.settingsFrame([(H2Wire.Setting.enablePush, 2)])
        }
        connectionError("6.5.2 SETTINGS_INITIAL_WINDOW_SIZE 2^31 → FLOW_CONTROL_ERROR", c.flowControlError) { _ in
            H2Wire.settingsFrame([(H2Wire.Setting.initialWindowSize, 0x8000_0000)])
        }
        connectionError("6.5.2 SETTINGS_MAX_FRAME_SIZE 16,383 → PROTOCOL_ERROR", c.protocolError) { _ in
            H2Wire.settingsFrame([(H2Wire.Setting.maxFrameSize, 16_383)])
        }
        connectionError("6.5.2 SETTINGS_MAX_FRAME_SIZE 2^24 → PROTOCOL_ERROR", c.protocolError) { _ in
            H2Wire.settingsFrame([(H2Wire.Setting.maxFrameSize, 16_777_216)])
        }
        add("6.5.2 an unknown setting is ignored and the SETTINGS acknowledged") { b in
            ([.send(handshake + H2Wire.settingsFrame([(0xFF, 1), (H2Wire.Setting.enablePush, 0)])), .sleep(50)],
             [.settingsAcks(2), .ignored])
        }
        /// A header section in five frames of about 16 KB each: the decoded size (RFC 9113 §6.5.2) stays within
        /// SETTINGS_MAX_HEADER_LIST_SIZE (65,536) through four frames, and the fifth passes it.
        func bigSection(_ b: Builder, lastEndsBlock: Bool) -> [UInt8] {
            let big = String(repeating: "v", count: 16_300)
            var frames = H2Wire.headersFrame(1, H2Wire.block(b.fields(1)) + H2Wire.literal("x-a", big), endHeaders: false)
            for name in ["x-b", "x-c", "x-d"] { frames += H2Wire.continuationFrame(1, H2Wire.literal(name, big), endHeaders: false) }
            frames += H2Wire.continuationFrame(1, H2Wire.literal("x-e", String(repeating: "v", count: 1000)),
                                               endHeaders: lastEndsBlock)
            if !lastEndsBlock { frames += H2Wire.continuationFrame(1, H2Wire.literal("x-f", "v")) }
            return frames
        }
        add("6.5.2 a complete header section over SETTINGS_MAX_HEADER_LIST_SIZE → 431 on its stream (SPEC §10)") { b in
            ([.send(handshake + bigSection(b, lastEndsBlock: true)), .awaitEnd(1), .send(b.get(3)), .awaitEnd(3)],
             [.status(1, 431), .bodyContains(1, "headers_too_large"), .upstreamNever(b.path(1)), .status(3, 200),
              .alive])
        }
        add("6.5.2 a header section passing SETTINGS_MAX_HEADER_LIST_SIZE before END_HEADERS → ENHANCE_YOUR_CALM (SPEC §10)") { b in
            ([.send(handshake + bigSection(b, lastEndsBlock: false))],
             [.connectionError(c.enhanceYourCalm), .upstreamNever(b.path(1))])
        }
        add("6.5.2 SETTINGS_HEADER_TABLE_SIZE 0: the gateway's field blocks stay decodable") { b in
            ([.send(H2Wire.handshake([(H2Wire.Setting.headerTableSize, 0)]) + b.get(1)), .awaitEnd(1),
              .send(b.get(3)), .awaitEnd(3)],
             [.status(1, 200), .status(3, 200), .ignored])
        }
        add("6.5.3 of two values of a setting in one SETTINGS the last one applies (window 1)") { b in
            ([.send(H2Wire.handshake([(H2Wire.Setting.initialWindowSize, 100), (H2Wire.Setting.initialWindowSize, 1)])
                    + b.get(1)), .awaitData(1), .sleep(50)],
             [.dataFramesAtMost(1, 1)])
        }

        // §6.7 PING
        add("6.7 PING is answered with an ACK carrying the same data") { _ in
            ([.send(handshake + H2Wire.pingFrame("12345678"))], [.pingAck("12345678"), .ignored])
        }
        add("6.7 a PING ACK is not answered") { _ in
            ([.send(handshake + H2Wire.pingFrame("ackedpng", ack: true))], [.noPing("ackedpng"), .ignored])
        }
        connectionError("6.7 PING on a stream other than 0 → PROTOCOL_ERROR", c.protocolError) { _ in
            H2Wire.frame(H2Wire.ping, stream: 1, Array("12345678".utf8))
        }
        connectionError("6.7 PING of 6 octets → FRAME_SIZE_ERROR", c.frameSizeError) { _ in
            H2Wire.frame(H2Wire.ping, stream: 0, Array("123456".utf8))
        }

        // §6.8 GOAWAY
        connectionError("6.8 GOAWAY on a stream other than 0 → PROTOCOL_ERROR", c.protocolError) { _ in
            H2Wire.goAwayFrame(last: 0, c.noError, stream: 1)
        }

        // §6.9 WINDOW_UPDATE
        connectionError("6.9 WINDOW_UPDATE of 0 on the connection → PROTOCOL_ERROR", c.protocolError) { _ in
            H2Wire.windowUpdateFrame(0, 0)
        }
        add("6.9 WINDOW_UPDATE of 0 on an open stream → stream PROTOCOL_ERROR") { b in
            ([.send(handshake + b.post(1) + H2Wire.windowUpdateFrame(1, 0))], [.streamError(1, [c.protocolError])])
        }
        connectionError("6.9 WINDOW_UPDATE of 3 octets → FRAME_SIZE_ERROR", c.frameSizeError) { _ in
            H2Wire.frame(H2Wire.windowUpdate, stream: 0, [0, 0, 1])
        }
        connectionError("6.9.1 a connection window over 2^31−1 → FLOW_CONTROL_ERROR", c.flowControlError) { _ in
            H2Wire.windowUpdateFrame(0, 0x7FFF_FFFF)
        }
        add("6.9.1 a stream window over 2^31−1 → stream FLOW_CONTROL_ERROR") { b in
            ([.send(handshake + b.post(1) + H2Wire.windowUpdateFrame(1, 0x7FFF_FFFF))],
             [.streamError(1, [c.flowControlError])])
        }
        add("6.9.1 SETTINGS_INITIAL_WINDOW_SIZE 1: the response comes at most one octet per DATA") { b in
            ([.send(H2Wire.handshake([(H2Wire.Setting.initialWindowSize, 1)]) + b.get(1)), .awaitData(1), .sleep(50)],
             [.dataFramesAtMost(1, 1)])
        }
        add("6.9.2 SETTINGS_INITIAL_WINDOW_SIZE 0 holds DATA until a WINDOW_UPDATE") { b in
            ([.send(H2Wire.handshake([(H2Wire.Setting.initialWindowSize, 0)]) + b.get(1)), .awaitHeaders(1),
              .sleep(100), .mark("update"), .send(H2Wire.windowUpdateFrame(1, 4000)), .awaitEnd(1)],
             [.status(1, 200), .noDataBefore("update", 1), .bodyContains(1, b.path(1)), .ignored])
        }
        add("6.9.2 a new SETTINGS_INITIAL_WINDOW_SIZE applies to open streams") { b in
            ([.send(H2Wire.handshake([(H2Wire.Setting.initialWindowSize, 0)]) + b.get(1)), .awaitHeaders(1),
              .sleep(100), .mark("settings"), .send(H2Wire.settingsFrame([(H2Wire.Setting.initialWindowSize, 65_535)])),
              .awaitEnd(1)],
             [.status(1, 200), .noDataBefore("settings", 1), .bodyContains(1, b.path(1)), .ignored])
        }
        connectionError(
            "6.9.2 SETTINGS_INITIAL_WINDOW_SIZE pushing an open stream's window over 2^31−1 → FLOW_CONTROL_ERROR",
            c.flowControlError
        ) { b in
            b.post(1) + H2Wire.windowUpdateFrame(1, 0x7FFF_FFFF - 65_535)
                + H2Wire.settingsFrame([(H2Wire.Setting.initialWindowSize, 65_536)])
        }

        // §6.10 CONTINUATION
        add("6.10 HEADERS and CONTINUATION frames make one field block, split even inside a representation") { b in
            let block = H2Wire.block(b.fields(1)) + H2Wire.literal("x-first", "a") + H2Wire.literal("x-second", "b")
            let cut1 = block.count - 14, cut2 = block.count - 5
            return ([.send(handshake + H2Wire.headersFrame(1, Array(block[..<cut1]), endHeaders: false)
                           + H2Wire.continuationFrame(1, Array(block[cut1..<cut2]), endHeaders: false)
                           + H2Wire.continuationFrame(1, []  , endHeaders: false)
                           + H2Wire.continuationFrame(1, Array(block[cut2...]))), .awaitEnd(1)],
                    [.status(1, 200), .bodyContains(1, "x-first: a"), .bodyContains(1, "x-second: b"), .ignored])
        }
        connectionError("6.10 DATA inside a field block → PROTOCOL_ERROR", c.protocolError) { b in
            H2Wire.headersFrame(1, H2Wire.block(b.fields(1)), endStream: false, endHeaders: false)
                + H2Wire.dataFrame(1, "x") + H2Wire.continuationFrame(1, H2Wire.literal("x-a", "1"))
        }
        connectionError("6.10 PING interleaved in a field block → PROTOCOL_ERROR", c.protocolError) { b in
            H2Wire.headersFrame(1, H2Wire.block(b.fields(1)), endHeaders: false) + H2Wire.pingFrame("interlv1")
                + H2Wire.continuationFrame(1, H2Wire.literal("x-a", "1"))
        }
        connectionError("6.10 CONTINUATION on stream 0 → PROTOCOL_ERROR", c.protocolError) { b in
            H2Wire.headersFrame(1, H2Wire.block(b.fields(1)), endHeaders: false)
                + H2Wire.continuationFrame(0, H2Wire.literal("x-a", "1"))
        }
        connectionError("6.10 CONTINUATION of another stream than its HEADERS → PROTOCOL_ERROR", c.protocolError) { b in
            H2Wire.headersFrame(1, H2Wire.block(b.fields(1)), endHeaders: false)
                + H2Wire.continuationFrame(3, H2Wire.literal("x-a", "1"))
        }
        connectionError("6.10 CONTINUATION after HEADERS with END_HEADERS → PROTOCOL_ERROR", c.protocolError) { b in
            b.post(1) + H2Wire.continuationFrame(1, H2Wire.literal("x-a", "1"))
        }
        connectionError("6.10 CONTINUATION after a CONTINUATION with END_HEADERS → PROTOCOL_ERROR", c.protocolError) { b in
            H2Wire.headersFrame(1, H2Wire.block(b.fields(1)), endStream: false, endHeaders: false)
                + H2Wire.continuationFrame(1, H2Wire.literal("x-a", "1"))
                + H2Wire.continuationFrame(1, H2Wire.literal("x-b", "2"))
        }
        connectionError("6.10 CONTINUATION after DATA → PROTOCOL_ERROR", c.protocolError) { b in
            b.post(1) + H2Wire.dataFrame(1, "x", endStream: false) + H2Wire.continuationFrame(1, H2Wire.literal("x-a", "1"))
        }

        // §7 Error codes
        add("7 RST_STREAM with an unknown error code is accepted") { b in
            ([.send(handshake + b.post(1) + H2Wire.rstStreamFrame(1, 0xFF) + b.get(3)), .awaitEnd(3)],
             [.status(3, 200), .alive])
        }
        add("7 GOAWAY with an unknown error code is not an error") { b in
            ([.send(handshake + b.get(1)), .awaitEnd(1), .send(H2Wire.goAwayFrame(last: 0, 0xFF)), .sleep(50)],
             [.status(1, 200), .noErrorGoAway])
        }

        // §8.1 HTTP message framing, §8.2 fields, §8.3 control data: malformed requests
        malformed("8.1 a second HEADERS without END_STREAM (trailers must end the stream) → PROTOCOL_ERROR") { b in
            b.post(1) + b.headers(1, [("x-trailer", "t")], endStream: false)
        }
        malformed("8.1 pseudo-header field in trailers → PROTOCOL_ERROR") { b in
            b.post(1) + H2Wire.dataFrame(1, "x", endStream: false) + b.headers(1, [(":path", "/x")])
        }
        malformed("8.1.1 content-length larger than the DATA → PROTOCOL_ERROR") { b in
            b.post(1, contentLength: 10) + H2Wire.dataFrame(1, "short")
        }
        malformed("8.1.1 content-length smaller than the DATA → PROTOCOL_ERROR") { b in
            b.post(1, contentLength: 2) + H2Wire.dataFrame(1, "longer")
        }
        malformed("8.1.1 content-length not matching the sum of several DATA frames → PROTOCOL_ERROR") { b in
            b.post(1, contentLength: 8) + H2Wire.dataFrame(1, "abc", endStream: false) + H2Wire.dataFrame(1, "de")
        }
        malformedFields("8.1.1 content-length with END_STREAM on the HEADERS → PROTOCOL_ERROR") { b in
            b.fields(1, "POST", extra: [("content-length", "5")])
        }
        malformedFields("8.1.1 content-length that is not a number → PROTOCOL_ERROR") { b in
            b.fields(1, extra: [("content-length", "abc")])
        }
        malformedFields("8.2 an uppercase field name → PROTOCOL_ERROR") { b in b.fields(1, extra: [("X-Upper", "1")]) }
        malformedFields("8.2.1 a field name with a space → PROTOCOL_ERROR") { b in b.fields(1, extra: [("x bad", "1")]) }
        malformedFields("8.2.1 a field value with CR LF → PROTOCOL_ERROR") { b in
            b.fields(1, extra: [("x-v", "a\r\nx-injected: 1")])
        }
        malformedFields("8.2.1 a field value with NUL → PROTOCOL_ERROR") { b in b.fields(1, extra: [("x-v", "a\u{0}b")]) }
        malformedFields("8.2.1 a field value with leading whitespace → PROTOCOL_ERROR") { b in
            b.fields(1, extra: [("x-v", " a")])
        }
        for name in ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"] {
            malformedFields("8.2.2 connection-specific field \(name) → PROTOCOL_ERROR") { b in
                b.fields(1, extra: [(name, name == "transfer-encoding" ? "chunked" : "close")])
            }
        }
        malformedFields("8.2.2 te other than trailers → PROTOCOL_ERROR") { b in b.fields(1, extra: [("te", "gzip")]) }
        add("8.2.2 te: trailers is allowed, and not forwarded to an HTTP/1 upstream") { b in
            ([.send(handshake + b.get(1, extra: [("te", "trailers")])), .awaitEnd(1)],
             [.status(1, 200), .bodyLacks(1, "te: trailers"), .ignored])
        }
        add("8.2.3 cookie fields are joined with \"; \" for HTTP/1") { b in
            ([.send(handshake + b.get(1, extra: [("cookie", "a=1"), ("x-mid", "m"), ("cookie", "b=2")])), .awaitEnd(1)],
             [.status(1, 200), .bodyContains(1, "cookie: a=1; b=2"), .ignored])
        }
        malformedFields("8.3 an unknown pseudo-header field → PROTOCOL_ERROR") { b in
            b.fields(1) + [(":foo", "bar")]
        }
        malformedFields("8.3 the response pseudo-header :status in a request → PROTOCOL_ERROR") { b in
            b.fields(1) + [(":status", "200")]
        }
        malformedFields("8.3 a pseudo-header field after a regular field → PROTOCOL_ERROR") { b in
            let f = b.fields(1)
            return Array(f[0..<3]) + [("x-regular", "1"), f[3]]
        }
        malformedFields("8.3.1 an empty :path → PROTOCOL_ERROR") { b in
            [(":method", "GET"), (":scheme", "http"), (":authority", "localhost"), (":path", "")]
        }
        malformedFields("8.3.1 a :path not starting with / → PROTOCOL_ERROR") { b in
            [(":method", "GET"), (":scheme", "http"), (":authority", "localhost"), (":path", "c\(b.index)")]
        }
        for (k, pseudo) in [":method", ":scheme", ":path"].enumerated() {
            malformedFields("8.3.1 a request without \(pseudo) → PROTOCOL_ERROR") { b in
                var f = b.fields(1)
                f.remove(at: [0, 1, 3][k])
                return f
            }
        }
        for pseudo in [":method", ":scheme", ":path", ":authority"] {
            malformedFields("8.3.1 a duplicated \(pseudo) → PROTOCOL_ERROR") { b in
                let f = b.fields(1)
                let original = f.first { $0.0 == pseudo }!
                return [original] + f
            }
        }
        malformedFields("8.5 CONNECT with :scheme and :path → PROTOCOL_ERROR") { b in
            [(":method", "CONNECT"), (":scheme", "http"), (":authority", "localhost:1"), (":path", b.path(1))]
        }
        add("8.3.1 a host field that differs from :authority → 400 (SPEC §10), never forwarded") { b in
            ([.send(handshake + b.get(1, extra: [("host", "other.example")]) + b.get(3)), .awaitEnd(1), .awaitEnd(3)],
             [.status(1, 400), .bodyContains(1, "bad_request"), .upstreamNever(b.path(1)), .status(3, 200), .alive])
        }
        add("SPEC §4 the gateway's own answer on an h2 stream is its JSON error with a request id") { b in
            ([.send(handshake + b.get(1, extra: [("host", "other.example")])), .awaitEnd(1)],
             [.status(1, 400), .bodyContains(1, "\"error\":\"bad_request\""), .bodyContains(1, "\"request_id\":\""),
              .alive])
        }
        add("8.3.1 a host field equal to :authority is served") { b in
            ([.send(handshake + b.get(1, extra: [("host", "localhost")])), .awaitEnd(1)],
             [.status(1, 200), .bodyContains(1, "host: localhost"), .ignored])
        }
        add("8.3.1 without :authority the host field is the authority") { b in
            ([.send(handshake + b.headers(1, [(":method", "GET"), (":scheme", "http"), (":path", b.path(1)),
                                              ("host", "h2.example")])), .awaitEnd(1)],
             [.status(1, 200), .bodyContains(1, "host: h2.example"), .ignored])
        }
        connectionError("8.4 PUSH_PROMISE from a client → PROTOCOL_ERROR", c.protocolError) { b in
            b.post(1) + H2Wire.frame(H2Wire.pushPromise, flags: H2Wire.endHeaders, stream: 1,
                                     H2Wire.be32(2) + H2Wire.block(b.fields(2)))
        }

        // Generic message exchanges (h2spec "generic")
        add("generic: HEAD gets headers and no body") { b in
            ([.send(handshake + H2Wire.headersFrame(1, H2Wire.block(b.fields(1, "HEAD")))), .awaitEnd(1)],
             [.status(1, 200), .bodyLacks(1, "HEAD"), .ignored])
        }
        add("generic: POST with a body and trailers") { b in
            ([.send(handshake + b.post(1) + H2Wire.dataFrame(1, "abc", endStream: false)
                    + b.headers(1, [("x-trailer", "t")])), .awaitEnd(1)],
             [.status(1, 200), .upstreamBody(b.path(1), "abc"), .ignored])
        }
        add("generic: many streams at once on one connection") { b in
            let ids: [UInt32] = [1, 3, 5, 7, 9, 11, 13, 15]
            return ([.send(handshake + ids.flatMap { b.get($0) })] + ids.map { .awaitEnd($0) },
                    ids.map { .status($0, 200) } + [.ignored])
        }

        // RFC 7541 (HPACK)
        connectionError("7541 2.3.3 an indexed field past both tables → COMPRESSION_ERROR", c.compressionError) { b in
            H2Wire.headersFrame(1, H2Wire.block(b.fields(1)) + H2Wire.indexed(70))
        }
        connectionError("7541 2.3.3 a literal whose name index is past both tables → COMPRESSION_ERROR",
                        c.compressionError) { b in
            H2Wire.headersFrame(1, H2Wire.block(b.fields(1)) + H2Wire.integer(70, prefixBits: 4) + H2Wire.string([0x76]))
        }
        connectionError("7541 6.1 an indexed field with index 0 → COMPRESSION_ERROR", c.compressionError) { b in
            H2Wire.headersFrame(1, H2Wire.block(b.fields(1)) + [0x80])
        }
        connectionError("7541 4.2 a dynamic table size update after a field → COMPRESSION_ERROR", c.compressionError) { b in
            H2Wire.headersFrame(1, H2Wire.block(b.fields(1)) + H2Wire.integer(0, prefixBits: 5, first: 0x20))
        }
        connectionError("7541 6.3 a dynamic table size update over SETTINGS_HEADER_TABLE_SIZE → COMPRESSION_ERROR",
                        c.compressionError) { b in
            H2Wire.headersFrame(1, H2Wire.integer(4097, prefixBits: 5, first: 0x20) + H2Wire.block(b.fields(1)))
        }
        add("7541 6.3 a size update within the limit at the start of a block is accepted") { b in
            ([.send(handshake + H2Wire.headersFrame(1, H2Wire.integer(100, prefixBits: 5, first: 0x20)
                                                        + H2Wire.integer(4096, prefixBits: 5, first: 0x20)
                                                        + H2Wire.block(b.fields(1)))), .awaitEnd(1)],
             [.status(1, 200), .ignored])
        }
        add("7541 4.3 entries evicted by a size update of 0 are gone: referencing one → COMPRESSION_ERROR") { b in
            let first = H2Wire.block(b.fields(1)) + H2Wire.literal("x-evicted", "1", indexing: true)
            let second = H2Wire.integer(0, prefixBits: 5, first: 0x20) + H2Wire.block(b.fields(3)) + H2Wire.indexed(62)
            return ([.send(handshake + H2Wire.headersFrame(1, first)), .awaitEnd(1),
                     .send(H2Wire.headersFrame(3, second))],
                    [.status(1, 200), .connectionError(c.compressionError)])
        }
        for (what, coded) in [("padding longer than 7 bits", [0x1F, 0xFF] as [UInt8]),
                              ("padding that is not the most significant bits of EOS", [0x18]),
                              ("the EOS symbol", [0xFF, 0xFF, 0xFF, 0xFF])] {
            connectionError("7541 5.2 a Huffman string with \(what) → COMPRESSION_ERROR", c.compressionError) { b in
                H2Wire.headersFrame(1, H2Wire.block(b.fields(1)) + [0x00] + H2Wire.string(Array("x-h".utf8))
                                        + H2Wire.huffmanString(coded))
            }
        }
        connectionError("7541 5.1 an integer over 2^31−1 → COMPRESSION_ERROR", c.compressionError) { b in
            H2Wire.headersFrame(1, H2Wire.block(b.fields(1)) + [0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        }
        // Appendix C.3 and C.4: three requests sharing the dynamic table, without and with Huffman coding.
        for (label, blocks) in [
            ("C.3 (literal strings)", ["828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865",
                                       "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"]),
            ("C.4 (Huffman strings)", ["828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
                                       "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"]),
        ] {
            add("7541 appendix \(label): three requests sharing the dynamic table are decoded") { _ in
                let frames = blocks.enumerated().map { k, hex in
                    H2Wire.headersFrame(UInt32(2 * k + 1), stride(from: 0, to: hex.count, by: 2).map { i in
                        let start = hex.index(hex.startIndex, offsetBy: i)
                        return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
                    })
                }
                return ([.send(handshake + frames[0]), .awaitEnd(1), .send(frames[1]), .awaitEnd(3), .send(frames[2]),
                         .awaitEnd(5)],
                        [.status(1, 200), .bodyContains(1, "host: www.example.com"), .status(3, 200),
                         .bodyContains(3, "cache-control: no-cache"), .bodyContains(3, "host: www.example.com"),
                         .status(5, 200), .bodyContains(5, "GET /index.html HTTP/1.1"),
                         .bodyContains(5, "custom-key: custom-value"), .ignored])
            }
        }
        add("7541 6.2.3 a never-indexed literal is accepted") { b in
            ([.send(handshake + H2Wire.headersFrame(1, H2Wire.block(b.fields(1))
                                                        + H2Wire.literal("x-secret", "s3", never: true))), .awaitEnd(1)],
             [.status(1, 200), .bodyContains(1, "x-secret: s3"), .ignored])
        }
        add("7541 6.2.1 a literal with incremental indexing and an indexed name") { b in
            let block = H2Wire.block(b.fields(1)) + H2Wire.integer(58, prefixBits: 6, first: 0x40)
                + H2Wire.string(Array("h2client/1".utf8))
            let again = H2Wire.block(b.fields(3)) + H2Wire.indexed(62)
            return ([.send(handshake + H2Wire.headersFrame(1, block)), .awaitEnd(1),
                     .send(H2Wire.headersFrame(3, again)), .awaitEnd(3)],
                    [.status(1, 200), .bodyContains(1, "user-agent: h2client/1"), .status(3, 200),
                     .bodyContains(3, "user-agent: h2client/1"), .ignored])
        }
        return list
    }()

    // MARK: - One run for the suite

    struct Run: Sendable {
        let transcripts: [HTTP2FrameClient.Transcript]
        let upstreamRequests: [ReceivedRequest]
        let gatewayRunning: Bool
        let gatewayStop: Termination
        let gatewayStderr: String
        let seconds: Double
    }

    /// The scripts over h2c (prior knowledge on the plaintext listener).
    static let run: Result<Run, any Error> = Result { try execute(tls: false) }
    /// The same scripts over TLS, h2 chosen by ALPN.
    static let runTLS: Result<Run, any Error> = Result { try execute(tls: true) }

    static func execute(tls: Bool) throws -> Run {
        let started = TestSocket.nowMs()
        let slowReply = UpstreamReply(status: 200, body: "slow")
        let bed = try Testbed(upstreams: ["app": .echo, "slow": .slow(delayMs: 3000, reply: slowReply)]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin,
                routes: [TestConfig.route("/slow/", to: "slow"), TestConfig.route("/", to: "app")],
                upstreams: ["app": TestConfig.upstream([ports["app"]]), "slow": TestConfig.upstream([ports["slow"]])],
                accessLog: false,
                listenerExtra: tls ? TLSListenerTests.tlsMember(["localhost"], extra: #""alpn": ["h2", "http/1.1"]"#) : "")
        }
        defer { bed.stop() }
        let transcripts = try HTTP2FrameClient.run(
            port: bed.ports.listener, scripts: cases.map(\.script), caFile: tls ? TestPKI.shared.path("ca.crt") : nil)
        let requests = bed["app"].requests + bed["slow"].requests
        let running = bed.gateway.isRunning
        let stop = bed.stop()
        return Run(
            transcripts: transcripts, upstreamRequests: requests, gatewayRunning: running, gatewayStop: stop,
            gatewayStderr: bed.gateway.child.stderr, seconds: Double(TestSocket.nowMs() - started) / 1000)
    }

    @Test(arguments: cases)
    func conformance(_ c: Case) throws {
        try Self.verify(c, try Self.run.get())
    }

    @Test(arguments: cases)
    func conformanceOverTLS(_ c: Case) throws {
        try Self.verify(c, try Self.runTLS.get())
    }

    static func verify(_ c: Case, _ run: Run) throws {
        let transcript = try #require(run.transcripts.count > c.index ? run.transcripts[c.index] : nil)
        if getenv("MESHGATE_H2_TRACE") != nil { print("[h2 trace] \(c.name)\n  \(transcript)") }
        #expect(transcript.error == nil, "\(c.name): \(transcript)")
        #expect(transcript.hpackErrors.isEmpty, "\(c.name): the gateway's field blocks did not decode: \(transcript)")
        #expect(!transcript.events.contains { $0.type == "alpn" }, "\(c.name): TLS did not choose h2: \(transcript)")
        for check in c.checks {
            let (ok, what) = evaluate(check, transcript, run.upstreamRequests)
            #expect(ok, "\(c.name): expected \(what)\n→ got: \(transcript)")
        }
    }

    @Test(arguments: [false, true])
    func theGatewayServedEveryCaseAndStoppedCleanly(tls: Bool) throws {
        let run = try (tls ? Self.runTLS : Self.run).get()
        #expect(run.transcripts.count == Self.cases.count)
        #expect(run.gatewayRunning, "\(run.gatewayStderr.suffix(3000))")
        #expect(run.gatewayStop == .exited(0), "\(run.gatewayStderr.suffix(3000))")
        #expect(Set(Self.cases.map(\.name)).count == Self.cases.count, "case names are unique")
        #expect(run.seconds < 60, "the suite's scripts took \(run.seconds) s")
    }

    // MARK: - Checks

    static func evaluate(_ check: Check, _ t: HTTP2FrameClient.Transcript, _ upstream: [ReceivedRequest])
        -> (Bool, String)
    {
        let code = H2Wire.Code.name
        switch check {
        case .connectionError(let expected):
            return (t.goAway?.code == expected && t.closed, "GOAWAY \(code(expected)) and the connection closed")
        case .streamError(let stream, let codes):
            let reset = t.resets(stream).contains { codes.contains($0.code ?? 0) }
            let goAway = t.goAway.map { codes.contains($0.code ?? 0) } ?? false
            return (reset || goAway, "RST_STREAM or GOAWAY \(codes.map(code)) for stream \(stream)")
        case .resetKeepsServing(let stream, let expected):
            return (t.resets(stream).contains { $0.code == expected } && t.goAway == nil,
                    "RST_STREAM(\(stream), \(code(expected))) and the connection going on")
        case .status(let stream, let status):
            return (t.status(stream) == status && t.ended(stream), "a complete \(status) response on stream \(stream)")
        case .ignored:
            return (t.alive && t.allResets.isEmpty, "no RST_STREAM, no GOAWAY, the final PING answered")
        case .alive:
            return (t.alive, "no GOAWAY, the final PING answered")
        case .noErrorGoAway:
            return ((t.goAway?.code ?? 0) == 0, "no GOAWAY with an error code")
        case .pingAck(let opaque):
            return (t.pingAcked(opaque), "a PING ACK with \(opaque)")
        case .noPing(let opaque):
            let hex = opaque.utf8.map { String(format: "%02x", $0) }.joined()
            return (!t.events.contains { $0.type == "ping" && $0.opaque == hex }, "no PING with \(opaque)")
        case .firstFrameSettings:
            let first = t.events.first { $0.type != "mark" }
            return (first?.type == "settings" && first?.ack == false, "a SETTINGS frame first")
        case .serverSettings(let values):
            let sent = t.events.first { $0.type == "settings" && !$0.ack }?.values ?? []
            let missing = values.filter { v in !sent.contains { $0.0 == v.0 && $0.1 == v.1 } }
            return (missing.isEmpty, "SETTINGS with \(values)")
        case .settingsAcks(let count):
            return (t.events.filter { $0.type == "settings" && $0.ack }.count == count, "\(count) SETTINGS ACK")
        case .closedWithoutServing:
            let served = t.events.contains { ["ping", "headers", "data"].contains($0.type) }
            return (t.closed && !served, "the connection closed without serving")
        case .goAwayLastStream(let stream):
            return (t.goAway?.last == stream, "GOAWAY naming last stream \(stream)")
        case .noDataBefore(let label, let stream):
            let before = t.events.prefix { !($0.type == "mark" && $0.label == label) }
            return (!before.contains { $0.type == "data" && $0.stream == stream && $0.length > 0 },
                    "no DATA on stream \(stream) before <\(label)>")
        case .dataFramesAtMost(let stream, let limit):
            let frames = t.events.filter { $0.type == "data" && $0.stream == stream }
            return (!frames.isEmpty && frames.allSatisfy { $0.length <= limit },
                    "DATA on stream \(stream), each at most \(limit) octets")
        case .bodyContains(let stream, let text):
            return (t.body(stream).contains(text), "the body of stream \(stream) containing \(text.debugDescription)")
        case .bodyLacks(let stream, let text):
            return (t.ended(stream) && !t.body(stream).contains(text),
                    "the body of stream \(stream) without \(text.debugDescription)")
        case .upstreamNever(let path):
            let got = upstream.filter { $0.target == path }
            return (got.isEmpty, "no request for \(path) upstream (it got \(got))")
        case .upstreamBody(let path, let body):
            let got = upstream.filter { $0.target == path }
            return (got.count == 1 && got[0].bodyText == body,
                    "one request for \(path) upstream with body \(body.debugDescription) (got \(got.map(\.bodyText)))")
        case .upstreamBodyCount(let path, let count):
            let got = upstream.filter { $0.target == path }
            return (got.count == 1 && got[0].bodyCount == count, "one request for \(path) upstream, body \(count) octets")
        case .anyOf(let alternatives):
            let ok = alternatives.contains { checks in checks.allSatisfy { evaluate($0, t, upstream).0 } }
            let what = alternatives.map { $0.map { evaluate($0, t, upstream).1 }.joined(separator: " and ") }
            return (ok, "one of: " + what.joined(separator: " | "))
        }
    }
}
