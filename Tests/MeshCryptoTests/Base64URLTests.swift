import MeshCrypto
import Testing

@Suite struct Base64URLTests {
    /// RFC 4648 §10 test vectors (the url alphabet differs only for bytes that map to 62/63; padding stripped).
    @Test(arguments: [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"),
    ])
    func rfc4648Vectors(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(encoded) == Array(plain.utf8))
    }

    @Test func urlAlphabetBytes() {
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.decode("-_-_") == [0xFB, 0xFF, 0xBF])
        #expect(Base64.encode([0xFB, 0xFF, 0xBF]) == "+/+/")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
    }

    /// Everything a canonical unpadded encoder would not produce must be rejected.
    @Test(arguments: [
        "Zm8=", "Zm9vYg==", "Zm 9v", "Zm9v\n", "+/+/", "Zm9v/A", "Z", "Zm9vY", "Zh", "Zm9", "Zm8\u{0}", "é123",
    ])
    func rejectsNonCanonical(input: String) {
        #expect(Base64URL.decode(input) == nil)
    }

    @Test func roundTripsAllLengths() {
        let bytes = SecureRandom.bytes(70)
        for length in 0...bytes.count {
            let slice = Array(bytes.prefix(length))
            #expect(Base64URL.decode(Base64URL.encode(slice)) == slice)
        }
    }

    @Test func decodesIntoCallerBuffer() {
        let source = Array("Zm9vYmE".utf8)
        var out = [UInt8](repeating: 0, count: 8)
        let count = source.withUnsafeBytes { src in out.withUnsafeMutableBytes { Base64URL.decode(src, into: $0) } }
        #expect(count == 5)
        #expect(Array(out.prefix(5)) == Array("fooba".utf8))
        var small = [UInt8](repeating: 0, count: 4)
        let none = source.withUnsafeBytes { src in small.withUnsafeMutableBytes { Base64URL.decode(src, into: $0) } }
        #expect(none == nil)
    }
}
