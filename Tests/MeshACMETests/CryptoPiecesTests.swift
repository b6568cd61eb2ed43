import Glibc
import MeshACME
import MeshCrypto
import MeshJSON
import MeshTestSupport
import Testing

@Suite struct CryptoPiecesTests {
    static func tempFile(_ name: String, _ contents: [UInt8]) throws -> (directory: String, path: String) {
        let directory = try GatewayProcess.makeTempDirectory()
        let path = directory + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        _ = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return (directory, path)
    }

    @Test func jwsWithJWKVerifiesAgainstTheKeyInItsOwnHeader() throws {
        let account = try need(ACMEAccountKey.generate())
        let body = try need(
            account.sign(payload: "{\"termsOfServiceAgreed\":true}", url: "https://ca.test/new-acct", nonce: "n1", kid: nil))
        let jws = try JSONReader.parse(body)
        let protected = try need(jws["protected"]?.stringValue)
        let payload = try need(jws["payload"]?.stringValue)
        let signature = try need(Base64URL.decode(try need(jws["signature"]?.stringValue)))
        #expect(signature.count == 64)  // raw r || s, not DER
        let header = try JSONReader.parse(try need(Base64URL.decode(protected)))
        #expect(header["alg"]?.stringValue == "ES256")
        #expect(header["nonce"]?.stringValue == "n1")
        #expect(header["url"]?.stringValue == "https://ca.test/new-acct")
        #expect(header["kid"] == nil)
        let jwk = try need(header["jwk"])
        // The verifier rebuilds the key from the header's JWK, as the server does.
        let x = try need(Base64URL.decode(try need(jwk["x"]?.stringValue)))
        let y = try need(Base64URL.decode(try need(jwk["y"]?.stringValue)))
        let publicKey = try PublicKey.ec(curve: .p256, x: x, y: y).get()
        let input = Array((protected + "." + payload).utf8)
        let good = input.withUnsafeBytes { i in
            signature.withUnsafeBytes { SignatureAlgorithm.es256.verify(publicKey: publicKey, signingInput: i, signature: $0) }
        }
        #expect(good)
        var tampered = input
        tampered[tampered.count - 1] ^= 1
        let bad = tampered.withUnsafeBytes { i in
            signature.withUnsafeBytes { SignatureAlgorithm.es256.verify(publicKey: publicKey, signingInput: i, signature: $0) }
        }
        #expect(!bad)
    }

    @Test func jwsWithKidCarriesNoJWKAndPostAsGetHasAnEmptyPayload() throws {
        let account = try need(ACMEAccountKey.generate())
        let body = try need(account.sign(payload: nil, url: "https://ca.test/order/1", nonce: "n2", kid: "https://ca.test/acct/7"))
        let jws = try JSONReader.parse(body)
        #expect(jws["payload"]?.stringValue == "")
        let header = try JSONReader.parse(try need(Base64URL.decode(try need(jws["protected"]?.stringValue))))
        #expect(header["kid"]?.stringValue == "https://ca.test/acct/7")
        #expect(header["jwk"] == nil)
    }

    /// RFC 7638 §3: the thumbprint is SHA-256 over the required members in lexicographic order, no spaces;
    /// computed here independently with the openssl CLI over a JWK written by hand from the key's coordinates.
    @Test func thumbprintMatchesOpenSSLOverTheCanonicalJWK() throws {
        let account = try need(ACMEAccountKey.generate())
        let jwk = account.key.publicJWK()
        let canonical = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"\(jwk.x!)\",\"y\":\"\(jwk.y!)\"}"
        #expect(account.jwkJSON == canonical)
        let file = try Self.tempFile("jwk.json", Array(canonical.utf8))
        defer { GatewayProcess.removeDirectory(file.directory) }
        let digest = try Tool.openssl(["dgst", "-sha256", "-hex", "-r", file.path])
        let hex = String(digest.stdout.prefix(64))
        let expected = Base64URL.encode(Self.bytes(hex: hex))
        #expect(account.thumbprint == expected)
        #expect(account.keyAuthorization(token: "tok_en-1") == "tok_en-1." + expected)
    }

