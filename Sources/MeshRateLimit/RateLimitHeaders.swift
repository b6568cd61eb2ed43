/// The response fields of draft-ietf-httpapi-ratelimit-headers (checked against draft -10/-12):
///
///     ratelimit-policy: "profile-writes";q=20;w=10
///     ratelimit: "profile-writes";r=7;t=4
///     retry-after: 1                                  (429 only, RFC 9110 §10.2.3)
///
/// Both fields are Structured Field Lists (RFC 9651) of one Item: the policy name as an sf-string. `q` is the
/// quota (our `burst`), `w` the window in seconds (how long an empty bucket takes to refill), `r` the remaining
/// quota and `t` seconds until the quota is fully restored. The policy value is the same for every response of
/// a route, so it is built once per configuration; the `ratelimit` value is written per response into the
/// caller's buffer, without allocating.
public struct RateLimitHeaders: Sendable {
    /// Lower-case field names, as HTTP/2 wants them and HTTP/1.1 accepts them.
    public static let policyName = "ratelimit-policy"
    public static let rateLimitName = "ratelimit"
    public static let retryAfterName = "retry-after"

    /// `"<name>";q=<burst>;w=<window>`, ready to send.
    public let policyValue: [UInt8]
    /// `"<name>";r=` — the fixed prefix of every `ratelimit` value.
    private let rateLimitPrefix: [UInt8]

    /// - Parameter name: the policy's name (the route or listener name); characters an sf-string cannot carry
    ///   (outside printable ASCII) become `_`, and `"`/`\` are escaped.
    public init(name: String, policy: GCRAPolicy) {
        let quoted = Self.sfString(name)
        policyValue = quoted + Array(";q=\(policy.burst);w=\(policy.windowSeconds)".utf8)
        rateLimitPrefix = quoted + Array(";r=".utf8)
    }

    /// Upper bound of `writeRateLimit`'s output for any decision.
    public var maxRateLimitBytes: Int { rateLimitPrefix.count + 20 + 3 + 20 }

    /// Appends the `ratelimit` value for `decision` (e.g. `"api";r=0;t=2`).
    public func appendRateLimit(_ decision: RateLimitDecision, to out: inout [UInt8]) {
        out.append(contentsOf: rateLimitPrefix)
        Self.appendDecimal(decision.remaining, to: &out)
        out.append(contentsOf: [0x3B, 0x74, 0x3D])  // ";t="
        Self.appendDecimal(decision.resetSeconds, to: &out)
    }

    /// Writes the `ratelimit` value into `buffer` (at least `maxRateLimitBytes`); returns the bytes written.
    public func writeRateLimit(_ decision: RateLimitDecision, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= maxRateLimitBytes, "buffer too small for the ratelimit field")
        var at = 0
        for byte in rateLimitPrefix {
            buffer[at] = byte
            at += 1
        }
        at += Self.writeDecimal(decision.remaining, into: buffer, at: at)
        for byte in [UInt8(0x3B), 0x74, 0x3D] {
            buffer[at] = byte
            at += 1
        }
        at += Self.writeDecimal(decision.resetSeconds, into: buffer, at: at)
        return at
    }

    /// RFC 9651 §3.3.3: an sf-string is printable ASCII in quotes, with `"` and `\` escaped.
    static func sfString(_ text: String) -> [UInt8] {
        var out: [UInt8] = [0x22]
        for byte in text.utf8 {
            switch byte {
            case 0x22, 0x5C: out += [0x5C, byte]
            case 0x20...0x7E: out.append(byte)
            default: out.append(0x5F)
            }
        }
        out.append(0x22)
        return out
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        var rest = UInt64(max(0, value))
        var divisor: UInt64 = 1
        while divisor <= rest / 10 { divisor *= 10 }
        while divisor > 0 {
            out.append(0x30 + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    static func writeDecimal(_ value: Int, into buffer: UnsafeMutableRawBufferPointer, at start: Int) -> Int {
        var rest = UInt64(max(0, value))
        var divisor: UInt64 = 1
        while divisor <= rest / 10 { divisor *= 10 }
        var at = start
        while divisor > 0 {
            buffer[at] = 0x30 + UInt8(rest / divisor)
            rest %= divisor
            divisor /= 10
            at += 1
        }
        return at - start
    }
}
