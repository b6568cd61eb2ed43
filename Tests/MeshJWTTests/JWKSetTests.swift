import MeshCrypto
import MeshJWT
import Testing

@Suite struct JWKSetTests {
    static let ecX = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
    static let ecY = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    static let ec = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"\(ecX)\",\"y\":\"\(ecY)\""
    static let oct = "{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA\"}"

    static func parse(_ keys: String, source: JWKSet.Source = .file) -> Result<JWKSet, JWTError> {
        JWKSet.parse("{\"keys\":[\(keys)]}", source: source)
    }

    @Test func parsesAndKeepsKidAndAlg() throws {
        let set = try Self.parse(Self.ec + ",\"kid\":\"a\",\"alg\":\"ES256\",\"use\":\"sig\"}").get()
        #expect(set.keys.count == 1)
        #expect(set.keys[0].kid == "a")
        #expect(set.keys[0].algorithm == .es256)
        #expect(set.keys[0].fits(.es256))
        #expect(!set.keys[0].fits(.es384))
        #expect(set.keys(withKid: "a").count == 1)
        #expect(set.keys(withKid: "b").isEmpty)
    }

    /// Each bad entry is skipped and counted; the good one survives.
    @Test(arguments: [
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"\(ecX)\",\"y\":\"\(ecX)\"}",  // point off the curve
        "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"\(ecX)\",\"y\":\"\(ecY)\"}",  // coordinates too short for P-384
        "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"\(ecX)\",\"y\":\"\(ecY)\"}",
        ec + ",\"use\":\"enc\"}", ec + ",\"alg\":\"RS256\"}", ec + ",\"alg\":\"none\"}", ec + ",\"kid\":7}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"\(ecX)=\",\"y\":\"\(ecY)\"}",  // padded base64url
        "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",  // 17-bit modulus
        "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
        "{\"kty\":\"oct\",\"k\":\"\"}", "{\"kty\":\"XYZ\"}", "{}", "7", "[]",
    ])
    func skipsUnusableEntries(bad: String) throws {
        let set = try Self.parse(bad + "," + Self.ec + ",\"kid\":\"good\"}").get()
        #expect(set.keys.map(\.kid) == ["good"])
        #expect(set.skipped == 1)
    }

    @Test func octKeysOnlyFromOperatorSources() throws {
        #expect(try Self.parse(Self.oct, source: .file).get().keys.count == 1)
        #expect(try Self.parse(Self.oct, source: .inline).get().keys.count == 1)
        #expect(throws: JWTError.noKeys) { try Self.parse(Self.oct, source: .url).get() }
        let mixed = try Self.parse(Self.oct + "," + Self.ec + "}", source: .url).get()
        #expect(mixed.keys.count == 1)
        #expect(mixed.skipped == 1)
    }

    @Test func documentErrors() {
        #expect(throws: JWTError.badJSON) { try JWKSet.parse("{\"keys\":[", source: .file).get() }
        #expect(throws: JWTError.malformed) { try JWKSet.parse("{\"key\":[]}", source: .file).get() }
        #expect(throws: JWTError.noKeys) { try JWKSet.parse("{\"keys\":[]}", source: .file).get() }
    }

    @Test func publishedDocumentRoundTrips() throws {
        let privateKey = try #require(PrivateKey.generate(.ec(.p256)))
        let document = TokenSigner.jwksDocument([(kid: "k1", algorithm: .es256, jwk: privateKey.publicJWK())])
        let set = try JWKSet.parse(document, source: .url).get()
        #expect(set.keys.count == 1 && set.keys[0].kid == "k1" && set.keys[0].algorithm == .es256)
        let claims = Array("{\"exp\":2001001001}".utf8)
        let token = try #require(
            TokenSigner.sign(claimsJSON: claims, algorithm: .es256, key: .privateKey(privateKey), kid: "k1"))
        let verifier = Verifier(policy: ProviderPolicy(algorithms: [.es256]))
        #expect(verifier.verify(token: token, keys: set, now: 1_900_000_000).outcome == "accept")
    }
}
