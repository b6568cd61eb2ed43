import MeshJSON
import MeshJWT
import Testing

@Suite struct VerifiedTokenCacheTests {
    static func verified(exp: Int64?) -> VerifiedToken {
        VerifiedToken(
            claims: JSONNode(value: .object([]), position: .init(line: 1, column: 1, offset: 0)),
            subject: "s", expiresAt: exp, algorithm: .es256, kid: nil)
    }

    @Test func hitUntilExpiry() {
        var cache = VerifiedTokenCache(capacity: 4)
        cache.insert("a.b.c", Self.verified(exp: 100), generation: 1)
        #expect(cache.lookup("a.b.c", now: 99, generation: 1)?.subject == "s")
        #expect(cache.lookup("a.b.d", now: 99, generation: 1) == nil)
        #expect(cache.lookup("a.b.c", now: 100, generation: 1) == nil)  // exp is exclusive
        #expect(cache.count == 0)
    }

    @Test func tokensWithoutExpAreNotCached() {
        var cache = VerifiedTokenCache(capacity: 4)
        cache.insert("a.b.c", Self.verified(exp: nil), generation: 0)
        #expect(cache.count == 0)
    }

    @Test func generationChangeAndClearDropEverything() {
        var cache = VerifiedTokenCache(capacity: 4)
        cache.insert("t1", Self.verified(exp: 100), generation: 1)
        cache.insert("t2", Self.verified(exp: 100), generation: 1)
        #expect(cache.lookup("t1", now: 0, generation: 2) == nil)
        #expect(cache.lookup("t2", now: 0, generation: 2) == nil)
        cache.insert("t3", Self.verified(exp: 100), generation: 2)
        cache.clear()
        #expect(cache.lookup("t3", now: 0, generation: 2) == nil)
    }

    @Test func boundedWithOldestEvictedFirst() {
        var cache = VerifiedTokenCache(capacity: 3)
        for index in 0..<5 { cache.insert(Substring("tok\(index)"), Self.verified(exp: 100), generation: 0) }
        #expect(cache.count == 3)
        #expect(cache.lookup("tok0", now: 0, generation: 0) == nil)
        #expect(cache.lookup("tok1", now: 0, generation: 0) == nil)
        #expect(cache.lookup("tok4", now: 0, generation: 0) != nil)
        cache.insert("tok4", Self.verified(exp: 200), generation: 0)  // re-insert does not consume a slot
        #expect(cache.count == 3)
        #expect(cache.lookup("tok2", now: 0, generation: 0) != nil)
    }
}
