import Glibc
import MeshProxy

/// The last token a client connection presented and what its verification produced, so a keep-alive client
/// that sends the same token again costs a byte comparison instead of an extraction, a hash and a cache
/// lookup.
///
/// Valid only for the same route object (same config), the same key-set generation (a removed key stops
/// working at once) and until the token's `exp`. The memo holds its route strongly: an `ObjectIdentifier` of
/// a route a reload freed could be reused by a route of a later config, and the memo would then vouch for a
/// token that route never checked (other provider, other `require_claims`).
///
/// A class: a connection that never presents a token pays one pointer for it, not the memo's fields.
final class TokenMemo {
    let route: CompiledRoute
    let generation: UInt64
    let expiresAt: Int64
    let token: [UInt8]
    let claimLines: [UInt8]
    /// The claim a `claim:` rate limit of the route counts by.
    let limitClaim: [UInt8]?

    init(
        route: CompiledRoute, generation: UInt64, expiresAt: Int64, token: [UInt8], claimLines: [UInt8],
        limitClaim: [UInt8]?
    ) {
        self.route = route
        self.generation = generation
        self.expiresAt = expiresAt
        self.token = token
        self.claimLines = claimLines
        self.limitClaim = limitClaim
    }

    func matches(route: CompiledRoute, generation: UInt64, now: Int64, token: UnsafeRawBufferPointer) -> Bool {
        guard route === self.route, generation == self.generation, now < expiresAt, token.count == self.token.count
        else { return false }
        return self.token.withUnsafeBytes { stored in memcmpEqual(stored, token) }
    }

    private func memcmpEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return a.count == b.count }
        return memcmp(pa, pb, a.count) == 0
    }

    /// The credentials of the first `Authorization: Bearer` field, as bytes in the request buffer (nil when
    /// there is none: the memo is not used and the full extractor decides).
    static func bearerToken(_ view: RequestView) -> UnsafeRawBufferPointer? {
        guard let value = view.firstValue(of: .authorization), value.count > 7 else { return nil }
        let scheme: [UInt8] = Array("bearer ".utf8)
        for k in 0..<7 where value[k] | 0x20 != scheme[k] { return nil }
        return UnsafeRawBufferPointer(rebasing: value[7...])
    }
}
