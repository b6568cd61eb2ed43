import MeshTestSupport
import Testing

@testable import MeshHTTP2

/// One header block of an RFC 7541 Appendix C sequence: the encoded bytes, the header list they decode to, the
/// dynamic table afterwards (newest first) and its size.
struct HPACKStep: Sendable {
    var encoded: String
    var fields: [String]
    var table: [String]
    var tableSize: Int
}

/// An Appendix C example: consecutive blocks on one connection.
struct HPACKSequence: CustomTestStringConvertible, Sendable {
    var name: String
    var tableMax: Int
    var steps: [HPACKStep]
    var testDescription: String { name }
}

private let firstRequest = [":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com"]
private let secondRequest = firstRequest + ["cache-control: no-cache"]
private let thirdRequest = [
    ":method: GET", ":scheme: https", ":path: /index.html", ":authority: www.example.com",
    "custom-key: custom-value",
]
private let requestTables = [
    [":authority: www.example.com"],
    ["cache-control: no-cache", ":authority: www.example.com"],
    ["custom-key: custom-value", "cache-control: no-cache", ":authority: www.example.com"],
]
private let date1 = "date: Mon, 21 Oct 2013 20:13:21 GMT"
private let date2 = "date: Mon, 21 Oct 2013 20:13:22 GMT"
private let location = "location: https://www.example.com"
private let cookie = "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
private let responses = [
    [":status: 302", "cache-control: private", date1, location],
    [":status: 307", "cache-control: private", date1, location],
    [":status: 200", "cache-control: private", date2, location, "content-encoding: gzip", cookie],
]
private let responseTables = [
    [location, date1, "cache-control: private", ":status: 302"],
    [":status: 307", location, date1, "cache-control: private"],
    [cookie, "content-encoding: gzip", date2],
]

let appendixC: [HPACKSequence] = [
    // C.3: requests without Huffman coding.
    HPACKSequence(
        name: "C.3 requests, no Huffman", tableMax: 4096,
        steps: [
            HPACKStep(
                encoded: "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", fields: firstRequest,
                table: requestTables[0], tableSize: 57),
            HPACKStep(
                encoded: "8286 84be 5808 6e6f 2d63 6163 6865", fields: secondRequest, table: requestTables[1],
                tableSize: 110),
            HPACKStep(
                encoded: "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
                fields: thirdRequest, table: requestTables[2], tableSize: 164),
        ]),
    // C.4: the same requests with Huffman coding.
    HPACKSequence(
        name: "C.4 requests, Huffman", tableMax: 4096,
        steps: [
            HPACKStep(
                encoded: "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", fields: firstRequest, table: requestTables[0],
                tableSize: 57),
            HPACKStep(
                encoded: "8286 84be 5886 a8eb 1064 9cbf", fields: secondRequest, table: requestTables[1],
                tableSize: 110),
            HPACKStep(
                encoded: "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf", fields: thirdRequest,
                table: requestTables[2], tableSize: 164),
        ]),
    // C.5: responses without Huffman, SETTINGS_HEADER_TABLE_SIZE 256 so entries are evicted.
    HPACKSequence(
        name: "C.5 responses, no Huffman, evictions", tableMax: 256,
        steps: [
            HPACKStep(
                encoded: """
                    4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
                    2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
                    6c65 2e63 6f6d
                    """, fields: responses[0], table: responseTables[0], tableSize: 222),
            HPACKStep(
                encoded: "4803 3330 37c1 c0bf", fields: responses[1], table: responseTables[1], tableSize: 222),
            HPACKStep(
                encoded: """
                    88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
                    54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
                    5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
                    3d31
                    """, fields: responses[2], table: responseTables[2], tableSize: 215),
        ]),
    // C.6: the same responses with Huffman coding.
    HPACKSequence(
        name: "C.6 responses, Huffman, evictions", tableMax: 256,
        steps: [
            HPACKStep(
                encoded: """
                    4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
                    2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3
                    """, fields: responses[0], table: responseTables[0], tableSize: 222),
            HPACKStep(
                encoded: "4883 640e ffc1 c0bf", fields: responses[1], table: responseTables[1], tableSize: 222),
            HPACKStep(
                encoded: """
                    88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
                    77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
                    9587 3160 65c0 03ed 4ee5 b106 3d50 07
                    """, fields: responses[2], table: responseTables[2], tableSize: 215),
        ]),
]

