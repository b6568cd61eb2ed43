/// Recursive-descent parser for `PathTemplate` over the template's bytes.
struct PathTemplateParser {
    private let bytes: [UInt8]
    private var i = 0
    private(set) var segments: [PathTemplate.Segment] = []
    private(set) var variables: [PathTemplate.Variable] = []
    private(set) var verb: String?
    private var inVariable = false

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func parse() throws(PathTemplateError) {
        guard peek == UInt8(ascii: "/") else { throw error("a template starts with /") }
        i += 1
        try parseSegments()
        if peek == UInt8(ascii: ":") {
            i += 1
            let text = literal()
            guard !text.isEmpty else { throw error("empty verb") }
            verb = text
        }
        guard i == bytes.count else { throw error("unexpected \(character)") }
        if let m = segments.firstIndex(of: .multi), m != segments.count - 1 {
            throw error("** must be the last segment")
        }
        var seen: Set<[String]> = []
        for v in variables where !seen.insert(v.fieldPath).inserted {
            throw error("variable \(v.fieldPath.joined(separator: ".")) bound twice")
        }
    }

    private var peek: UInt8? { i < bytes.count ? bytes[i] : nil }
    private var character: String { peek.map { "'\(Character(Unicode.Scalar($0)))'" } ?? "end of template" }

    private func error(_ message: String) -> PathTemplateError {
        PathTemplateError(offset: i, message: message)
    }

    private mutating func parseSegments() throws(PathTemplateError) {
        try parseSegment()
        while peek == UInt8(ascii: "/") {
            i += 1
            try parseSegment()
        }
    }

    private mutating func parseSegment() throws(PathTemplateError) {
        switch peek {
        case UInt8(ascii: "*"):
            i += 1
            if peek == UInt8(ascii: "*") {
                i += 1
                segments.append(.multi)
            } else {
                segments.append(.single)
            }
        case UInt8(ascii: "{"):
            guard !inVariable else { throw error("variables do not nest") }
            try parseVariable()
        default:
            let text = literal()
            guard !text.isEmpty else { throw error("expected a segment, found \(character)") }
            segments.append(.literal(text))
        }
    }

    private mutating func parseVariable() throws(PathTemplateError) {
        i += 1
        var path: [String] = [try identifier()]
        while peek == UInt8(ascii: ".") {
            i += 1
            path.append(try identifier())
        }
        let first = segments.count
        if peek == UInt8(ascii: "=") {
            i += 1
            inVariable = true
            try parseSegments()
            inVariable = false
        } else {
            segments.append(.single)
        }
        guard peek == UInt8(ascii: "}") else { throw error("expected } after variable, found \(character)") }
        i += 1
        variables.append(PathTemplate.Variable(fieldPath: path, range: first..<segments.count))
    }

    private mutating func identifier() throws(PathTemplateError) -> String {
        let start = i
        while let b = peek, isIdentifier(b, first: i == start) { i += 1 }
        guard i > start else { throw error("expected a field name, found \(character)") }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    private func isIdentifier(_ b: UInt8, first: Bool) -> Bool {
        let letter = (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") || b == UInt8(ascii: "_")
        return letter || (!first && b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }

    /// RFC 3986 pchar without `:` (it starts the verb) and without the template's own punctuation.
    private mutating func literal() -> String {
        let start = i
        while let b = peek, isLiteral(b) { i += 1 }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    private func isLiteral(_ b: UInt8) -> Bool {
        if b >= 0x80 || b <= 0x20 { return false }
        switch b {
        case UInt8(ascii: "/"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "*"), UInt8(ascii: ":"),
            UInt8(ascii: "="), UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "%"), 0x7F:
            return false
        default:
            return true
        }
    }
}

/// Percent-decoding of URL path segments and query components.
enum PercentDecoding {
    /// `%XX` → byte; nil for a malformed escape or a result that is not UTF-8. `plusIsSpace` is for query
    /// strings (application/x-www-form-urlencoded, as Go's `url.ParseQuery` reads them).
    static func decode(_ text: Substring, plusIsSpace: Bool = false, keep: (UInt8) -> Bool = { _ in false }) -> String?
    {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let hi = hex(bytes[i + 1]), let lo = hex(bytes[i + 2]) else { return nil }
                let decoded = hi << 4 | lo
                if keep(decoded) {
                    out.append(contentsOf: bytes[i...(i + 2)])
                } else {
                    out.append(decoded)
                }
                i += 3
            } else {
                out.append(plusIsSpace && b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    /// Path segments joined by `/`, each decoded; with `keepSlashes`, `%2F` stays encoded.
    static func segments(_ parts: ArraySlice<Substring>, keepSlashes: Bool) -> String? {
        var decoded: [String] = []
        for part in parts {
            guard let d = decode(part, keep: { keepSlashes && $0 == UInt8(ascii: "/") }) else { return nil }
            decoded.append(d)
        }
        return decoded.joined(separator: "/")
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
