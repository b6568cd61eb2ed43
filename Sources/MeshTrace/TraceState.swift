/// W3C `tracestate` checks (Trace Context §3.3, SPEC §5): a list of up to 32 `key=value` members.
///
/// Key grammar: `(lcalpha / DIGIT) 0*255(lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@")` — the current W3C
/// text, which also covers the older simple (`vendor`) and multi-tenant (`tenant@system`) forms and is what the
/// W3C test suite encodes. Value: 1…256 printable ASCII (0x20–0x7E) except `,` and `=`, not ending in a space.
/// Members are separated by commas with optional SP/HTAB around them; empty members are allowed and ignored.
public enum TraceState {
    /// Most list members allowed.
    public static let maxMembers = 32
    /// Longest key.
    public static let maxKeyLength = 256
    /// Longest value.
    public static let maxValueLength = 256

    /// What `combine` produced.
    public enum Combined: Sendable, Equatable {
        /// No members at all (absent or empty lines): send no `tracestate`.
        case absent
        /// A malformed member, or more than 32 members: drop `tracestate` entirely.
        case invalid
        /// The output buffer is smaller than the combined value: drop `tracestate`.
        case tooLong
        /// The combined value is the first `length` bytes of the output buffer.
        case value(length: Int)
    }

    /// True when `header` is a well-formed list: ≤ 32 members, each valid, no key twice ("Only one entry per
    /// key is allowed", W3C §3.3.1.3). An empty or all-empty list is valid.
    public static func validate(_ header: UnsafeRawBufferPointer) -> Bool {
        var members = 0
        var valid = true
        forEachMember(header) { member in
            members += 1
            guard members <= maxMembers, let keyLength = memberKeyLength(member),
                !containsKey(UnsafeRawBufferPointer(rebasing: member[..<keyLength]), in: header, before: member)
            else {
                valid = false
                return false
            }
            return true
        }
        return valid
    }

    /// `validate` for a string value.
    public static func validate(_ header: some StringProtocol) -> Bool {
        var copy = String(header)
        return copy.withUTF8 { validate(UnsafeRawBufferPointer($0)) }
    }

    /// Combines all `tracestate` field lines of a request, in order, into the value to forward.
    ///
    /// OWS and empty members are dropped, members are joined with `,`. A key seen again keeps its first member
    /// (W3C allows deleting members; the W3C suite's own parser does the same), so a list with duplicate keys
    /// still propagates. Over 32 members or any malformed member gives `.invalid`. Writes into `out`; an `out`
    /// of (sum of the line lengths + number of lines) bytes always suffices (one joining comma per line).
    public static func combine<Lines: Sequence>(
        _ lines: Lines, into out: UnsafeMutableRawBufferPointer
    ) -> Combined where Lines.Element == UnsafeRawBufferPointer {
        var members = 0
        var written = 0
        var result = Combined.absent
        for line in lines {
            forEachMember(line) { member in
                members += 1
                guard members <= maxMembers, let keyLength = memberKeyLength(member) else {
                    result = .invalid
                    return false
                }
                let produced = UnsafeRawBufferPointer(rebasing: out[..<written])
                let key = UnsafeRawBufferPointer(rebasing: member[..<keyLength])
                if containsKey(key, in: produced, before: nil) { return true }
                let needed = member.count + (written > 0 ? 1 : 0)
                guard written + needed <= out.count else {
                    result = .tooLong
                    return false
                }
                if written > 0 {
                    out[written] = UInt8(ascii: ",")
                    written += 1
                }
                let target = UnsafeMutableRawBufferPointer(rebasing: out[written..<(written + member.count)])
                target.copyMemory(from: member)
                written += member.count
                return true
            }
            if result != .absent { return result }
        }
        return written == 0 ? .absent : .value(length: written)
    }

    /// Calls `body` with each non-empty member, OWS trimmed, until it returns false.
    static func forEachMember(_ list: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Bool) {
        var start = 0
        while start <= list.count {
            var end = start
            while end < list.count, list[end] != UInt8(ascii: ",") { end += 1 }
            var lo = start
            var hi = end
            while lo < hi, TraceParent.isOWS(list[lo]) { lo += 1 }
            while hi > lo, TraceParent.isOWS(list[hi - 1]) { hi -= 1 }
            if lo < hi, !body(UnsafeRawBufferPointer(rebasing: list[lo..<hi])) { return }
            start = end + 1
        }
    }

    /// The key length of a valid `key=value` member, or nil when the member is malformed.
    static func memberKeyLength(_ member: UnsafeRawBufferPointer) -> Int? {
        guard let equals = member.firstIndex(of: UInt8(ascii: "=")),
            isValidKey(UnsafeRawBufferPointer(rebasing: member[..<equals])),
            isValidValue(UnsafeRawBufferPointer(rebasing: member[(equals + 1)...]))
        else { return nil }
        return equals
    }

    static func isValidKey(_ key: UnsafeRawBufferPointer) -> Bool {
        guard (1...maxKeyLength).contains(key.count), isLowerAlphaOrDigit(key[0]) else { return false }
        for byte in key.dropFirst() {
            guard
                isLowerAlphaOrDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: "*") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "@")
            else { return false }
        }
        return true
    }

    static func isValidValue(_ value: UnsafeRawBufferPointer) -> Bool {
        guard (1...maxValueLength).contains(value.count), value[value.count - 1] != UInt8(ascii: " ") else {
            return false
        }
        for byte in value {
            guard (0x20...0x7E).contains(byte), byte != UInt8(ascii: ","), byte != UInt8(ascii: "=") else {
                return false
            }
        }
        return true
    }

    /// True when a member of `list` located before `stop` (or anywhere, if `stop` is nil) has key `key`.
    static func containsKey(
        _ key: UnsafeRawBufferPointer, in list: UnsafeRawBufferPointer, before stop: UnsafeRawBufferPointer?
    ) -> Bool {
        var found = false
        forEachMember(list) { member in
            if let stop, member.baseAddress == stop.baseAddress { return false }
            if member.count > key.count, member[key.count] == UInt8(ascii: "="),
                memcmpEqual(UnsafeRawBufferPointer(rebasing: member[..<key.count]), key)
            {
                found = true
                return false
            }
            return true
        }
        return found
    }

    static func memcmpEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }

    @inline(__always)
    static func isLowerAlphaOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
