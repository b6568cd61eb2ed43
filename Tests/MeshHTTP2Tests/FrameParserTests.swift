import Testing

@testable import MeshHTTP2

/// A frame on the wire and what the parser must say.
struct FrameCase: CustomTestStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    var expected: HTTP2FrameParseResult
    var testDescription: String { name }
}

private let frameCases: [FrameCase] = [
    // §4.2: over SETTINGS_MAX_FRAME_SIZE, refused from the header alone.
    FrameCase(
        name: "§4.2 DATA over max frame size, header only", bytes: [0x00, 0x40, 0x01, 0x0, 0x0, 0, 0, 0, 1],
        expected: .connectionError(.frameSizeError)),
    FrameCase(name: "§6.1 DATA on stream 0", bytes: Wire.data(0, [1]), expected: .connectionError(.protocolError)),
    FrameCase(
        name: "§6.1 DATA padding equal to the payload length",
        bytes: Wire.frame(0x0, 0x8, stream: 1, [3, 0, 0]), expected: .connectionError(.protocolError)),
    FrameCase(
        name: "§6.1 PADDED DATA with no room for Pad Length", bytes: Wire.frame(0x0, 0x8, stream: 1, []),
        expected: .connectionError(.frameSizeError)),
    FrameCase(
        name: "§6.1 padded DATA: payload without padding, flow length with it",
        bytes: Wire.frame(0x0, 0x9, stream: 1, [2, 0xAA, 0, 0]),
        expected: .frame(.data(streamID: 1, payload: 10..<11, flowLength: 4, endStream: true), consumed: 13)),
    FrameCase(
        name: "§6.2 HEADERS on stream 0", bytes: Wire.headers(0, block: [0x82]),
        expected: .connectionError(.protocolError)),
    FrameCase(
        name: "§6.2 HEADERS padding longer than payload", bytes: Wire.frame(0x1, 0xC, stream: 1, [5, 0x82]),
        expected: .connectionError(.protocolError)),
    FrameCase(
        name: "§6.2 HEADERS PRIORITY flag without 5 octets", bytes: Wire.frame(0x1, 0x24, stream: 1, [0, 0, 0, 3]),
        expected: .connectionError(.frameSizeError)),
    FrameCase(
        name: "§5.3.1 HEADERS depending on itself is flagged",
        bytes: Wire.frame(0x1, 0x25, stream: 3, [0, 0, 0, 3, 16, 0x82]),
        expected: .frame(
            .headers(streamID: 3, fragment: 14..<15, endStream: true, endHeaders: true, selfDependent: true),
            consumed: 15)),
    FrameCase(
        name: "§6.3 PRIORITY on stream 0", bytes: Wire.frame(0x2, 0, stream: 0, [0, 0, 0, 1, 16]),
        expected: .connectionError(.protocolError)),
    FrameCase(
        name: "§6.3 PRIORITY of 4 octets is a stream FRAME_SIZE_ERROR", bytes: Wire.frame(0x2, 0, stream: 1, [0, 0, 0, 3]),
        expected: .streamError(streamID: 1, code: .frameSizeError, consumed: 13)),
    FrameCase(
        name: "§5.3.1 PRIORITY depending on itself", bytes: Wire.frame(0x2, 0, stream: 5, [0, 0, 0, 5, 16]),
        expected: .streamError(streamID: 5, code: .protocolError, consumed: 14)),
    FrameCase(name: "§6.4 RST_STREAM on stream 0", bytes: Wire.rst(0), expected: .connectionError(.protocolError)),
    FrameCase(
        name: "§6.4 RST_STREAM of 3 octets", bytes: Wire.frame(0x3, 0, stream: 1, [0, 0, 8]),
        expected: .connectionError(.frameSizeError)),
    FrameCase(
        name: "§6.5 SETTINGS on stream 1", bytes: Wire.frame(0x4, 0, stream: 1, []),
        expected: .connectionError(.protocolError)),
    FrameCase(
        name: "§6.5 SETTINGS ACK with a payload", bytes: Wire.frame(0x4, 0x1, stream: 0, [0, 4, 0, 0, 0, 1]),
        expected: .connectionError(.frameSizeError)),
    FrameCase(
        name: "§6.5 SETTINGS length not a multiple of 6", bytes: Wire.frame(0x4, 0, stream: 0, [0, 4, 0, 0, 1]),
        expected: .connectionError(.frameSizeError)),
    FrameCase(
        name: "§6.6 PUSH_PROMISE on stream 0", bytes: Wire.frame(0x5, 0x4, stream: 0, [0, 0, 0, 2]),
        expected: .connectionError(.protocolError)),
    FrameCase(
        name: "§6.7 PING on stream 1", bytes: Wire.frame(0x6, 0, stream: 1, [UInt8](repeating: 0, count: 8)),
        expected: .connectionError(.protocolError)),
    FrameCase(
        name: "§6.7 PING of 7 octets", bytes: Wire.frame(0x6, 0, stream: 0, [UInt8](repeating: 0, count: 7)),
        expected: .connectionError(.frameSizeError)),
    FrameCase(
        name: "§6.8 GOAWAY on stream 1", bytes: Wire.frame(0x7, 0, stream: 1, [UInt8](repeating: 0, count: 8)),
        expected: .connectionError(.protocolError)),
    FrameCase(
        name: "§6.8 GOAWAY of 7 octets", bytes: Wire.frame(0x7, 0, stream: 0, [UInt8](repeating: 0, count: 7)),
        expected: .connectionError(.frameSizeError)),
    FrameCase(
        name: "§6.9 WINDOW_UPDATE of 3 octets", bytes: Wire.frame(0x8, 0, stream: 1, [0, 0, 1]),
        expected: .connectionError(.frameSizeError)),
    FrameCase(
        name: "§6.9 WINDOW_UPDATE reserved bit ignored", bytes: Wire.windowUpdate(1, 0x8000_0005),
        expected: .frame(.windowUpdate(streamID: 1, increment: 5), consumed: 13)),
    FrameCase(
        name: "§6.10 CONTINUATION on stream 0", bytes: Wire.continuation(0, block: [0x82]),
        expected: .connectionError(.protocolError)),
    FrameCase(
        name: "§4.1 unknown type ignored, reserved stream bit cleared",
        bytes: Wire.frame(0xEE, 0xFF, stream: 0x8000_0003, [1, 2]),
        expected: .frame(.unknown(type: 0xEE, streamID: 3), consumed: 11)),
    FrameCase(
        name: "§6.8 GOAWAY with debug data", bytes: Wire.frame(0x7, 0, stream: 0, Wire.be32(7) + Wire.be32(11) + [0x41]),
        expected: .frame(.goAway(lastStreamID: 7, code: .enhanceYourCalm, debug: 17..<18), consumed: 18)),
]

