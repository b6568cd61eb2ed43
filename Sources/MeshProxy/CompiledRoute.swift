import MeshConfig
import MeshHTTP1
import MeshJWT
import MeshResilience

/// A route prepared for matching and rewriting on bytes: every string the hot path compares against is
/// turned into lowercase `[UInt8]` once, when the config is loaded.
public final class CompiledRoute: Sendable {
    public let config: RouteConfig
    /// Index of the route's upstream in `CompiledConfig.upstreams`.
    public let upstreamIndex: Int
    /// Index of the route within its listener (for metrics handles).
    public let index: Int
    let methodMask: UInt16
    let otherMethods: [[UInt8]]
    let path: CompiledPath
    let host: CompiledHost?
    let headerMatches: [(name: [UInt8], value: [UInt8])]
    let stripPrefix: [UInt8]?
    let addPrefix: [UInt8]?
    let hostRewrite: [UInt8]?
    let requestEdits: CompiledHeaderEdits
    let responseEdits: CompiledHeaderEdits
    public let nameBytes: [UInt8]
    /// `retry` as the resilience module wants it.
    public let retryPolicy: RetryPolicy
    /// The whole `fallback` response, ready to write, or nil.
    public let fallback: CompiledFallback?
    /// Index into `CompiledConfig.providerNames` of the route's JWT provider, -1 when the route is public.
    public let jwtProvider: Int
    /// `require_claims` and `claims_to_headers` of the route's JWT rule.
    public let claims: ClaimsCheck
    /// Header names (lowercase) never taken from the client on this route: the `claims_to_headers` targets
    /// (SPEC §3: "removed first, always"), and `authorization` when the provider does not forward tokens.
    public let strippedNames: [[UInt8]]
    /// The route's `rate_limit` (its listener's applies first, see `CompiledListener.rateLimit`).
    public let rateLimit: CompiledRateLimit?

    enum CompiledPath: Sendable {
        case exact([UInt8])
        case prefix([UInt8])
        case template([[UInt8]?])
    }

    enum CompiledHost: Sendable {
        case exact([UInt8])
        case suffix([UInt8])
    }

    /// - Parameter trustedHeaders: every `claims_to_headers` target of the listener (its own rule and all its
    ///   routes'): never accepted from a client on any route of that listener, public ones included.
    public init(
        config: RouteConfig, index: Int, upstreamIndex: Int, providerIndex: Int, forwardToken: Bool,
        trustedHeaders: [[UInt8]] = [], rateLimit: CompiledRateLimit? = nil
    ) {
        self.config = config
        self.index = index
        self.rateLimit = rateLimit
        self.upstreamIndex = upstreamIndex
        (methodMask, otherMethods) = Self.compileMethods(config.match.methods)
        path = Self.compilePath(config.match.path)
        host = Self.compileHost(config.match.host)
        headerMatches = config.match.headers.map { (Array($0.name.lowercased().utf8), Array($0.value.utf8)) }
        stripPrefix = config.rewrite?.stripPrefix.map { Array($0.utf8) }
        addPrefix = config.rewrite?.addPrefix.map { Array($0.utf8) }
        hostRewrite = config.rewrite?.host.map { Array($0.utf8) }
        requestEdits = CompiledHeaderEdits(config.requestHeaders)
        responseEdits = CompiledHeaderEdits(config.responseHeaders)
        nameBytes = Array(config.name.utf8)
        retryPolicy = Self.compileRetry(config.retry)
        fallback = config.fallback.map(CompiledFallback.init)
        jwtProvider = providerIndex
        let rule = config.jwt
        claims = ClaimsCheck(
            requirements: (rule?.requireClaims ?? []).map { ClaimsCheck.Requirement(claim: $0.claim, value: $0.value) },
            headerMappings: (rule?.claimsToHeaders ?? []).map {
                ClaimsCheck.HeaderMapping(claim: $0.claim, header: $0.header.lowercased())
            })
        strippedNames = Self.strippedNames(rule: rule, forwardToken: forwardToken, trustedHeaders: trustedHeaders)
    }

    private static func compileMethods(_ names: [String]) -> (mask: UInt16, others: [[UInt8]]) {
        guard !names.isEmpty else { return (UInt16.max, []) }
        var mask: UInt16 = 0
        var others: [[UInt8]] = []
        for name in names {
            if let known = knownMethod(name) {
                mask |= 1 << known.rawValue
            } else {
                others.append(Array(name.utf8))
            }
        }
        return (mask, others)
    }

    private static func compilePath(_ path: PathMatch) -> CompiledPath {
        switch path {
        case .exact(let p): .exact(Array(p.utf8))
        case .prefix(let p): .prefix(p == "/" ? [] : Array(p.utf8))
        case .template(let segments, _): .template(segments.map { $0.map { Array($0.utf8) } })
        }
    }

    private static func compileHost(_ host: HostMatch?) -> CompiledHost? {
        switch host {
        case .exact(let h): .exact(Array(h.lowercased().utf8))
        case .wildcardSuffix(let s): .suffix(Array(s.lowercased().utf8))
        case nil: nil
        }
    }

