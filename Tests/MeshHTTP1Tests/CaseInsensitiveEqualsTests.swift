import Testing

@testable import MeshHTTP1

/// The word-at-a-time compare against a byte-at-a-time reference: every byte value at every position of names
/// shorter than, equal to and longer than one word, in both cases.
@Suite("asciiCaseInsensitiveEquals")
struct CaseInsensitiveEqualsTests {
    private func reference(_ bytes: [UInt8], _ literal: String) -> Bool {
        bytes.count == literal.utf8.count && zip(bytes, literal.utf8).allSatisfy { ASCII.lower($0) == $1 }
    }

    private func check(_ literal: StaticString, _ text: String) {
        let base = Array(text.utf8)
        for position in base.indices {
            for value in 0...255 {
                var bytes = base
                bytes[position] = UInt8(value)
                let got = bytes.withUnsafeBytes { asciiCaseInsensitiveEquals($0, literal) }
                #expect(got == reference(bytes, text), "\(text) byte \(position) = \(value)")
            }
        }
        let upper = Array(text.uppercased().utf8)
        #expect(upper.withUnsafeBytes { asciiCaseInsensitiveEquals($0, literal) })
        #expect(!Array(base.dropLast()).withUnsafeBytes { asciiCaseInsensitiveEquals($0, literal) })
        #expect(!(base + [0x61]).withUnsafeBytes { asciiCaseInsensitiveEquals($0, literal) })
    }

    @Test("names of 2 to 17 bytes, every byte value at every position")
    func everyByteAtEveryPosition() {
        check("te", "te")
        check("via", "via")
        check("host", "host")
        check("cookie", "cookie")
        check("chunked", "chunked")
        check("trailers", "trailers")
        check("keep-alive", "keep-alive")
        check("content-length", "content-length")
        check("x-forwarded-proto", "x-forwarded-proto")
    }

    @Test("ASCII.lowered folds A...Z in every lane and nothing else")
    func swarLowering() {
        for value in 0...255 {
            let byte = UInt8(value)
            for lane in 0..<8 {
                let word = UInt64(byte) << UInt64(lane * 8) | 0x4100_0000_0000_0000 >> UInt64(lane == 7 ? 8 : 0)
                let expected = (0..<8).reduce(UInt64(0)) { sum, i in
                    sum | UInt64(ASCII.lower(UInt8(truncatingIfNeeded: word >> UInt64(i * 8)))) << UInt64(i * 8)
                }
                #expect(ASCII.lowered(word) == expected, "byte \(value) lane \(lane)")
            }
        }
    }
}
