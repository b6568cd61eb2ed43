import MeshCrypto
import Testing

/// Splits a compact JWS into (signing input bytes, decoded signature).
func splitJWS(_ compact: String) -> (input: [UInt8], signature: [UInt8]) {
    let dot = compact.lastIndex(of: ".")!
    return (Array(compact[..<dot].utf8), Base64URL.decode(String(compact[compact.index(after: dot)...]))!)
}

func b64(_ text: String) -> [UInt8] { Base64URL.decode(text)! }

func verify(_ alg: SignatureAlgorithm, _ key: PublicKey, _ input: [UInt8], _ signature: [UInt8]) -> Bool {
    input.withUnsafeBytes { i in
        signature.withUnsafeBytes { alg.verify(publicKey: key, signingInput: i, signature: $0) }
    }
}

enum RFCVectors {
    // RFC 7515 A.2: payload {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
    static let rs256N =
        "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yR"
            + "T-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXB"
            + "dQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9ia"
            + "GNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
    static let rs256 =
        "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19"
            + "yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt"
            + "_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb"
            + "1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI"
            + "8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
    // RFC 7515 A.3 (same payload), P-256 key.
    static let es256X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
    static let es256Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    static let es256 =
        "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19"
            + "yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU"
            + "1Q"
    // RFC 8037 A.4: payload "Example of Ed25519 signing".
    static let ed25519X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    static let ed25519 =
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6"
            + "dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
}

@Suite struct SignatureTests {
    @Test func rfc7515A2RS256() throws {
        let key = try PublicKey.rsa(modulus: b64(RFCVectors.rs256N), exponent: b64("AQAB")).get()
        #expect(key.kind == .rsa(bits: 2048))
        let (input, signature) = splitJWS(RFCVectors.rs256)
        #expect(verify(.rs256, key, input, signature))
        #expect(!verify(.rs384, key, input, signature))
        #expect(!verify(.ps256, key, input, signature))
        #expect(!verify(.rs256, key, input + [0x20], signature))
        #expect(!verify(.es256, key, input, signature))  // key type does not fit
    }

    @Test func rfc7515A3ES256() throws {
        let key = try PublicKey.ec(curve: .p256, x: b64(RFCVectors.es256X), y: b64(RFCVectors.es256Y)).get()
        let (input, signature) = splitJWS(RFCVectors.es256)
        #expect(signature.count == 64)
        #expect(verify(.es256, key, input, signature))
        #expect(!verify(.es384, key, input, signature))
        var tampered = signature
        tampered[10] ^= 0x01
        #expect(!verify(.es256, key, input, tampered))
        #expect(!verify(.es256, key, input, Array(signature.dropLast())))
    }

    @Test func rfc8037A4Ed25519() throws {
        let key = try PublicKey.ed25519(x: b64(RFCVectors.ed25519X)).get()
        let (input, signature) = splitJWS(RFCVectors.ed25519)
        #expect(verify(.edDSA, key, input, signature))
        #expect(!verify(.edDSA, key, Array("x".utf8) + input, signature))
    }

