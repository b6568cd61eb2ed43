/// Finds the token in a request, like Envoy's `jwt_authn/extractor.cc`: `Authorization: Bearer`, a named header,
/// or a cookie, tried in the configured order. Returns slices of the caller's header values, never copies.
public struct TokenExtractor: Sendable {
    /// One place a token may be carried.
    public enum Location: Sendable, Equatable {
        /// `Authorization: Bearer <token>` (RFC 6750 §2.1).
        case bearer
        /// The whole value of a header (name compared case-insensitively by the lookup closure's owner).
        case header(String)
        /// The value of one cookie in the `Cookie` header (RFC 6265 §5.4).
        case cookie(String)
    }

    /// Locations in the order they are tried; the SPEC default is `[.bearer]`.
    public let locations: [Location]

    /// Creates an extractor; an empty list means `[.bearer]`.
    public init(locations: [Location] = [.bearer]) {
        self.locations = locations.isEmpty ? [.bearer] : locations
    }

    /// Extracts the first token found. `header` returns the values of a header given its lowercase name (in
    /// order, one element per field line). A location that is present but holds something other than a token
    /// (e.g. `Authorization: Basic …`) is skipped; a Bearer credential that is empty or contains spaces is
    /// `.malformed`; nothing anywhere is `.missing`.
    public func extract(header: (String) -> [Substring]) -> Result<Substring, JWTError> {
        for location in locations {
            switch location {
            case .bearer:
                for value in header("authorization") {
                    if let token = Self.bearerToken(value) {
                        return token.isEmpty ? .failure(.malformed) : .success(token)
                    }
                }
            case .header(let name):
                if let value = header(name.lowercased()).first.map(Self.trimmed), !value.isEmpty {
                    return .success(value)
                }
            case .cookie(let name):
                for value in header("cookie") {
                    if let token = Self.cookie(named: name, in: value), !token.isEmpty { return .success(token) }
                }
            }
        }
        return .failure(.missing)
    }

    /// The credentials of an `Authorization` value whose scheme is `Bearer` (case-insensitive, RFC 9110 §11.1),
    /// or nil for other schemes. Returns an empty slice when the credentials are not a single b64token.
    public static func bearerToken(_ value: Substring) -> Substring? {
        // Byte-wise over contiguous UTF-8: Character iteration (grapheme breaking) and UTF8View indexing over
        // a 1 KiB token cost thousands of instructions per request.
        let scanned = value.utf8.withContiguousStorageIfAvailable(bearerSpan)
            ?? Array(value.utf8).withUnsafeBufferPointer(bearerSpan)
        switch scanned {
        case .otherScheme: return nil
        case .notOneToken: return value[value.endIndex...]
        case .token(let from, let to):
            let utf8 = value.utf8
            return value[utf8.index(utf8.startIndex, offsetBy: from)..<utf8.index(utf8.startIndex, offsetBy: to)]
        }
    }

    private enum BearerScan {
        case otherScheme
        /// RFC 6750 §2.1: the credentials are not one b64token ("Bearer a b", or nothing).
        case notOneToken
        case token(Int, Int)
    }

    private static func bearerSpan(_ bytes: UnsafeBufferPointer<UInt8>) -> BearerScan {
        var start = 0
        var end = bytes.count
        while start < end && isBlank(bytes[start]) { start += 1 }
        while end > start && isBlank(bytes[end - 1]) { end -= 1 }
        guard end - start >= 6, isBearer(bytes, start) else { return .otherScheme }
        if end - start == 6 { return .notOneToken }
        guard bytes[start + 6] == UInt8(ascii: " ") else { return .otherScheme }
        var cursor = start + 6
        while cursor < end && isBlank(bytes[cursor]) { cursor += 1 }
        for k in cursor..<end where isBlank(bytes[k]) { return .notOneToken }
        return cursor < end ? .token(cursor, end) : .notOneToken
    }

    private static func isBearer(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int) -> Bool {
        // "bearer", compared case-insensitively (RFC 9110 §11.1: auth schemes are case-insensitive).
        let word: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0x62, 0x65, 0x61, 0x72, 0x65, 0x72)
        return bytes[at] | 0x20 == word.0 && bytes[at + 1] | 0x20 == word.1 && bytes[at + 2] | 0x20 == word.2
            && bytes[at + 3] | 0x20 == word.3 && bytes[at + 4] | 0x20 == word.4 && bytes[at + 5] | 0x20 == word.5
    }

    @inline(__always)
    private static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// The value of cookie `name` in one `Cookie` header value (`a=1; b=2`), unquoted; nil when absent.
    public static func cookie(named name: String, in value: Substring) -> Substring? {
        for pair in value.split(separator: ";") {
            let pair = trimmed(pair)
            guard let equals = pair.firstIndex(of: "=") else { continue }
            guard pair[..<equals].utf8.elementsEqual(name.utf8) else { continue }
            var cookieValue = pair[pair.index(after: equals)...]
            // RFC 6265 §4.1.1: cookie-value may be wrapped in DQUOTEs.
            if cookieValue.count >= 2, cookieValue.first == "\"", cookieValue.last == "\"" {
                cookieValue = cookieValue.dropFirst().dropLast()
            }
            return cookieValue
        }
        return nil
    }

    private static func trimmed(_ value: Substring) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = value.firstIndex(where: { !isSpace($0) }) else { return value[value.endIndex...] }
        let end = value.lastIndex(where: { !isSpace($0) })!
        return value[start...end]
    }

    private static func asciiLowercaseEquals(_ value: Substring, _ lower: String) -> Bool {
        value.utf8.elementsEqual(lower.utf8) { lhs, rhs in
            (lhs >= UInt8(ascii: "A") && lhs <= UInt8(ascii: "Z") ? lhs | 0x20 : lhs) == rhs
        }
    }
}