@Test("RFC 7541 Appendix C.3–C.6 sequences decode to the listed fields and tables", arguments: appendixC)
func appendixCSequence(_ sequence: HPACKSequence) {
    var decoder = HPACKDecoder(maxTableSize: sequence.tableMax)
    for (n, step) in sequence.steps.enumerated() {
        let (list, error) = decodeBlock(&decoder, hex(step.encoded))
        #expect(error == nil, "step \(n + 1)")
        #expect(lines(list) == step.fields, "step \(n + 1)")
        #expect(tableEntries(decoder) == step.table, "step \(n + 1)")
        #expect(decoder.table.size == step.tableSize, "step \(n + 1)")
    }
}

/// RFC 7541 C.2: single representations, each on a fresh decoder.
struct LiteralExample: CustomTestStringConvertible, Sendable {
    var name: String
    var encoded: String
    var field: String
    var table: [String]
    var neverIndex = false
    var testDescription: String { name }
}

let appendixC2: [LiteralExample] = [
    LiteralExample(
        name: "C.2.1 literal with indexing", encoded: "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
        field: "custom-key: custom-header", table: ["custom-key: custom-header"]),
    LiteralExample(
        name: "C.2.2 literal without indexing", encoded: "040c 2f73 616d 706c 652f 7061 7468",
        field: ":path: /sample/path", table: []),
    LiteralExample(
        name: "C.2.3 literal never indexed", encoded: "1008 7061 7373 776f 7264 0673 6563 7265 74",
        field: "password: secret", table: [], neverIndex: true),
    LiteralExample(name: "C.2.4 indexed", encoded: "82", field: ":method: GET", table: []),
]

@Test("RFC 7541 Appendix C.2 single representations", arguments: appendixC2)
func appendixC2Literal(_ example: LiteralExample) {
    var decoder = HPACKDecoder()
    let (list, error) = decodeBlock(&decoder, hex(example.encoded))
    #expect(error == nil)
    #expect(lines(list) == [example.field])
    #expect(list.fields.first?.neverIndex == example.neverIndex)
    #expect(tableEntries(decoder) == example.table)
}

/// RFC 7541 C.1: integer representation examples.
@Test("RFC 7541 C.1 integers: 10 and 1337 with a 5-bit prefix, 42 with an 8-bit prefix")
func integerExamples() {
    for (value, prefix, encoded) in [(10, 5, "0a"), (1337, 5, "1f9a0a"), (42, 8, "2a")] {
        var out: [UInt8] = []
        HPACKInteger.encode(value, prefixBits: prefix, firstByte: 0, into: &out)
        #expect(hexString(out) == encoded)
        let decoded = out.withUnsafeBytes { HPACKInteger.decode($0, at: 0, prefixBits: prefix) }
        #expect(decoded == .value(value, next: out.count))
    }
    // The bits above the prefix belong to the representation and are ignored.
    let withPattern = [UInt8](arrayLiteral: 0xFF, 0x9A, 0x0A)
    #expect(withPattern.withUnsafeBytes { HPACKInteger.decode($0, at: 0, prefixBits: 5) } == .value(1337, next: 3))
    let short = [UInt8](arrayLiteral: 0x1F, 0x9A)
    #expect(short.withUnsafeBytes { HPACKInteger.decode($0, at: 0, prefixBits: 5) } == .incomplete)
    let huge = [UInt8](arrayLiteral: 0x1F, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F)
    #expect(huge.withUnsafeBytes { HPACKInteger.decode($0, at: 0, prefixBits: 5) } == .overflow)
}

