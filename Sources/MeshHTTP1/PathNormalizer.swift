/// The result of normalising a request path.
public enum PathNormalization: Equatable, Sendable {
    /// The normalised path is the first `length` bytes of the output buffer.
    case normalized(length: Int)
    /// Not a path we route: not "/"-leading, a bad %-escape, a CTL, space or non-ASCII byte, or one of the
    /// bytes upstreams disagree about: `\`, `;`, `%2F`, `%5C`, `%00` (SPEC §3).
    case invalid
    /// A ".." segment would climb above "/" (SPEC §3: a 400).
    case climbsAboveRoot
}

/// Path normalisation for route matching (SPEC §3 "Matching uses the normalized path").
public enum PathNormalizer {
    /// SPEC §3 "Matching uses the normalized path": remove dot-segments (RFC 3986 §5.2.4), merge `//` into `/`,
    /// decode percent-encoded UNRESERVED characters only (ALPHA DIGIT - . _ ~; uppercase the hex of the rest),
    /// reject bad %-escapes, control bytes and non-'/'-leading paths as .invalid, and a path whose ".."
    /// climbs above "/" as .climbsAboveRoot. `out` has at least path.count bytes (or 1 for empty path → "/").
    ///
    /// The same normalized path is matched and forwarded, so the route that judged a request is the route the
    /// upstream sees. Bytes that upstream frameworks read differently from us are refused instead of guessed
    /// at: `%2F`/`%5C` (a slash only some of them decode), `\` (a slash on some), `;` (path parameters that
    /// Servlet containers strip: `/admin;x` would be `/admin` behind a route that did not match it) and `%00`.
    /// Decoding happens before dot-segment removal, so `%2E%2E` is a ".." segment and cannot smuggle a climb
    /// past the router. Allocates nothing.
    public static func normalize(
        _ path: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer
    ) -> PathNormalization {
        if path.isEmpty {
            // An absolute-form target without a path means "/" (RFC 9112 §3.2.2).
            guard !out.isEmpty else { return .invalid }
            out[0] = ASCII.slash
            return .normalized(length: 1)
        }
        precondition(out.count >= path.count, "output buffer smaller than the path")
        guard path[0] == ASCII.slash, let decoded = decodeUnreserved(path, into: out) else { return .invalid }
        return removeDotSegments(out, count: decoded)
    }

    /// Copies `path` into `out`, decoding %XX of unreserved bytes and uppercasing the hex of the others
    /// (RFC 3986 §6.2.2.1-2). Returns the decoded length, nil on a bad byte or escape.
    private static func decodeUnreserved(_ path: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer)
        -> Int?
    {
        var r = 0
        var w = 0
        while r < path.count {
            let b = path[r]
            guard b > ASCII.sp, b < 0x7F, b != ASCII.backslash, b != ASCII.semicolon else { return nil }
            if b != ASCII.percent {
                out[w] = b
                w += 1
                r += 1
                continue
            }
            guard r + 2 < path.count, let hi = ASCII.hexValue(path[r + 1]), let lo = ASCII.hexValue(path[r + 2]) else {
                return nil
            }
            let decoded = hi << 4 | lo
            if decoded == ASCII.slash || decoded == ASCII.backslash || decoded == 0 { return nil }
            if ASCII.isUnreserved(decoded) {
                out[w] = decoded
                w += 1
            } else {
                out[w] = ASCII.percent
                out[w + 1] = upperHex(hi)
                out[w + 2] = upperHex(lo)
                w += 3
            }
            r += 3
        }
        return w
    }

    private static func upperHex(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : 0x37 + nibble
    }

    /// RFC 3986 §5.2.4 on whole segments, in place (the write index never passes the read index), except that a
    /// ".." at the root is an error rather than silently dropped.
    private static func removeDotSegments(_ buf: UnsafeMutableRawBufferPointer, count: Int) -> PathNormalization {
        var w = 0  // output is buf[0..<w], always "" or "/seg/seg..."
        var r = 0  // buf[r] is the "/" that starts the next input segment
        while r < count {
            let segStart = r + 1
            var segEnd = segStart
            while segEnd < count && buf[segEnd] != ASCII.slash { segEnd += 1 }
            let length = segEnd - segStart
            let isLast = segEnd == count
            if length == 0 && !isLast {
                // An empty segment ("//") is merged: upstreams that merge and routers that do not must agree.
            } else if length == 1 && buf[segStart] == ASCII.dot {
                // "." is dropped; as the last segment it leaves a trailing "/" (RFC 3986 §5.2.4 step B).
                if isLast { append(buf, &w, from: segStart, length: 0) }
            } else if length == 2 && buf[segStart] == ASCII.dot && buf[segStart + 1] == ASCII.dot {
                guard w > 0 else { return .climbsAboveRoot }
                w -= 1
                while buf[w] != ASCII.slash { w -= 1 }  // drop the last output segment (step C)
                if isLast { append(buf, &w, from: segStart, length: 0) }
            } else {
                append(buf, &w, from: segStart, length: length)
            }
            r = segEnd
        }
        if w == 0 {
            buf[0] = ASCII.slash
            w = 1
        }
        return .normalized(length: w)
    }

    /// Appends "/" and `length` bytes starting at `from` (which is at or after `w + 1`, so a forward copy is safe).
    private static func append(_ buf: UnsafeMutableRawBufferPointer, _ w: inout Int, from: Int, length: Int) {
        buf[w] = ASCII.slash
        w += 1
        if from != w {
            for k in 0..<length { buf[w + k] = buf[from + k] }
        }
        w += length
    }
}