    @Test func csrParsesWithOpenSSLAndCarriesEveryDomain() throws {
        let key = try need(PrivateKey.generate(.ec(.p256)))
        let der = try ACMECertificates.csrDER(key: key, domains: ["a.example.test", "b.example.test"])
        let file = try Self.tempFile("csr.der", der)
        defer { GatewayProcess.removeDirectory(file.directory) }
        let text = try Tool.openssl(["req", "-inform", "DER", "-in", file.path, "-noout", "-text", "-verify"])
        #expect(text.exitCode == 0, "\(text.stderr)")
        #expect((text.stdout + text.stderr).contains("verify OK") || (text.stdout + text.stderr).contains("Certificate request self-signature verify OK"))
        #expect(text.stdout.contains("DNS:a.example.test, DNS:b.example.test"))
        #expect(text.stdout.contains("CN=a.example.test") || text.stdout.contains("CN = a.example.test"))
        #expect(text.stdout.contains("prime256v1") || text.stdout.contains("P-256"))
    }

    @Test func namesThatCouldInjectAnotherSANAreRefused() throws {
        let key = try need(PrivateKey.generate(.ec(.p256)))
        #expect(throws: ACMECertificateError.self) {
            _ = try ACMECertificates.csrDER(key: key, domains: ["a.test,IP:127.0.0.1"])
        }
        #expect(throws: ACMECertificateError.self) { _ = try ACMECertificates.csrDER(key: key, domains: []) }
    }

    /// RFC 8737 §3: the domain as the only SAN, and a critical acmeIdentifier holding SHA-256(key authorization)
    /// as an OCTET STRING.
    @Test func alpnChallengeCertificateCarriesTheCriticalAcmeIdentifier() throws {
        let key = try need(PrivateKey.generate(.ec(.p256)))
        let keyAuthorization = "token-1.thumb"
        let now: Int64 = 1_780_000_000
        let pem = try ACMECertificates.alpnChallengeCertificate(
            domain: "alpn.example.test", keyAuthorization: keyAuthorization, key: key, now: now)
        let file = try Self.tempFile("alpn.pem", Array(pem.utf8))
        defer { GatewayProcess.removeDirectory(file.directory) }
        let text = try Tool.openssl(["x509", "-in", file.path, "-noout", "-text"])
        #expect(text.exitCode == 0)
        #expect(text.stdout.contains("1.3.6.1.5.5.7.1.31: critical"))
        #expect(text.stdout.contains("DNS:alpn.example.test"))
        // asn1parse shows the extension as OID, BOOLEAN (critical) and the extnValue: OCTET STRING { 04 20 digest }.
        let parsed = try Tool.openssl(["asn1parse", "-in", file.path])
        let lines = parsed.stdout.split(separator: "\n")
        let at = try need(lines.firstIndex { $0.contains(":1.3.6.1.5.5.7.1.31") })
        #expect(lines[at + 1].contains("BOOLEAN") && lines[at + 1].contains("255"))
        let digest = Digest.sha256(Array(keyAuthorization.utf8))
        let hex = ([0x04, 0x20] + digest).map { String(format2: $0) }.joined().uppercased()
        #expect(lines[at + 2].contains("OCTET STRING") && lines[at + 2].contains("[HEX DUMP]:" + hex))
        let validity = try ACMECertificates.validity(ofPEM: Array(pem.utf8))
        #expect(validity.notBefore == now)
        #expect(validity.notAfter == now + 7 * 86_400)
    }

    @Test func renewalIsTwoThirdsIntoTheLife() throws {
        #expect(ACMECertificates.renewalTime(notBefore: 1_000, notAfter: 1_000 + 90 * 86_400) == 1_000 + 60 * 86_400)
        #expect(ACMECertificates.renewalTime(notBefore: 0, notAfter: 300) == 200)
        let key = try need(PrivateKey.generate(.ec(.p256)))
        let pem = try ACMECertificates.selfSigned(domains: ["x.test"], key: key, now: 2_000_000_000, days: 3)
        let validity = try ACMECertificates.validity(ofPEM: Array(pem.utf8))
        #expect(ACMECertificates.renewalTime(notBefore: validity.notBefore, notAfter: validity.notAfter)
            == 2_000_000_000 + 2 * 86_400)
        #expect(throws: ACMECertificateError.self) { _ = try ACMECertificates.validity(ofPEM: Array("junk".utf8)) }
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return out
    }
}

extension String {
    init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
