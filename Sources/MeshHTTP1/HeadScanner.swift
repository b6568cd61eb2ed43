import Glibc

/// Finds the end of a head (the empty line of RFC 9112 §2.1) with `memchr`, resuming where the previous call
/// stopped, picohttpparser's `last_len` slowloris countermeasure: a head fed one byte at a time costs O(n), not O(n²).
///
/// Every LF found must follow a CR, so a bare LF is rejected as soon as it arrives instead of stalling the parse
/// until the size limit. Bare CRs, NULs and the rest are left to the one-pass parse of the complete head.
struct HeadScanner: Sendable {
    /// The outcome of one scan.
    enum Outcome: Equatable {
        /// No empty line yet in the bytes scanned.
        case incomplete
        /// The head ends after `headLength` bytes (the final CRLF included).
        case end(headLength: Int)
        /// A framing error found while scanning.
        case invalid(HTTPParseError)
    }

    /// Bytes of the buffer already searched for LF.
    private(set) var scanned = 0
    /// Offset of the first byte of the line being scanned (0 while the start line has not ended).
    private(set) var lineStart = 0

    /// Whether an LF ending the request or status line has been seen.
    var startLineEnded: Bool { lineStart > 0 }

    /// Forgets the previous scan, for the next message.
    mutating func reset() {
        scanned = 0
        lineStart = 0
    }

    /// Scans `base[scanned..<min(count, limit)]` for the line ends; `count` must not shrink between calls.
    mutating func scan(_ base: UnsafePointer<UInt8>, count: Int, limit: Int) -> Outcome {
        let end = min(count, limit)
        var i = scanned
        let raw = UnsafeRawPointer(base)
        while i < end {
            guard let hit = memchr(raw + i, Int32(ASCII.lf), end - i) else { break }
            let lf = raw.distance(to: UnsafeRawPointer(hit))
            // RFC 9112 §2.2 lets a recipient accept a bare LF; a proxy must not, or it parses differently
            // from the upstream behind it.
            if lf == 0 || base[lf - 1] != ASCII.cr { return .invalid(.bareLF) }
            if lf - 1 == lineStart {
                // An empty first line: RFC 9112 §2.2 allows skipping it, but RequestHead promises the method at 0.
                if lineStart == 0 { return .invalid(.invalidMethod) }
                return .end(headLength: lf + 1)
            }
            lineStart = lf + 1
            i = lf + 1
        }
        scanned = max(scanned, end)
        return .incomplete
    }
}

/// For a head that has not ended yet: the error it already has (a start line known to be bad, or no end within
/// `limit` bytes), or nil to wait for more bytes. Shared by the request and response parsers.
@inline(__always)
func unfinishedHeadError(_ lineError: HTTPParseError?, count: Int, limit: Int) -> HTTPParseError? {
    lineError ?? (count >= limit ? .headersTooLarge : nil)
}