@Test("static table spot checks (RFC 7541 Appendix A)")
func staticTableSpots() {
    let table = HPACKStaticTable.shared
    let spots: [(Int, String, String)] = [
        (1, ":authority", ""), (2, ":method", "GET"), (7, ":scheme", "https"), (8, ":status", "200"),
        (14, ":status", "500"), (16, "accept-encoding", "gzip, deflate"), (28, "content-length", ""),
        (38, "host", ""), (55, "set-cookie", ""), (61, "www-authenticate", ""),
    ]
    for (index, name, value) in spots {
        #expect(String(decoding: table.name(index), as: UTF8.self) == name, "index \(index)")
        #expect(String(decoding: table.value(index), as: UTF8.self) == value, "index \(index)")
    }
    #expect(table.find(name: ":status".utf8, value: "404".utf8)! == (13, true))
    #expect(table.find(name: ":status".utf8, value: "418".utf8)! == (8, false))
    #expect(table.find(name: "x-custom".utf8, value: "".utf8) == nil)
}

@Test("HPACK decoding errors are reported, not crashed on")
func decodingErrors() {
    let cases: [(String, String, HPACKDecoder.DecodeError)] = [
        ("index 0", "80", .invalidIndex),
        ("index past both tables", "be", .invalidIndex),
        ("literal name index past tables", "7f0a 00", .invalidIndex),
        ("size update above SETTINGS", "3fe2 1f", .tableSizeTooLarge),  // 4097 > 4096
        ("size update after a field", "82 20", .tableSizeUpdateNotAtStart),
        ("truncated string", "400a 6375", .truncated),
        ("Huffman EOS inside the string", "0084 ffff ffff 00", .huffman(.eosInString)),  // 30 one-bits = EOS
        ("Huffman padding with a zero bit", "0081 fe 00", .huffman(.invalidPadding)),
        ("Huffman padding of 8 bits", "0082 1fff 00", .huffman(.invalidPadding)),
    ]
    for (name, encoded, expected) in cases {
        var decoder = HPACKDecoder()
        #expect(decodeBlock(&decoder, hex(encoded)).1 == expected, "\(name)")
    }
}

