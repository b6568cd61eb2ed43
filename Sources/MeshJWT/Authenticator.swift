/// One provider's whole check for one request, like Envoy's `jwt_authn/authenticator`: extract the token, consult
/// the worker's cache, verify on a miss against the shared key set, and say when an unknown `kid` should trigger
/// a key refetch. Route-level `require_claims` stay with the caller (`ClaimsCheck`), since routes share providers.
public struct Authenticator: Sendable {
    /// The outcome of `authenticate`.
    public struct Outcome: Sendable {
        /// The verified token, or why there is none (label it with `JWTError.label` for metrics).
        public let result: Result<VerifiedToken, JWTError>
        /// True when the answer came from the worker's cache.
        public let cacheHit: Bool
        /// True when the caller should refetch `jwks.url` now: the `kid` was unknown and this request won the
        /// "once per 30 s" slot (SPEC §3). Never set for providers without a `jwks.url`.
        public let refetchKeys: Bool
        /// True when the `kid` was unknown and a refetch is (now) on its way: SPEC §3 has the request wait for
        /// it and be judged on the new key set, instead of answering 401 at once. Implied by `refetchKeys`.
        public let awaitKeys: Bool

        init(result: Result<VerifiedToken, JWTError>, cacheHit: Bool, refetchKeys: Bool, awaitKeys: Bool = false) {
            self.result = result
            self.cacheHit = cacheHit
            self.refetchKeys = refetchKeys
            self.awaitKeys = awaitKeys || refetchKeys
        }
    }

    /// Where tokens are looked for.
    public let extractor: TokenExtractor
    /// The provider's verifier (policy).
    public let verifier: Verifier
    /// The provider's key set, shared by all workers.
    public let store: KeySetStore

    /// Creates an authenticator for one provider.
    public init(extractor: TokenExtractor, verifier: Verifier, store: KeySetStore) {
        self.extractor = extractor
        self.verifier = verifier
        self.store = store
    }

    /// Authenticates one request at `now` (unix seconds). `header` returns a header's values by lowercase name;
    /// `cache` is the calling worker's own cache.
    public func authenticate(
        header: (String) -> [Substring], cache: inout VerifiedTokenCache, now: Int64
    ) -> Outcome {
        let token: Substring
        switch extractor.extract(header: header) {
        case .failure(let error): return Outcome(result: .failure(error), cacheHit: false, refetchKeys: false)
        case .success(let found): token = found
        }
        // Reject oversized tokens before hashing them for the cache lookup.
        guard token.utf8.count <= verifier.policy.maxTokenBytes else {
            return Outcome(result: .failure(.tooLarge), cacheHit: false, refetchKeys: false)
        }
        // Two passes at most: the second only when a new key set arrived while the first was verifying.
        for _ in 0..<2 {
            let (keys, generation) = store.current()
            if let cached = cache.lookup(token, now: now, generation: generation) {
                return Outcome(result: .success(cached), cacheHit: true, refetchKeys: false)
            }
            let result = verifier.verify(token: token, keys: keys ?? JWKSet(keys: []), now: now)
            switch result {
            case .success(let verified):
                cache.insert(token, verified, generation: generation)
                return Outcome(result: result, cacheHit: false, refetchKeys: false)
            case .failure(.unknownKid):
                switch store.unknownKid(now: now, seenGeneration: generation) {
                case .refetch: return Outcome(result: result, cacheHit: false, refetchKeys: true)
                case .wait: return Outcome(result: result, cacheHit: false, refetchKeys: false, awaitKeys: true)
                case .deny: return Outcome(result: result, cacheHit: false, refetchKeys: false)
                case .retryNow: continue
                }
            case .failure:
                return Outcome(result: result, cacheHit: false, refetchKeys: false)
            }
        }
        return Outcome(result: .failure(.unknownKid), cacheHit: false, refetchKeys: false)
    }
}
