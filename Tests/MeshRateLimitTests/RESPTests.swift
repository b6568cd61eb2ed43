import Testing

@testable import MeshRateLimit

@Suite struct RESPTests {
    @Test func commandsAreArraysOfBulkStrings() {
        #expect(String(decoding: RESPEncoder.command("SET", "k", "v1"), as: UTF8.self)
            == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n")
        var out: [UInt8] = []
        RESPEncoder.appendCommand([[], [0, 0x0D, 0x0A]], to: &out)
        #expect(out == Array("*2\r\n$0\r\n\r\n$3\r\n".utf8) + [0, 0x0D, 0x0A] + Array("\r\n".utf8))
    }

    static let replies: [(String, RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("-ERR unknown command\r\n", .error("ERR unknown command")),
        (":-42\r\n", .integer(-42)),
        (":9223372036854775807\r\n", .integer(.max)),
        ("$5\r\nhello\r\n", .bulk(Array("hello".utf8))),
        ("$0\r\n\r\n", .bulk([])),
        ("$-1\r\n", .bulk(nil)),
        ("*-1\r\n", .array(nil)),
        ("_\r\n", .null),
        ("*3\r\n:10\r\n:250000\r\n:5\r\n", .array([.integer(10), .integer(250_000), .integer(5)])),
        ("*2\r\n*1\r\n+a\r\n$2\r\n\r\n\r\n", .array([.array([.simpleString("a")]), .bulk([0x0D, 0x0A])])),
    ]

    @Test(arguments: replies)
    func repliesDecodeAndEveryPrefixIsIncomplete(text: String, value: RESPValue) throws {
        let bytes = Array(text.utf8)
        for cut in 0..<bytes.count {
            var decoder = RESPDecoder()
            decoder.append(Array(bytes[0..<cut]))
            #expect(try decoder.next() == nil, "prefix of \(cut) bytes")
        }
        var decoder = RESPDecoder()
        // Byte by byte, as a slow socket would deliver it.
        var got: RESPValue?
        for byte in bytes {
            decoder.append([byte])
            if let value = try decoder.next() { got = value }
        }
        #expect(got == value)
        #expect(decoder.buffered == 0)
    }

    @Test func pipelinedRepliesComeOutInOrder() throws {
        var decoder = RESPDecoder()
        decoder.append(Array("+OK\r\n:1\r\n$1\r\nx\r\n:2".utf8))
        #expect(try decoder.next() == .simpleString("OK"))
        #expect(try decoder.next() == .integer(1))
        #expect(try decoder.next() == .bulk([0x78]))
        #expect(try decoder.next() == nil)
        decoder.append(Array("\r\n".utf8))
        #expect(try decoder.next() == .integer(2))
    }

    static let malformed: [(String, RESPError)] = [
        ("?x\r\n", .unknownType(0x3F)),
        (":12a\r\n", .badInteger),
        (":\r\n", .badInteger),
        (":99999999999999999999\r\n", .badInteger),
        ("$-2\r\n", .badLength),
        ("$3\r\nabcde\r\n", .missingCRLF),
        ("+OK\n", .missingCRLF),
        ("$2000000\r\n", .tooLarge),
        ("*5000\r\n", .tooLarge),
        ("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", .tooDeep),
        ("_x\r\n", .badLength),
    ]

    @Test(arguments: malformed)
    func malformedRepliesAreRejected(text: String, error: RESPError) {
        var decoder = RESPDecoder()
        decoder.append(Array(text.utf8))
        #expect(throws: error) { try decoder.next() }
    }

    @Test func anEndlessLineIsRejectedNotBuffered() {
        var decoder = RESPDecoder()
        decoder.append([0x2B] + [UInt8](repeating: 0x61, count: 5000))
        #expect(throws: RESPError.tooLarge) { try decoder.next() }
    }
}
