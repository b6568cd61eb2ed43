import Testing

@testable import MeshTrace

@Suite struct TraceStateTests {
    static let valid: [String] = [
        "",
        "rojo=00f067aa0ba902b7",  // W3C §3.3.2 examples
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
        "congo=congosFirstPosition,rojo=rojosFirstPosition",
        "foo=1 \t , \t bar=2, \t baz=3",
        " , ,foo=1,,",  // empty members are allowed
        "tenant@system=x",
        "0tenant@sys-tem/*_=x",
        "foo= leading spaces kept",
        "k=" + String(repeating: "v", count: 256),
        String(repeating: "k", count: 256) + "=v",
        (1...32).map { "k\($0)=v" }.joined(separator: ","),
    ]

    static let invalid: [String] = [
        "foo",  // no '='
        "foo=",  // empty value
        "=1",  // empty key
        "FOO=1",  // uppercase key
        "foo.bar=1",
        "foo =1",
        "@foo=1",
        "_foo=1",
        "foo=bar=baz",
        "foo=a\tb",  // tab inside a value
        "foo=\u{7F}",
        "foo=1,foo=2",  // duplicate key
        "foo=1,bar=2,foo=1",
        "k=" + String(repeating: "v", count: 257),
        String(repeating: "k", count: 257) + "=v",
        (1...33).map { "k\($0)=v" }.joined(separator: ","),
    ]

    @Test(arguments: valid)
    func acceptsValidLists(value: String) {
        #expect(TraceState.validate(value))
    }

    @Test(arguments: invalid)
    func rejectsInvalidLists(value: String) {
        #expect(!TraceState.validate(value))
    }

    /// Runs `combine` over string lines with an output buffer of `capacity` bytes (default: the sum of lengths).
    func combine(_ lines: [String], capacity: Int? = nil) -> (TraceState.Combined, String) {
        let arrays = lines.map { Array($0.utf8) }
        var out = [UInt8](repeating: 0, count: capacity ?? arrays.reduce(0) { $0 + $1.count + 1 })
        func withAll(_ index: Int, _ acc: [UnsafeRawBufferPointer]) -> TraceState.Combined {
            guard index < arrays.count else {
                return out.withUnsafeMutableBytes { TraceState.combine(acc, into: $0) }
            }
            return arrays[index].withUnsafeBytes { withAll(index + 1, acc + [$0]) }
        }
        let result = withAll(0, [])
        if case .value(let length) = result { return (result, String(decoding: out[..<length], as: UTF8.self)) }
        return (result, "")
    }

    @Test func combinesLinesInOrderWithoutOWS() {
        let (result, value) = combine(["foo=1 , bar=2", "", "\trojo=1", "baz=3\t"])
        #expect(result == .value(length: 24))
        #expect(value == "foo=1,bar=2,rojo=1,baz=3")
    }

    @Test func duplicateKeysKeepTheFirstMember() {
        #expect(combine(["foo=1,foo=2"]).1 == "foo=1")
        #expect(combine(["foo=1", "bar=3,foo=2"]).1 == "foo=1,bar=3")
        #expect(combine(["foo1=1", "foo=2"]).1 == "foo1=1,foo=2")
    }

    @Test func emptyInvalidAndOversized() {
        #expect(combine([]).0 == .absent)
        #expect(combine(["", " , "]).0 == .absent)
        #expect(combine(["foo=1", "BAR=2"]).0 == .invalid)
        let twenty = (1...20).map { "a\($0)=1" }.joined(separator: ",")
        let thirteen = (1...13).map { "b\($0)=1" }.joined(separator: ",")
        #expect(combine([twenty, thirteen]).0 == .invalid)
        #expect(combine([twenty, String(thirteen.dropLast(5))]).0 != .invalid)
        #expect(combine(["foo=1,bar=2"], capacity: 8).0 == .tooLong)
    }
}

@Suite struct RequestIDAndSamplingTests {
    @Test(arguments: [
        ("abc-123", true), ("", false), (String(repeating: "a", count: 128), true),
        (String(repeating: "a", count: 129), false), ("has space", false), ("tab\there", false), ("~!{}", true),
        ("caf\u{E9}", false), ("nl\n", false),
    ])
    func sanity(value: String, sane: Bool) {
        #expect(RequestID.isSane(value) == sane)
    }

    @Test func generatedIdsAre32HexDigitsFromTheRandomWords() {
        let id = RequestID.generate(random: (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210))
        #expect(id == "0123456789abcdeffedcba9876543210")
        #expect(RequestID.isSane(id))
        #expect(RequestID.generate(random: (1, 2)) != RequestID.generate(random: (1, 3)))
    }

    @Test func samplingFollowsTheRatio() {
        #expect(!SampleDecision.sampled(ratio: 0, random: 0))
        #expect(!SampleDecision.sampled(ratio: .nan, random: 0))
        #expect(SampleDecision.sampled(ratio: 1, random: .max))
        #expect(SampleDecision.sampled(ratio: 0.5, random: 0))
        #expect(SampleDecision.sampled(ratio: 0.5, random: 1 << 62))
        #expect(!SampleDecision.sampled(ratio: 0.5, random: 1 << 63))
        // Evenly spaced random words: the sampled share equals the ratio.
        let hits = (0..<1_024).filter { SampleDecision.sampled(ratio: 0.25, random: UInt64($0) << 54) }.count
        #expect(hits == 256)
    }
}
