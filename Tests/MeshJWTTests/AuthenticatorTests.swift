import MeshCrypto
import MeshJWT
import Testing

@Suite struct AuthenticatorTests {
    static let privateKey = PrivateKey.generate(.ec(.p256))!
    static let keys = try! JWKSet.parse(
        TokenSigner.jwksDocument([(kid: "k1", algorithm: .es256, jwk: privateKey.publicJWK())]), source: .url
    ).get()

    static func token(kid: String = "k1", exp: Int64 = 1_000) -> String {
        let claims = Array("{\"iss\":\"me\",\"sub\":\"u1\",\"exp\":\(exp)}".utf8)
        return TokenSigner.sign(claimsJSON: claims, algorithm: .es256, key: .privateKey(privateKey), kid: kid)!
    }

    static func authenticator(store: KeySetStore) -> Authenticator {
        Authenticator(
            extractor: TokenExtractor(), verifier: Verifier(policy: ProviderPolicy(issuer: "me", algorithms: [.es256])),
            store: store)
    }

    static func bearer(_ token: String) -> (String) -> [Substring] {
        { name in name == "authorization" ? [Substring("Bearer " + token)] : [] }
    }

    @Test func verifiesThenServesFromCacheUntilKeysChange() {
        let store = KeySetStore(initial: Self.keys, now: 0)
        let authenticator = Self.authenticator(store: store)
        var cache = VerifiedTokenCache(capacity: 8)
        let header = Self.bearer(Self.token())  // ES256 signatures are randomized: sign once, reuse
        let first = authenticator.authenticate(header: header, cache: &cache, now: 10)
        #expect((try? first.result.get())?.subject == "u1")
        #expect(!first.cacheHit)
        let second = authenticator.authenticate(header: header, cache: &cache, now: 11)
        #expect(second.cacheHit)
        let expired = authenticator.authenticate(header: header, cache: &cache, now: 1_000)
        #expect(!expired.cacheHit && expired.result.outcome == "expired")
        store.replace(JWKSet(keys: []), now: 20)  // keys rotated away: the cached answer must not survive
        let afterRotation = authenticator.authenticate(header: header, cache: &cache, now: 21)
        #expect(!afterRotation.cacheHit && afterRotation.result.outcome == "no_keys")
    }

    @Test func unknownKidAsksForOneRefetchPer30Seconds() {
        let authenticator = Self.authenticator(store: KeySetStore(initial: Self.keys, now: 0))
        var cache = VerifiedTokenCache(capacity: 8)
        let header = Self.bearer(Self.token(kid: "k2"))
        let first = authenticator.authenticate(header: header, cache: &cache, now: 100)
        #expect(first.result.outcome == "unknown_kid" && first.refetchKeys)
        #expect(!authenticator.authenticate(header: header, cache: &cache, now: 129).refetchKeys)
        #expect(authenticator.authenticate(header: header, cache: &cache, now: 130).refetchKeys)
    }

    @Test func unknownKidWaitsWhileTheRefetchIsInFlight() {
        let store = KeySetStore(initial: Self.keys, now: 0)
        let authenticator = Self.authenticator(store: store)
        var cache = VerifiedTokenCache(capacity: 8)
        let header = Self.bearer(Self.token(kid: "k2"))
        let first = authenticator.authenticate(header: header, cache: &cache, now: 100)
        #expect(first.refetchKeys && first.awaitKeys)
        let second = authenticator.authenticate(header: header, cache: &cache, now: 101)
        #expect(!second.refetchKeys && second.awaitKeys && second.result.outcome == "unknown_kid")
        store.replace(Self.keys, now: 102)  // the refetch brought no k2
        let judged = authenticator.authenticate(header: header, cache: &cache, now: 103)
        #expect(!judged.refetchKeys && !judged.awaitKeys && judged.result.outcome == "unknown_kid")
    }

    @Test func missingAndOversizedTokens() {
        let authenticator = Self.authenticator(store: KeySetStore(initial: Self.keys, now: 0))
        var cache = VerifiedTokenCache(capacity: 8)
        #expect(authenticator.authenticate(header: { _ in [] }, cache: &cache, now: 1).result.outcome == "missing")
        let huge = String(repeating: "x", count: 9000)
        #expect(
            authenticator.authenticate(header: Self.bearer(huge), cache: &cache, now: 1).result.outcome == "too_large")
        #expect(cache.count == 0)
    }
}
