import MeshHTTP1
import Testing

private func write(capacity: Int, _ body: (inout HeadWriter) -> Void) -> (String, overflowed: Bool) {
    var storage = [UInt8](repeating: 0, count: capacity)
    return storage.withUnsafeMutableBytes { raw in
        var writer = HeadWriter(raw)
        body(&writer)
        return (String(decoding: raw[0..<writer.count], as: UTF8.self), writer.overflowed)
    }
}

@Suite("HeadWriter")
struct HeadWriterTests {
    /// Pieces of every length from 0 to 40, from varying offsets of a source, each land whole and in order, and
    /// nothing past the written count is touched.
    @Test func piecesOfEveryLengthLandWhole() {
        let source = (0..<64).map { UInt8(0x21 + $0) }
        var expected: [UInt8] = []
        var storage = [UInt8](repeating: 0, count: 2_048)
        let written = storage.withUnsafeMutableBytes { raw -> Int in
            var w = HeadWriter(raw)
            source.withUnsafeBytes { src in
                for length in 0...40 {
                    let offset = length % 23
                    w.write(UnsafeRawBufferPointer(rebasing: src[offset..<(offset + length)]))
                    expected += source[offset..<(offset + length)]
                }
            }
            #expect(!w.overflowed)
            return w.count
        }
        #expect(Array(storage[0..<written]) == expected)
        #expect(storage[written...].allSatisfy { $0 == 0 })
    }

    @Test func writesAHead() {
        let name = "x-request-id"
        let (text, overflowed) = write(capacity: 128) { w in
            w.write("HTTP/1.1 ")
            w.writeDecimal(200)
            w.write(" OK\r\n")
            w.write(string: name)
            w.write(": ")
            Array("abc".utf8).withUnsafeBytes { w.write($0) }
            w.write("\r\ncontent-length: ")
            w.writeDecimal(0)
            w.write("\r\n\r\n")
        }
        #expect(text == "HTTP/1.1 200 OK\r\nx-request-id: abc\r\ncontent-length: 0\r\n\r\n")
        #expect(!overflowed)
    }

    @Test(arguments: [0, 7, 10, 99, 100, 65535, Int.max, -1, -42, Int.min])
    func decimal(value: Int) {
        #expect(write(capacity: 32) { $0.writeDecimal(value) }.0 == String(value))
    }

    @Test(arguments: [0, 1, 10, 15, 16, 255, 4096, 0xdead_beef, Int.max])
    func hexadecimal(value: Int) {
        #expect(write(capacity: 32) { $0.writeHexadecimal(value) }.0 == String(value, radix: 16))
    }

    @Test func overflowDropsTheWriteAndSticks() {
        let (text, overflowed) = write(capacity: 8) { w in
            w.write("12345")
            w.write("6789")  // does not fit: dropped whole
            w.write("ab")  // would fit, but the writer stays overflowed
            w.writeDecimal(1)
        }
        #expect(text == "12345")
        #expect(overflowed)
        #expect(write(capacity: 4) { $0.write("1234") } == ("1234", false))
        #expect(write(capacity: 2) { $0.writeDecimal(123) } == ("", true))
        #expect(write(capacity: 0) { $0.write("") } == ("", false))
    }

    @Test func nonASCIIStringsAreUTF8() {
        #expect(write(capacity: 16) { $0.write("é✓") }.0 == "é✓")
    }
}
