/// Syntax check for `uri-host [ ":" port ]` (RFC 3986 §3.2.2-3.2.3), used for the Host field, the authority of an
/// absolute-form target and the CONNECT target. Routing matches on this value, so a space, `@` (userinfo, which
/// RFC 9110 §4.2.4 says to treat as an error) or a stray byte must never get through.
enum Authority {
    /// Whether `value` is `host[:port]`; `requirePort` demands a non-empty port (CONNECT, RFC 9112 §3.2.3).
    static func isValid(_ value: UnsafeRawBufferPointer, requirePort: Bool, allowEmpty: Bool) -> Bool {
        if value.isEmpty { return allowEmpty }
        var i = 0
        if value[0] == 0x5B {  // "[" IP-literal "]"
            i = 1
            while i < value.count, ASCII.hexValue(value[i]) != nil || value[i] == ASCII.colon || value[i] == ASCII.dot {
                i += 1
            }
            guard i > 1, i < value.count, value[i] == 0x5D else { return false }
            i += 1
        } else {
            guard scanRegName(value, &i) else { return false }
        }
        if i == value.count { return !requirePort }
        guard value[i] == ASCII.colon else { return false }
        i += 1
        let portStart = i
        while i < value.count, value[i] >= 0x30, value[i] <= 0x39 { i += 1 }
        let portLength = i - portStart
        guard i == value.count, portLength <= 5 else { return false }
        return portLength > 0 || !requirePort
    }

    /// reg-name = *( unreserved / pct-encoded / sub-delims ), here required non-empty; stops at ":".
    private static func scanRegName(_ value: UnsafeRawBufferPointer, _ i: inout Int) -> Bool {
        let start = i
        while i < value.count && value[i] != ASCII.colon {
            let b = value[i]
            guard ASCII.isAuthority(b), b != 0x5B, b != 0x5D else { return false }
            if b == ASCII.percent {
                guard i + 2 < value.count, ASCII.hexValue(value[i + 1]) != nil, ASCII.hexValue(value[i + 2]) != nil
                else { return false }
                i += 2
            }
            i += 1
        }
        return i > start
    }
}
