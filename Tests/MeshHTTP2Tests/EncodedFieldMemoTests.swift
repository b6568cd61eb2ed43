import MeshTestSupport
import Testing

@testable import MeshHTTP2

/// The encoder replays remembered representations (`EncodedFieldMemo`): over generated sequences of heads on one
/// connection — names that share sets, values that repeat, change or never repeat, credentials, values too long to
/// keep — every block is byte for byte what an encoder with an empty memo writes, and decodes to the head.
@Suite("EncodedFieldMemo") struct EncodedFieldMemoTests {
    @Test(arguments: [1 as UInt64, 0x6D65_6D6F, 0xFFFF_0000_1234])
    func blocksAreThoseOfAnEncoderWithoutMemory(seed: UInt64) {
        var rng = SplitMix64(state: seed)
        // More names than sets, so sets fill and entries move between their two slots.
        let names = (0..<40).map { "x-name-\($0)" } + ["server", "date", "content-type", "authorization", "cookie"]
        let values = ["a", "nginx/1.22.1", "text/plain; charset=utf-8", "", "Mon, 07 Dec 2026 05:08:42 GMT"]
        var warm = HPACKEncoder()
        var primer: [UInt8] = []
        warm.encode(HTTP2HeaderList(), into: &primer)  // the table size update goes out once, first
        for round in 0..<400 {
            var pairs: [(String, String)] = []
            for _ in 0..<Int.random(in: 1...12, using: &rng) {
                let name = Int.random(in: 0..<4, using: &rng) == 0 ? names.randomElement(using: &rng)! : names[40 + Int.random(in: 0..<5, using: &rng)]
                let value: String
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: value = String(rng.next(), radix: 16)  // never repeats
                case 1: value = String(repeating: "v", count: Int.random(in: 100...140, using: &rng))  // around a slot's size
                default: value = values.randomElement(using: &rng)!
                }
                pairs.append((name, value))
            }
            let head = HTTP2HeaderList(pairs)
            var cold = HPACKEncoder()
            var expected: [UInt8] = []
            cold.encode(HTTP2HeaderList(), into: &expected)
            expected.removeAll()
            cold.encode(head, status: 200, into: &expected)
            var got: [UInt8] = []
            warm.encode(head, status: 200, into: &got)
            #expect(got == expected, "round \(round): \(pairs)")
            var decoder = HPACKDecoder()
            let (list, error) = decodeBlock(&decoder, [0x20] + got)
            #expect(error == nil && list.pairs.dropFirst().map { "\($0.name): \($0.value)" } == pairs.map { "\($0.0): \($0.1)" },
                    "round \(round)")
        }
    }

    @Test func aRepeatedFieldIsReplayedAndAChangedOneIsNot() {
        let memo = EncodedFieldMemo()
        func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
        let name = bytes("server"), value = bytes("nginx"), other = bytes("envoy")
        name.withUnsafeBytes { n in
            value.withUnsafeBytes { v in
                #expect(memo.lookup(n, v) == nil)
                [UInt8]([1, 2, 3]).withUnsafeBytes { memo.store(n, v, encoded: $0) }
                #expect(memo.lookup(n, v).map(Array.init) == [1, 2, 3])
                other.withUnsafeBytes { o in
                    #expect(memo.lookup(n, o) == nil)
                    // A new value of the same name takes the name's slot: the old one is gone, the new one is there.
                    [UInt8]([9]).withUnsafeBytes { memo.store(n, o, encoded: $0) }
                    #expect(memo.lookup(n, o).map(Array.init) == [9])
                }
                #expect(memo.lookup(n, v) == nil)
            }
        }
    }

    /// A name whose fields do not fit keeps its literal name's representation alone; it never answers a lookup of
    /// a whole field, and a whole field of the same name takes its slot.
    @Test func aNameAloneIsKeptForFieldsTooLongToKeep() {
        let memo = EncodedFieldMemo()
        func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
        let name = bytes("x-request-id"), short = bytes("1")
        name.withUnsafeBytes { n in
            short.withUnsafeBytes { v in
                #expect(memo.lookupName(n) == nil)
                [UInt8]([0, 7, 7]).withUnsafeBytes { memo.storeName(n, encoded: $0) }
                #expect(memo.lookupName(n).map(Array.init) == [0, 7, 7])
                #expect(memo.lookup(n, v) == nil)
                #expect(memo.lookup(n, UnsafeRawBufferPointer(start: nil, count: 0)) == nil)
                [UInt8]([5]).withUnsafeBytes { #expect(memo.store(n, v, encoded: $0)) }
                #expect(memo.lookupName(n) == nil)
                #expect(memo.lookup(n, v).map(Array.init) == [5])
            }
        }
    }
}
