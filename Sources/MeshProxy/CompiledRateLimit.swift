import MeshConfig
import MeshHTTP1
import MeshRateLimit

/// A route's or listener's `rate_limit` (SPEC §11), ready for the request path: the key to count by, the
/// response fields, and for `scope: "process"` the limiter every worker shares.
public final class CompiledRateLimit: Sendable {
    public let config: RateLimitConfig
    /// Names the limit in the registry and in Redis: `listener/<listener>` or `route/<listener>/<route>`.
    public let id: String
    public let policy: GCRAPolicy
    public let headers: RateLimitHeaders
    /// The exact per-process buckets (`scope: "process"`), nil for a global limit.
    public let process: ProcessRateLimiter?
    /// Index of the limit among the configuration's global ones (each worker holds a `GlobalRateLimiter` per
    /// index), -1 for a process limit.
    public let globalIndex: Int
    /// `header:<name>` in lowercase bytes.
    let headerName: [UInt8]?

    init(_ config: RateLimitConfig, id: String, name: String, registry: RateLimitRegistry, globalIndex: Int) {
        self.config = config
        self.id = id
        policy = GCRAPolicy(requestsPerSecond: config.requestsPerSecond, burst: config.burst)
        headers = RateLimitHeaders(name: name, policy: policy)
        process =
            config.scope == .process ? registry.processLimiter(id: id, policy: policy, maxKeys: config.maxKeys) : nil
        self.globalIndex = config.scope == .global ? globalIndex : -1
        if case .header(let name) = config.key { headerName = Array(name.lowercased().utf8) } else { headerName = nil }
    }

    /// The claim a `claim:<name>` key counts by, else nil.
    public var claimName: String? {
        if case .claim(let name) = config.key { return name }
        return nil
    }

    /// The bytes a request is counted by: the client's address, the first value of the header (empty when
    /// absent), the verified claim, or nothing (one bucket for the route). `claim` is the claim's value when
    /// the key names one and the token carried it; nil falls back to the client's address (a public request on
    /// a route whose JWT is optional).
    public func withKey<R>(
        _ request: RequestView, clientIP: [UInt8], claim: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> R
    ) -> R {
        switch config.key {
        case .route:
            return body(UnsafeRawBufferPointer(start: nil, count: 0))
        case .header:
            guard let headerName else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
            for i in 0..<request.head.headerCount where Bytes.equalsIgnoringCase(request.name(i), headerName) {
                return body(request.value(i))
            }
            return body(UnsafeRawBufferPointer(start: nil, count: 0))
        case .claim:
            if let claim { return claim.withUnsafeBytes(body) }
            return clientIP.withUnsafeBytes { body(Self.unmapped($0)) }
        case .clientIP:
            return clientIP.withUnsafeBytes { body(Self.unmapped($0)) }
        }
    }

    /// A dual-stack listener reports IPv4 clients as `::ffff:a.b.c.d`: they count as `a.b.c.d`, so a client is
    /// one key whichever listener it came through.
    static func unmapped(_ text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let prefix: [UInt8] = Array("::ffff:".utf8)
        guard text.count > prefix.count,
            Bytes.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: text[0..<prefix.count]), prefix),
            text[prefix.count...].contains(UInt8(ascii: "."))
        else { return text }
        return UnsafeRawBufferPointer(rebasing: text[prefix.count...])
    }

    /// The 429's extra fields (SPEC §11): `retry-after`, `ratelimit-policy` and `ratelimit`, as lines without
    /// the final CRLF (built only for a denied request).
    public func deniedFields(_ decision: RateLimitDecision) -> String {
        var value: [UInt8] = []
        headers.appendRateLimit(decision, to: &value)
        return "\(RateLimitHeaders.retryAfterName): \(decision.retryAfterSeconds ?? 1)\r\n"
            + "\(RateLimitHeaders.policyName): \(String(decoding: headers.policyValue, as: UTF8.self))\r\n"
            + "\(RateLimitHeaders.rateLimitName): \(String(decoding: value, as: UTF8.self))"
    }

    /// Judges a request against the listener's limit, then the route's (process scope; a global limit is the
    /// worker's to judge). Returns the limit that denied it and its decision, or nil when both admit it.
    public static func firstDenial(
        listener: CompiledRateLimit?, route: CompiledRateLimit?, request: RequestView, clientIP: [UInt8],
        claim: [UInt8]?, nowNs: Int64
    ) -> (limit: CompiledRateLimit, decision: RateLimitDecision)? {
        // Two calls, not a loop over an array: nothing is allocated per request.
        if let denial = listener?.deny(request, clientIP: clientIP, claim: claim, nowNs: nowNs) { return denial }
        return route?.deny(request, clientIP: clientIP, claim: claim, nowNs: nowNs)
    }

    private func deny(_ request: RequestView, clientIP: [UInt8], claim: [UInt8]?, nowNs: Int64)
        -> (limit: CompiledRateLimit, decision: RateLimitDecision)?
    {
        guard let process else { return nil }
        let decision = withKey(request, clientIP: clientIP, claim: claim) { key in
            process.check(digest: RateLimitKey.digest(key), now: nowNs)
        }
        return decision.isAllowed ? nil : (self, decision)
    }
}

extension ConcurrencyLimiter.Mode {
    /// `upstreams.*.max_in_flight` as the limiter takes it (adaptive with the documented defaults).
    public init(_ config: MaxInFlightConfig) {
        switch config {
        case .fixed(let n): self = .fixed(n)
        case .adaptive: self = .adaptive(AdaptiveConcurrencySettings())
        }
    }
}
