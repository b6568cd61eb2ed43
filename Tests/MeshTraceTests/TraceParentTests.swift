import Testing

@testable import MeshTrace

@Suite struct TraceParentTests {
    // W3C Trace Context §3.2.4 examples.
    @Test func parsesTheSpecExamples() throws {
        let sampled = try #require(TraceParent.parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
        #expect(sampled.version == 0)
        #expect(sampled.traceID == TraceID(high: 0x0af7_6519_16cd_43dd, low: 0x8448_eb21_1c80_319c))
        #expect(sampled.parentID == SpanID(0xb7ad_6b71_6920_3331))
        #expect(sampled.sampled)
        let unsampled = try #require(TraceParent.parse("00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-00"))
        #expect(!unsampled.sampled)
        #expect(unsampled.parentID.hex == "00f067aa0ba902b7")
    }

    @Test(arguments: [
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-ff",
        "00-00000000000000000000000000000001-0000000000000001-00",
    ])
    func formatRoundTrips(value: String) throws {
        let parsed = try #require(TraceParent.parse(value))
        #expect(parsed.headerValue == value)
    }

    @Test(arguments: [
        "",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0",  // 54 bytes
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-",  // version 00 with extra data
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",  // uppercase trace-id
        "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01",  // uppercase parent-id
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0F",  // uppercase flags
        "0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  // uppercase version
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  // version ff
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",  // all-zero trace-id
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  // all-zero parent-id
        "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  // bad delimiter
        "00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331_01",
        "00-0af7651916cd43dd8448eb211c8031-9c-b7ad6b7169203331-01",  // delimiter moved
        "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01.future",  // higher version, bad delimiter
        "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",  // not hex
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333 -01",
    ])
    func rejectsInvalid(value: String) {
        #expect(TraceParent.parse(value) == nil)
    }

    @Test func higherVersionParsesTheFirstFourFields() throws {
        let plain = try #require(TraceParent.parse("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
        #expect(plain.version == 0xCC)
        let extra = try #require(TraceParent.parse("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-09-what-x"))
        #expect(extra.traceID == plain.traceID && extra.flags.rawValue == 0x09)
        // The child is emitted as version 00 with the unknown flag bit 3 dropped.
        let child = extra.child(newSpan: SpanID(1)).headerValue
        #expect(child == "00-0af7651916cd43dd8448eb211c80319c-0000000000000001-01")
    }

    @Test func owsAroundTheValueIsIgnored() {
        #expect(TraceParent.parse(" \t00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\t ") != nil)
    }

    @Test func childKeepsTraceAndKnownFlags() throws {
        let parent = try #require(TraceParent.parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03"))
        let child = parent.child(newSpan: SpanID(random: 0xdead_beef))
        #expect(child.traceID == parent.traceID)
        #expect(child.parentID == SpanID(0xdead_beef))
        #expect(child.headerValue == "00-0af7651916cd43dd8448eb211c80319c-00000000deadbeef-03")
    }

    @Test func formatWritesIntoACallerBuffer() {
        let parent = TraceParent(traceID: TraceID(high: 1, low: 2), parentID: SpanID(3), flags: .sampled)
        var buffer = [UInt8](repeating: 0x2A, count: 60)
        let written = buffer.withUnsafeMutableBytes { parent.format(into: $0) }
        #expect(written == 55)
        #expect(String(decoding: buffer[..<55], as: UTF8.self) == parent.headerValue)
        #expect(buffer[55...].allSatisfy { $0 == 0x2A })
    }

    @Test func multipleLinesAreInvalid() {
        let value = Array("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".utf8)
        value.withUnsafeBytes { line in
            #expect(TraceParent.parse(lines: [line]) != nil)
            #expect(TraceParent.parse(lines: [line, line]) == nil)
            #expect(TraceParent.parse(lines: [UnsafeRawBufferPointer]()) == nil)
        }
    }

    @Test func randomIdsAreNeverZero() {
        #expect(TraceID(random: (0, 0)).isValid)
        #expect(TraceID(random: (0, 5)) == TraceID(high: 0, low: 5))
        #expect(SpanID(random: 0).isValid)
        #expect(TraceID(high: 0xAB, low: 0xCD).hex == "00000000000000ab00000000000000cd")
    }
}
