import Testing

@testable import MeshRateLimit

@Suite struct RateLimitKeyTests {
    @Test func ipv4MappedAddressesCountAsIPv4() {
        let v4: [UInt8] = [192, 0, 2, 7]
        let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 0, 2, 7]
        let v6: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
        let a = v4.withUnsafeBytes { RateLimitKey.digest(RateLimitKey.clientIP($0)) }
        let b = mapped.withUnsafeBytes { RateLimitKey.digest(RateLimitKey.clientIP($0)) }
        let c = v6.withUnsafeBytes { RateLimitKey.digest(RateLimitKey.clientIP($0)) }
        #expect(a == b)
        #expect(a != c)
    }

    @Test func redisKeysAreVerbatimWhenShortAndBoundedWhenLong() {
        let prefix = Array("meshgate:rl:r:".utf8)
        let short = Array("alice".utf8)
        let key = short.withUnsafeBytes { RateLimitKey.redisKey(prefix: prefix, $0) }
        #expect(String(decoding: key, as: UTF8.self) == "meshgate:rl:r:v:alice")
        let long = [UInt8](repeating: 0x41, count: 100_000)
        let hashed = long.withUnsafeBytes { RateLimitKey.redisKey(prefix: prefix, $0) }
        #expect(hashed.count == prefix.count + 2 + 64 + 16)
        #expect(hashed[prefix.count] == 0x68)
        // Deterministic (every replica must name the key alike).
        #expect(hashed == long.withUnsafeBytes { RateLimitKey.redisKey(prefix: prefix, $0) })
    }
}
