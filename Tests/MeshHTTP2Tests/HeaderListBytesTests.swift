import MeshTestSupport
import Testing

@testable import MeshHTTP2

@Suite("HTTP2HeaderList byte helpers")
struct HeaderListBytesTests {
    /// The eight-at-a-time lowercasing against the one-octet rule, over every octet value at every position of
    /// names from 0 to 40 octets (the word loop, the tail loop and their boundary).
    @Test("lowercaseASCII changes exactly the octets A–Z, at any length and alignment")
    func lowercasingMatchesTheOctetRule() {
        var rng = SplitMix64(state: 0x6C6F_7765_72)
        for length in 0...40 {
            for _ in 0..<200 {
                var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                // Upper-case letters and the octets around the range's edges, often.
                for i in bytes.indices where rng.next() % 3 == 0 {
                    bytes[i] = [0x40, 0x41, 0x5A, 0x5B, 0x60, 0x61, 0x7A, 0x7B, 0xC1, 0xDA, 0xFF][Int(rng.next() % 11)]
                }
                let expected = bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
                var actual = bytes
                actual.withUnsafeMutableBytes { HTTP2HeaderList.lowercaseASCII($0) }
                #expect(actual == expected, "\(bytes)")
            }
        }
    }

    @Test("a name appended with lowercasing reads back lowercased, its value untouched")
    func appendLowercasing() {
        var list = HTTP2HeaderList()
        let name: [UInt8] = Array("X-Request-ID-With-A-Long-Name".utf8)
        let value: [UInt8] = Array("MiXeD Value".utf8)
        name.withUnsafeBytes { n in value.withUnsafeBytes { v in list.append(lowercasingName: n, value: v) } }
        #expect(Array(list.name(0)) == Array("x-request-id-with-a-long-name".utf8))
        #expect(Array(list.value(0)) == value)
    }

    @Test("the static table's raw entries are its entries (RFC 7541 Appendix A, 1...61)")
    func staticEntriesAgree() {
        let table = HPACKStaticTable.shared
        for index in 1...HPACKStaticTable.count {
            let (name, value) = HPACKStaticTable.entry(index)
            #expect(Array(name) == Array(table.name(index)), "index \(index)")
            #expect(Array(value) == Array(table.value(index)), "index \(index)")
        }
    }
}
