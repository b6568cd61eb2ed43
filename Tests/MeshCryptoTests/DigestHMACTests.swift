import MeshCrypto
import Testing

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }.joined()
}

func unhex(_ text: String) -> [UInt8] {
    let chars = Array(text.utf8)
    return stride(from: 0, to: chars.count, by: 2).map {
        UInt8(String(decoding: chars[$0..<$0 + 2], as: UTF8.self), radix: 16)!
    }
}

@Suite struct DigestHMACTests {
    /// FIPS 180-2 "abc" examples.
    @Test func shaKnownAnswers() {
        let abc = Array("abc".utf8)
        #expect(hex(Digest.sha256(abc)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            hex(Digest.sha384(abc))
                == "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7")
        #expect(hex(Digest.sha512(abc)).hasPrefix("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"))
    }

    /// RFC 4231 test case 2 (key "Jefe").
    @Test func hmacRFC4231Case2() {
        let key = Array("Jefe".utf8)
        let data = Array("what do ya want for nothing?".utf8)
        #expect(
            hex(HMAC.mac(.sha256, key: key, data: data))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(
            hex(HMAC.mac(.sha512, key: key, data: data)).hasPrefix("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd6"))
    }

    @Test func hmacVerifyAndConstantTimeCompare() {
        let tag = HMAC.mac(.sha384, key: [1, 2, 3], data: [4, 5])
        #expect(tag.count == 48)
        var wrong = tag
        wrong[47] ^= 1
        let check: ([UInt8]) -> Bool = { expected in
            [UInt8]([1, 2, 3]).withUnsafeBytes { key in
                [UInt8]([4, 5]).withUnsafeBytes { data in
                    expected.withUnsafeBytes { HMAC.verify(.sha384, key: key, data: data, expected: $0) }
                }
            }
        }
        #expect(check(tag))
        #expect(!check(wrong))
        #expect(!check(Array(tag.prefix(32))))
        #expect(ConstantTime.equals([], []))
        #expect(!ConstantTime.equals([1], [1, 1]))
        #expect(HMAC.mac(.sha256, key: [], data: []).count == 32)
    }

    @Test func randomBytesDiffer() {
        let a = SecureRandom.bytes(32)
        let b = SecureRandom.bytes(32)
        #expect(a.count == 32)
        #expect(a != b)
    }
}

@Suite struct PasswordHashTests {
    /// RFC 7914 §12, third vector ("password", "NaCl", N=1024, r=8, p=16).
    @Test func scryptKnownAnswer() {
        let out = PasswordHash.derive(
            Array("password".utf8), salt: Array("NaCl".utf8), cost: .init(n: 1024, r: 8, p: 16), length: 64)
        #expect(
            out.map(hex)
                == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
                    + "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
        )
    }

    @Test func hashThenVerify() throws {
        let cost = PasswordHash.Cost(n: 16, r: 1, p: 1)
        let stored = try #require(PasswordHash.hash(Array("s3cret".utf8), cost: cost))
        #expect(stored.hasPrefix("scrypt$16$1$1$"))
        #expect(PasswordHash.verify(Array("s3cret".utf8), against: stored))
        #expect(!PasswordHash.verify(Array("s3cret!".utf8), against: stored))
        #expect(PasswordHash.hash(Array("s3cret".utf8), cost: cost) != stored)  // fresh salt each time
    }

    @Test(arguments: [
        "", "scrypt$16$1$1$AAAAAAAAAAAAAAAAAAAAAA", "bcrypt$16$1$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$17$1$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$2147483648$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$16$1$1$AAAA=$AAAAAAAAAAAAAAAAAAAAAA",
    ])
    func rejectsMalformedStoredHashes(stored: String) {
        #expect(!PasswordHash.verify(Array("x".utf8), against: stored))
    }
}