@Test("RFC 9113 §4–§6 frame checks", arguments: frameCases)
func frameCase(_ test: FrameCase) {
    let result = test.bytes.withUnsafeBytes { HTTP2FrameParser.parse($0, maxFrameSize: 16_384) }
    #expect(result == test.expected)
}

@Test("every proper prefix of a valid frame is incomplete")
func framePrefixes() {
    let frame = Wire.headers(1, block: Wire.block(Wire.get))
    for end in 0..<frame.count {
        let result = Array(frame[0..<end]).withUnsafeBytes { HTTP2FrameParser.parse($0, maxFrameSize: 16_384) }
        #expect(result == .incomplete, "prefix \(end)")
    }
}

@Test("writer output parses back (HEADERS split into CONTINUATION at the frame size)")
func writerRoundTrip() {
    var out: [UInt8] = []
    let block = [UInt8](repeating: 0x82, count: 40_000)
    block.withUnsafeBytes {
        HTTP2FrameWriter.headerBlock(streamID: 9, block: $0, endStream: true, maxFrameSize: 16_384, into: &out)
    }
    let sent = frames(out)
    #expect(sent.map(\.type) == [0x1, 0x9, 0x9])
    #expect(sent.map(\.flags) == [0x1, 0x0, 0x4])
    #expect(sent.map(\.payload.count) == [16_384, 16_384, 7_232])
    #expect(sent.allSatisfy { $0.stream == 9 })
}