    private static func compileRetry(_ retry: RetryConfig) -> RetryPolicy {
        var conditions: RetryPolicy.Conditions = []
        for reason in retry.on {
            switch reason {
            case .connectFailure: conditions.insert(.connectFailure)
            case .reset: conditions.insert(.reset)
            case .timeout: conditions.insert(.timeout)
            case .gatewayError: conditions.insert(.gatewayError)
            case .fiveXX: conditions.insert(.serverError)
            case .grpcUnavailable: conditions.insert(.grpcUnavailable)
            case .grpcResourceExhausted: conditions.insert(.grpcResourceExhausted)
            case .grpcCancelled: conditions.insert(.grpcCancelled)
            }
        }
        return RetryPolicy(
            retries: retry.retries, on: conditions, statuses: retry.statuses,
            backoffBaseMs: retry.backoffBaseMs, backoffMaxMs: retry.backoffMaxMs)
    }

    /// Request fields never taken from a client on this route.
    private static func strippedNames(rule: JWTRuleConfig?, forwardToken: Bool, trustedHeaders: [[UInt8]]) -> [[UInt8]]
    {
        // The gateway's own deadline header: a client's copy would let it shorten (or zero) every upstream's
        // budget, and upstreams read the first copy.
        // `x-forwarded-client-cert` is the verified TLS peer's, written by the gateway alone (SPEC §9): a
        // client's copy is removed on every listener, TLS or not.
        var stripped = [Array("x-meshgate-deadline-ms".utf8), Array("x-forwarded-client-cert".utf8)]
        for name in trustedHeaders where !stripped.contains(name) { stripped.append(name) }
        for mapping in rule?.claimsToHeaders ?? [] where !stripped.contains(Array(mapping.header.lowercased().utf8)) {
            stripped.append(Array(mapping.header.lowercased().utf8))
        }
        if rule != nil && !forwardToken { stripped.append(Array("authorization".utf8)) }
        return stripped
    }

    static func knownMethod(_ name: String) -> HTTPMethod? {
        switch name {
        case "GET": .get
        case "HEAD": .head
        case "POST": .post
        case "PUT": .put
        case "DELETE": .delete
        case "OPTIONS": .options
        case "PATCH": .patch
        case "CONNECT": .connect
        case "TRACE": .trace
        default: nil
        }
    }
}

/// `request_headers` / `response_headers` as bytes.
struct CompiledHeaderEdits: Sendable {
    let additions: [(name: [UInt8], value: [UInt8])]
    /// Names removed from the incoming message: the `remove` list plus every `set` name (set replaces).
    let remove: [[UInt8]]

    init(_ config: HeaderEditsConfig) {
        additions = config.set.map { (Array($0.name.lowercased().utf8), Array($0.value.utf8)) }
        remove = config.remove.map { Array($0.lowercased().utf8) } + additions.map(\.name)
    }

    var isEmpty: Bool { additions.isEmpty && remove.isEmpty }

    @inline(__always)
    func removes(_ name: UnsafeRawBufferPointer) -> Bool {
        for candidate in remove where Bytes.equalsIgnoringCase(name, candidate) { return true }
        return false
    }
}

/// A route's `fallback`: the reasons it covers and its response bytes (head without the final CRLF, body).
///
/// The head is written like any other the gateway sends: the configured headers except the fields the gateway
/// states itself (framing, hop-by-hop fields, `x-request-id`, `x-meshgate-fallback`), then `content-length`
/// from the body. A 204 or 304 fallback carries neither body nor length (RFC 9110 §8.6, §15.3.5, §15.4.5).
public struct CompiledFallback: Sendable {
    public let on: Set<FallbackOn>
    public let status: Int
    /// `HTTP/1.1 …` status line and the configured headers plus content-length, each ending in CRLF.
    public let head: [UInt8]
    /// The body (empty for 204/304), at an address that holds while the route lives: it is sent from here.
    public let body: StableBytes

    init(_ config: FallbackConfig) {
        on = Set(config.on)
        status = config.status
        let bodyAllowed = config.status != 204 && config.status != 304
        body = StableBytes(bodyAllowed ? Array(config.body.utf8) : [])
        var text = "HTTP/1.1 \(config.status) \(CompiledFallback.reason(config.status))\r\n"
        for (name, value) in config.headers where !CompiledFallback.isGatewayField(name) {
            text += "\(name.lowercased()): \(value)\r\n"
        }
        if bodyAllowed { text += "content-length: \(body.count)\r\n" }
        text += "x-meshgate-fallback: 1\r\n"
        head = Array(text.utf8)
    }

    /// A configured header the gateway writes itself: a copy would give the client two framings or ids.
    static func isGatewayField(_ name: String) -> Bool {
        let lower = Array(name.lowercased().utf8)
        if lower == Array("x-meshgate-fallback".utf8) { return true }
        return lower.withUnsafeBytes { ResponseHeadBuilder.isGatewayField(KnownHeader.classify($0)) }
    }

    public func covers(_ reason: FallbackOn) -> Bool { on.contains(reason) }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 203: "Non-Authoritative Information"
        case 204: "No Content"
        case 404: "Not Found"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Fallback"
        }
    }
}

/// Immutable bytes at one address for the life of the object (an array lends its address only inside a
/// closure), so an `Outbound` may send them after the call that queued them returns. Whoever queues them keeps
/// the owner (here the route, through the exchange) alive until they are written.
public final class StableBytes: @unchecked Sendable {
    // @unchecked: written once in init, read-only afterwards.
    private let base: UnsafeMutableRawPointer
    /// Number of bytes.
    public let count: Int

    public init(_ source: [UInt8]) {
        count = source.count
        base = .allocate(byteCount: max(1, source.count), alignment: 1)
        source.withUnsafeBytes { if let from = $0.baseAddress { base.copyMemory(from: from, byteCount: count) } }
    }

    deinit { base.deallocate() }

    /// The bytes; valid while this object lives.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}
