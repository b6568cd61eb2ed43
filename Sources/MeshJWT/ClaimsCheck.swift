import MeshJSON

/// Per-route claim rules (SPEC §3): `require_claims` and `claims_to_headers`. Immutable; built from config.
public struct ClaimsCheck: Sendable {
    /// One `require_claims` entry: `claim` must match `value`.
    public struct Requirement: Sendable, Equatable {
        /// Top-level claim name.
        public var claim: String
        /// Required value.
        public var value: String

        /// Creates a requirement.
        public init(claim: String, value: String) {
            self.claim = claim
            self.value = value
        }
    }

    /// One `claims_to_headers` entry: copy `claim` into request header `header`.
    public struct HeaderMapping: Sendable, Equatable {
        /// Top-level claim name.
        public var claim: String
        /// Header name to set (the proxy removes any client-sent copy first).
        public var header: String

        /// Creates a mapping.
        public init(claim: String, header: String) {
            self.claim = claim
            self.header = header
        }
    }

    /// Requirements, all of which must hold.
    public let requirements: [Requirement]
    /// Header mappings in config order.
    public let headerMappings: [HeaderMapping]

    /// Creates a check.
    public init(requirements: [Requirement] = [], headerMappings: [HeaderMapping] = []) {
        self.requirements = requirements
        self.headerMappings = headerMappings
    }

    /// Checks every requirement; returns the first failure (`claimMissing`/`claimMismatch`, both 403) or nil.
    public func check(_ claims: JSONNode) -> JWTError? {
        for requirement in requirements {
            guard let node = claims[requirement.claim], !node.isNull else { return .claimMissing(requirement.claim) }
            if !Self.matches(node, requirement.value) { return .claimMismatch(requirement.claim) }
        }
        return nil
    }

    /// SPEC §3: a value matches when the claim equals it, or the claim is an array containing it, or a
    /// space-separated string containing it (as OAuth `scope` is, RFC 8693 §4.2).
    public static func matches(_ node: JSONNode, _ value: String) -> Bool {
        switch node.value {
        case .string(let text):
            return text == value || text.split(separator: " ").contains { $0 == value }
        case .array(let elements):
            return elements.contains { scalarText($0) == value }
        default:
            return scalarText(node) == value
        }
    }

    /// Header values for `claims_to_headers`: strings as they are, numbers as their JSON text, booleans as
    /// `true`/`false`. Objects, arrays, null and strings that are unsafe in a header are skipped.
    public func headers(from claims: JSONNode) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        for mapping in headerMappings {
            guard let node = claims[mapping.claim], let text = Self.scalarText(node), Self.isSafeHeaderValue(text)
            else { continue }
            out.append((mapping.header, text))
        }
        return out
    }

    /// Text of a string, number or boolean claim; nil for other JSON types.
    public static func scalarText(_ node: JSONNode) -> String? {
        switch node.value {
        case .string(let text): return text
        case .number(let number): return number.text
        case .bool(let flag): return flag ? "true" : "false"
        default: return nil
        }
    }

    /// RFC 9110 §5.5: field values must not contain CR, LF or NUL; a claim carrying them would be a header
    /// injection, and other control characters are rejected for the same reason.
    static func isSafeHeaderValue(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }
    }
}
