import MeshTranscode
import Testing

/// The length-prefixed message framing: fixed bytes for known messages, every split point of a multi-message
/// stream, and each malformed prefix.
@Suite struct GRPCFramesTests {
    @Test func encodesPrefix() {
        #expect(GRPCFrames.encode([]) == [0, 0, 0, 0, 0])
        #expect(GRPCFrames.encode([0x08, 0x96, 0x01]) == [0, 0, 0, 0, 3, 0x08, 0x96, 0x01])
        let big = [UInt8](repeating: 7, count: 0x01_02_03)
        #expect(Array(GRPCFrames.encode(big).prefix(5)) == [0, 0, 1, 2, 3])
    }

    /// Three messages (one empty) cut into two pieces at every offset, then fed byte by byte.
    @Test func decodesAtEverySplitPoint() throws {
        let messages: [[UInt8]] = [[1, 2, 3], [], Array(0..<200)]
        var stream: [UInt8] = []
        for m in messages { GRPCFrames.append(m, to: &stream) }
        for cut in 0...stream.count {
            var d = GRPCFrameDecoder()
            var got = try d.feed(stream[..<cut])
            got += try d.feed(stream[cut...])
            #expect(got == messages, "cut at \(cut)")
            try d.finish()
        }
        var d = GRPCFrameDecoder()
        var got: [[UInt8]] = []
        for b in stream { got += try d.feed([b]) }
        #expect(got == messages)
    }

    @Test func truncatedStream() throws {
        var d = GRPCFrameDecoder()
        #expect(try d.feed([0, 0, 0, 0, 4, 1, 2]).isEmpty)
        #expect(d.bufferedCount == 7)
        #expect(throws: GRPCFrameError.truncated(buffered: 7)) { try d.finish() }
        var prefixOnly = GRPCFrameDecoder()
        _ = try prefixOnly.feed([0, 0])
        #expect(throws: GRPCFrameError.truncated(buffered: 2)) { try prefixOnly.finish() }
    }

    @Test func malformedPrefixes() throws {
        var compressed = GRPCFrameDecoder()
        #expect(throws: GRPCFrameError.compressedWithoutEncoding) { try compressed.feed([1, 0, 0, 0, 1, 9]) }
        // The error sticks: the stream cannot be resynchronised.
        #expect(throws: GRPCFrameError.compressedWithoutEncoding) { try compressed.feed(GRPCFrames.encode([1])) }
        var flag = GRPCFrameDecoder()
        #expect(throws: GRPCFrameError.invalidFlag(0x80)) { try flag.feed([0x80, 0, 0, 0, 0]) }
        // Too large is decided on the prefix alone, before the payload arrives.
        var small = GRPCFrameDecoder(maxMessageLength: 10)
        #expect(try small.feed(GRPCFrames.encode(Array(repeating: 1, count: 10))).count == 1)
        #expect(throws: GRPCFrameError.messageTooLarge(length: 11, limit: 10)) { try small.feed([0, 0, 0, 0, 11]) }
        var huge = GRPCFrameDecoder()
        #expect(throws: GRPCFrameError.messageTooLarge(length: 0xFFFF_FFFF, limit: 4 << 20)) {
            try huge.feed([0, 0xFF, 0xFF, 0xFF, 0xFF])
        }
        // A valid message before the bad prefix is lost with the error: the caller fails the call anyway.
        var mixed = GRPCFrameDecoder()
        #expect(throws: GRPCFrameError.invalidFlag(2)) { try mixed.feed(GRPCFrames.encode([5]) + [2, 0, 0, 0, 0]) }
    }
}
