/// Hop-by-hop field rules of RFC 9110 §7.6.1, for stripping fields before forwarding in either direction (SPEC §4,
/// like Go's `removeHopByHopHeaders`: the fields Connection names first, then the fixed list).
public enum HopByHop {
    /// Whether `field` must not be forwarded: one of the fixed hop-by-hop fields (`KnownHeader.isHopByHop`), or a
    /// field whose name appears as a token in any of the message's Connection values.
    ///
    /// `buffer` is the buffer the head was parsed from; `headers` its fields. Only scans Connection values when
    /// the head said `connectionHasCustomTokens`, so the common case costs one byte compare.
    public static func isHopByHop(
        _ field: HTTPHeaderField,
        in buffer: UnsafeRawBufferPointer,
        headers: UnsafeBufferPointer<HTTPHeaderField>,
        connectionHasCustomTokens: Bool
    ) -> Bool {
        if field.known.isHopByHop { return true }
        guard connectionHasCustomTokens else { return false }
        let name = field.name(in: buffer)
        for candidate in headers where candidate.known == .connection {
            if listContains(candidate.value(in: buffer), name) { return true }
        }
        return false
    }

    /// Whether the comma-separated `list` (RFC 9110 §5.6.1) has an element equal to `token`, ASCII
    /// case-insensitively, OWS around elements ignored.
    public static func listContains(_ list: UnsafeRawBufferPointer, _ token: UnsafeRawBufferPointer) -> Bool {
        anyElement(of: list) { element in
            element.count == token.count && equalsIgnoringCase(element, from: 0, token)
        }
    }

    /// Calls `body` with each non-empty element of the comma-separated `list` (RFC 9110 §5.6.1), OWS trimmed,
    /// until it returns true; returns whether it did. The one reading of a list, so every caller splits alike.
    public static func anyElement(
        of list: UnsafeRawBufferPointer, where body: (UnsafeRawBufferPointer) -> Bool
    ) -> Bool {
        var i = 0
        while i < list.count {
            while i < list.count && (ASCII.isWhitespace(list[i]) || list[i] == ASCII.comma) { i += 1 }
            let start = i
            while i < list.count && list[i] != ASCII.comma { i += 1 }
            var end = i
            while end > start && ASCII.isWhitespace(list[end - 1]) { end -= 1 }
            if end > start && body(UnsafeRawBufferPointer(rebasing: list[start..<end])) { return true }
        }
        return false
    }

    /// Whether `bytes` is an RFC 9110 §5.6.2 token (what a Connection option must be).
    public static func isToken(_ bytes: UnsafeRawBufferPointer) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy(ASCII.isToken)
    }

    private static func equalsIgnoringCase(
        _ list: UnsafeRawBufferPointer, from start: Int, _ token: UnsafeRawBufferPointer
    )
        -> Bool
    {
        for k in 0..<token.count where ASCII.lower(list[start + k]) != ASCII.lower(token[k]) { return false }
        return true
    }
}