    @Test func rejectsPointOffTheCurve() {
        var y = b64(RFCVectors.es256Y)
        y[31] ^= 0x01
        #expect(throws: KeyError.pointNotOnCurve) {
            try PublicKey.ec(curve: .p256, x: b64(RFCVectors.es256X), y: y).get()
        }
        #expect(throws: KeyError.badLength) {
            try PublicKey.ec(curve: .p384, x: b64(RFCVectors.es256X), y: b64(RFCVectors.es256Y)).get()
        }
        #expect(throws: KeyError.badLength) { try PublicKey.ed25519(x: [1, 2, 3]).get() }
    }

    @Test func rejectsSmallRSA() throws {
        let small = try #require(PrivateKey.generate(.rsa(bits: 1024)))
        let jwk = small.publicJWK()
        #expect(throws: KeyError.rsaKeyTooSmall(bits: 1024)) {
            try PublicKey.rsa(modulus: b64(jwk.n!), exponent: b64(jwk.e!)).get()
        }
    }

    @Test(arguments: [
        (KeyKind.ec(.p256), SignatureAlgorithm.es256), (.ec(.p384), .es384), (.ec(.p521), .es512), (.ed25519, .edDSA),
    ])
    func generatedKeysSignAndVerify(kind: KeyKind, alg: SignatureAlgorithm) throws {
        let privateKey = try #require(PrivateKey.generate(kind))
        let publicKey = try #require(privateKey.publicKey())
        let input = Array("header.payload".utf8)
        let signature = try #require(privateKey.sign(alg, input))
        if case .ec(let curve) = kind { #expect(signature.count == 2 * curve.coordinateBytes) }
        #expect(verify(alg, publicKey, input, signature))
        #expect(!verify(alg, publicKey, Array("header.payloaD".utf8), signature))
        #expect(privateKey.sign(.hs256, input) == nil)
    }

    @Test func rsaPKCS1AndPSSWithGeneratedKey() throws {
        let privateKey = try #require(PrivateKey.generate(.rsa(bits: 2048)))
        let publicKey = try #require(privateKey.publicKey())
        let input = Array("a.b".utf8)
        for alg in [SignatureAlgorithm.rs256, .rs384, .rs512, .ps256, .ps384, .ps512] {
            let signature = try #require(privateKey.sign(alg, input))
            #expect(verify(alg, publicKey, input, signature), "\(alg)")
            let other: SignatureAlgorithm = alg == .rs256 ? .ps256 : .rs256
            #expect(!verify(other, publicKey, input, signature), "\(alg) verified as \(other)")
        }
    }

    @Test func pemRoundTripKeepsKey() throws {
        let original = try #require(PrivateKey.generate(.ec(.p256)))
        let pem = original.pemPKCS8()
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let loaded = try PrivateKey.fromPEM(Array(pem.utf8)).get()
        #expect(loaded.kind == .ec(.p256))
        #expect(loaded.publicJWK() == original.publicJWK())
        let signature = try #require(loaded.sign(.es256, Array("x".utf8)))
        #expect(verify(.es256, try #require(original.publicKey()), Array("x".utf8), signature))
        // Encrypted with passphrase "x": refused without prompting on a terminal.
        let encrypted = """
            -----BEGIN ENCRYPTED PRIVATE KEY-----
            MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAgxT6Y9mgQV8gICCAAw
            DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEAfCVHdk0NV0ywcJnmtbHPcEgZD4
            nfk8Zu0ulbdc8mcDeJv8N9sns25AdaRiqZK1EPHes88pJLhic0aZ5Wi1jS/A0Z/l
            Vn7G3vWzmI4anygDFp3g00kb0EtXMHVtprRCHrcv0diEvZ7/gOjMPvLSQcOYpKGY
            fTeCGm9dQUyxFYNsMOH43q/MXf1R1pbyG9nd6O72FoWPRhHNT1tGnyuKNI6r2CQ=
            -----END ENCRYPTED PRIVATE KEY-----
            """
        #expect(throws: KeyError.rejected) { try PrivateKey.fromPEM(Array(encrypted.utf8)).get() }
        #expect(throws: KeyError.rejected) {
            try PrivateKey.fromPEM(Array("-----BEGIN PRIVATE KEY-----\nAAAA".utf8)).get()
        }
    }

    @Test func hmacVerification() {
        let secret = Array("0123456789abcdef0123456789abcdef".utf8)
        let input = Array("h.p".utf8)
        let tag = HMAC.mac(.sha256, key: secret, data: input)
        let run: (SignatureAlgorithm, [UInt8]) -> Bool = { alg, sig in
            secret.withUnsafeBytes { s in
                input.withUnsafeBytes { i in
                    sig.withUnsafeBytes { alg.verify(secret: s, signingInput: i, signature: $0) }
                }
            }
        }
        #expect(run(.hs256, tag))
        #expect(!run(.hs384, tag))
        #expect(!run(.rs256, tag))
        #expect(!run(.hs256, Array(tag.dropLast())))
    }

    @Test func algorithmNamesAreCaseSensitive() {
        #expect(SignatureAlgorithm(name: "ES256") == .es256)
        #expect(SignatureAlgorithm(name: "es256") == nil)
        #expect(SignatureAlgorithm(name: "none") == nil)
        #expect(SignatureAlgorithm(name: "EdDSA") == .edDSA)
    }
}