@Test("size updates at the start of a block shrink and evict; two in a row are allowed (RFC 7541 §4.2)")
func sizeUpdates() {
    var decoder = HPACKDecoder(maxTableSize: 4096)
    _ = decodeBlock(&decoder, hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"))
    #expect(decoder.table.count == 1)
    let (list, error) = decodeBlock(&decoder, hex("20 3f e1 1f 82"))  // size 0, then 4096, then :method GET
    #expect(error == nil)
    #expect(lines(list) == [":method: GET"])
    #expect(decoder.table.count == 0 && decoder.table.maxSize == 4096)
}

@Test("fields past maxListSize are decoded (table kept in step) but dropped, and the size is counted")
func listLimit() {
    var decoder = HPACKDecoder(maxTableSize: 4096, maxListSize: 60)
    // C.3.1: :method GET (42), :scheme http (43) → the second already passes 60.
    let (list, error) = decodeBlock(&decoder, hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"))
    #expect(error == nil)
    #expect(lines(list) == [":method: GET"])
    #expect(list.decodedSize == 42 + 43 + 38 + 57)
    #expect(tableEntries(decoder) == [":authority: www.example.com"])
}

@Test("resumable decoding: every split of a block gives the same fields")
func resumableDecoding() {
    let block = hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")
    for split in 0...block.count {
        var decoder = HPACKDecoder()
        _ = decodeBlock(&decoder, hex("8286 84be 5886 a8eb 1064 9cbf"))  // needs C.4.1 and C.4.2 first
        decoder = HPACKDecoder()
        _ = decodeBlock(&decoder, hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"))
        _ = decodeBlock(&decoder, hex("8286 84be 5886 a8eb 1064 9cbf"))
        var list = HTTP2HeaderList()
        decoder.beginBlock()
        let first = Array(block[0..<split])
        let used = first.withUnsafeBytes { try! decoder.decode($0, into: &list).get() }
        let rest = Array(block[used...])
        let usedRest = rest.withUnsafeBytes { try! decoder.decode($0, into: &list).get() }
        #expect(usedRest == rest.count, "split \(split)")
        #expect(lines(list) == thirdRequest, "split \(split)")
    }
}

@Test("encoder output decodes back, uses the static table and Huffman, and marks credentials never-indexed")
func encoderRoundTrip() {
    var encoder = HPACKEncoder()
    let fields = HTTP2HeaderList([
        (":status", "200"), ("content-type", "application/grpc"), ("x-custom", "Value With Spaces"),
        ("authorization", "Bearer abc"), ("grpc-status", "0"),
    ])
    var out: [UInt8] = []
    encoder.encode(fields, into: &out)
    #expect(Array(out.prefix(2)) == [0x20, 0x88])  // size update to 0, then static index 8 (:status 200)
    var decoder = HPACKDecoder()
    let (list, error) = decodeBlock(&decoder, out)
    #expect(error == nil)
    #expect(list == fields)
    #expect(list.fields[3].neverIndex)
    #expect(decoder.table.count == 0)
    var second: [UInt8] = []
    encoder.encode(HTTP2HeaderList([(":status", "404")]), into: &second)
    #expect(second == [0x8D])  // no size update the second time
}

@Test("a response head's :status is encoded without a field: indexed for the static table's seven, else literal")
func statusIsEncodedDirectly() {
    for status in [200, 204, 206, 304, 400, 404, 500, 101, 201, 302, 418, 503, 599] {
        var encoder = HPACKEncoder()
        var out: [UInt8] = []
        let fields = HTTP2HeaderList([("content-type", "text/plain"), ("x-a", "b")])
        encoder.encode(fields, status: status, into: &out)
        var decoder = HPACKDecoder()
        let (list, error) = decodeBlock(&decoder, out)
        #expect(error == nil, "\(status)")
        #expect(list.pairs.map { "\($0.name): \($0.value)" } == [":status: \(status)", "content-type: text/plain", "x-a: b"])
        // The same bytes as encoding the status as the list's first field.
        var viaField = HPACKEncoder()
        var expected: [UInt8] = []
        viaField.encode(HTTP2HeaderList([(":status", "\(status)"), ("content-type", "text/plain"), ("x-a", "b")]), into: &expected)
        #expect(out == expected, "\(status)")
    }
}

/// The encoder stores into caller memory sized by `HPACKEncoder.bound`: over generated heads — names in and out of the
/// static table, credentials, octets Huffman makes longer, lengths that need two- and three-octet integers, remembered
/// fields replayed — no block is longer than its bound, no octet after the bound is touched, and every block decodes
/// to its head.
@Test("a field block never outgrows HPACKEncoder.bound")
func blockStaysWithinBound() {
    var rng = SplitMix64(state: 0x6B6F_756E_64)
    var encoder = HPACKEncoder()
    let names = ["content-type", "server", "authorization", "x-long-\(String(repeating: "n", count: 200))", "date"]
    // `~`, `|`, `{` have 13- to 15-bit Huffman codes: their raw form is the shorter one.
    let alphabets = ["abcdefghij0123456789", "~|{}^`\\", "GMT, :/-0123456789"]
    for round in 0..<300 {
        var pairs: [(String, String)] = []
        // One alphabet a head: a third of the heads are all raw strings, the worst case.
        let alphabet = Array(alphabets.randomElement(using: &rng)!)
        for _ in 0..<Int.random(in: 0...10, using: &rng) {
            // Literal names from the head's alphabet too, so a raw head is raw in every string.
            let name = Int.random(in: 0..<2, using: &rng) == 0
                ? String((0..<Int.random(in: 1...20, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
                : names.randomElement(using: &rng)!
            let length = [0, 1, 30, 126, 127, 128, 254, 255, 16_510, 16_511].randomElement(using: &rng)!
            pairs.append((name, String((0..<length).map { _ in alphabet.randomElement(using: &rng)! })))
        }
        let head = HTTP2HeaderList(pairs)
        let bound = HPACKEncoder.bound(head)
        var memory = [UInt8](repeating: 0xA5, count: bound + 32)
        let status = [200, 404, 418, 999].randomElement(using: &rng)!
        let length = memory.withUnsafeMutableBytes {
            encoder.encode(head, status: status, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<bound]))
        }
        #expect(length <= bound, "round \(round)")
        #expect(memory[bound...].allSatisfy { $0 == 0xA5 }, "round \(round)")
        var decoder = HPACKDecoder()
        let (list, error) = decodeBlock(&decoder, Array(memory[..<length]))
        #expect(error == nil, "round \(round)")
        #expect(list.pairs.map { "\($0.name): \($0.value)" } == [":status: \(status)"] + pairs.map { "\($0.0): \($0.1)" })
    }
}
