import MeshCrypto
import MeshJWT
import Testing

/// SPEC §3: "claims are limited only by `max_token_bytes`" — no other size limit may reject a token the
/// provider's limit admits, and the limit itself still holds.
@Suite struct ClaimsSizeTests {
    static let privateKey = PrivateKey.generate(.ec(.p256))!
    static let keys = try! JWKSet.parse(
        TokenSigner.jwksDocument([(kid: "k1", algorithm: .es256, jwk: privateKey.publicJWK())]), source: .url
    ).get()

    /// A token whose claims carry a `pad` string of `padding` bytes (about 4/3 of it once encoded).
    static func token(padding: Int) -> String {
        let pad = String(repeating: "a", count: padding)
        let claims = Array(#"{"iss":"me","sub":"u1","exp":2000000000,"pad":"\#(pad)"}"#.utf8)
        return TokenSigner.sign(claimsJSON: claims, algorithm: .es256, key: .privateKey(privateKey), kid: "k1")!
    }

    static func verify(_ token: String, maxTokenBytes: Int) -> Result<VerifiedToken, JWTError> {
        let policy = ProviderPolicy(issuer: "me", algorithms: [.es256], maxTokenBytes: maxTokenBytes)
        return Verifier(policy: policy).verify(token: token, keys: keys, now: 1_000)
    }

    // Regression: issue 10 — a hidden 64 KiB claims limit rejected tokens that max_token_bytes allowed.
    @Test(arguments: [70_000, 75_000, 100_000, 149_000])
    func largeTokensWithinTheLimitVerify(tokenBytes: Int) throws {
        let token = Self.token(padding: tokenBytes * 3 / 4 - 200)
        #expect(token.utf8.count > 65_536 && token.utf8.count <= 200_000, "\(token.utf8.count)")
        let verified = try Self.verify(token, maxTokenBytes: 200_000).get()
        #expect(verified.subject == "u1")
        #expect(verified.claims["pad"]?.stringValue?.utf8.count == tokenBytes * 3 / 4 - 200)
    }

    @Test func aTokenOneByteOverTheLimitIsTooLarge() {
        let token = Self.token(padding: 75_000)
        let size = token.utf8.count
        #expect(Self.verify(token, maxTokenBytes: size).outcome == "accept")
        #expect(Self.verify(token, maxTokenBytes: size - 1).outcome == "too_large")
    }
}
