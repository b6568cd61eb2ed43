import MeshJSON

/// A JSON object being decoded, with the path that names it in errors.
struct ObjectNode {
    let node: JSONNode
    let path: String
    let members: [JSONMember]

    /// The member with that key, if present.
    subscript(key: String) -> JSONMember? { members.first { $0.key == key } }

    /// The path of a member: `a.b` (or `a["odd key"]` when the key is not a plain identifier).
    func path(_ key: String) -> String { ConfigDecoder.join(path, key) }
}

/// Turns a `JSONNode` tree into config values while collecting every error (never stopping at the first).
///
/// Readers return the value, or nil when the key is absent or the value is invalid; an invalid value has already
/// been recorded as an error, so callers just fall back to a default and keep going. The loader fails when any
/// error was recorded.
final class ConfigDecoder {
    private(set) var errors: [ConfigError] = []
    let fileName: String
    let environment: [String: String]

    init(fileName: String, environment: [String: String]) {
        self.fileName = fileName
        self.environment = environment
    }

    func error(_ path: String, _ position: JSONPosition?, _ message: String) {
        errors.append(
            ConfigError(
                path: path, line: position?.line, column: position?.column, message: message, fileName: fileName))
    }

    /// Errors sorted into file order; the sort is stable, so errors at one position keep the order they were found.
    /// The errors to report: a misspelled top-level key first (it is the cause), without the errors that only
    /// follow from it ("missing required key", "none are defined under" the key it was meant to be), then the
    /// rest in file order.
    var sortedErrors: [ConfigError] {
        let inFileOrder = errors.enumerated().sorted { a, b in
            let la = a.element.line ?? Int.max, lb = b.element.line ?? Int.max
            if la != lb { return la < lb }
            let ca = a.element.column ?? Int.max, cb = b.element.column ?? Int.max
            if ca != cb { return ca < cb }
            return a.offset < b.offset
        }.map(\.element)
        let causes = inFileOrder.filter { Self.misspelledTopLevelKey($0) != nil }
        let meant = Set(causes.compactMap(Self.misspelledTopLevelKey).map { JSONWriter.escaped($0) })
        guard !meant.isEmpty else { return inFileOrder }
        let consequences = inFileOrder.filter { error in
            meant.contains { key in
                error.message.hasPrefix("missing required key \(key)")
                    || error.message.contains("none are defined under \(key)")
            }
        }
        return causes + inFileOrder.filter { error in
            !causes.contains(error) && !consequences.contains(error)
        }
    }

    /// The key a top-level unknown key was probably meant to be (`"listners"` → `listeners`), else nil.
    static func misspelledTopLevelKey(_ error: ConfigError) -> String? {
        guard !error.path.isEmpty, !error.path.contains("."), !error.path.contains("["),
            error.message.hasPrefix("unknown key"), let open = error.message.firstRange(of: "(did you mean \""),
            let close = error.message[open.upperBound...].firstRange(of: "\"?)")
        else { return nil }
        return String(error.message[open.upperBound..<close.lowerBound])
    }

    static func join(_ path: String, _ key: String) -> String { JSONPath.join(path, key) }

    static func describe(_ node: JSONNode) -> String {
        switch node.value {
        case .string(let s): "string \(JSONWriter.escaped(s))"
        case .number(let n): "number \(n.text)"
        case .bool(let b): "\(b)"
        default: node.value.typeName
        }
    }

    func typeError(_ path: String, _ node: JSONNode, expected: String) {
        error(path, node.position, "expected \(expected), found \(Self.describe(node))")
    }

    // MARK: - Objects

    /// Checks that `node` is an object whose keys are all in `allowed`; each unknown key is an error at the key,
    /// with a suggestion. Returns nil (after recording an error) when `node` is not an object.
    func object(_ node: JSONNode, _ path: String, allowed: [String]) -> ObjectNode? {
        guard let members = node.objectValue else {
            typeError(path, node, expected: "an object")
            return nil
        }
        for member in members where !allowed.contains(member.key) {
            let hint = Suggestion.hint(for: member.key, in: allowed)
            error(
                Self.join(path, member.key), member.keyPosition, "unknown key \(JSONWriter.escaped(member.key))\(hint)")
        }
        return ObjectNode(node: node, path: path, members: members)
    }

    /// The member, or an error at the object when it is missing.
    func required(_ object: ObjectNode, _ key: String, hint: String = "") -> JSONMember? {
        if let member = object[key] { return member }
        error(object.path, object.node.position, "missing required key \(JSONWriter.escaped(key))\(hint)")
        return nil
    }

    /// Upstream and provider names become metric label values and appear in logs: keep them printable.
    func checkName(_ member: JSONMember, _ section: String) {
        let printable =
            !member.key.isEmpty && member.key.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
        if !printable {
            error(
                Self.join(section, member.key), member.keyPosition,
                "names must be non-empty, without spaces or control characters")
        }
    }

    // MARK: - Scalars

    func string(_ object: ObjectNode, _ key: String, nonEmpty: Bool = true) -> String? {
        guard let member = object[key] else { return nil }
        return string(member.value, object.path(key), nonEmpty: nonEmpty)
    }

    func string(_ node: JSONNode, _ path: String, nonEmpty: Bool = true) -> String? {
        guard let value = node.stringValue else {
            typeError(path, node, expected: "a string")
            return nil
        }
        if nonEmpty && value.isEmpty {
            error(path, node.position, "must not be empty")
            return nil
        }
        return value
    }

    func bool(_ object: ObjectNode, _ key: String) -> Bool? {
        guard let member = object[key] else { return nil }
        guard let value = member.value.boolValue else {
            typeError(object.path(key), member.value, expected: "true or false")
            return nil
        }
        return value
    }

    /// An integer within `range`; `what` describes it in the error (`"milliseconds"`, `"a port"`).
    func int(_ object: ObjectNode, _ key: String, _ range: ClosedRange<Int>, what: String = "an integer") -> Int? {
        guard let member = object[key] else { return nil }
        return int(member.value, object.path(key), range, what: what)
    }

    func int(_ node: JSONNode, _ path: String, _ range: ClosedRange<Int>, what: String = "an integer") -> Int? {
        guard let raw = node.int64Value, let value = Int(exactly: raw) else {
            typeError(path, node, expected: what)
            return nil
        }
        guard range.contains(value) else {
            let bounds =
                range.upperBound == Int.max
                ? "at least \(range.lowerBound)"
                : "between \(range.lowerBound) and \(range.upperBound)"
            error(path, node.position, "\(value) is out of range: must be \(bounds)")
            return nil
        }
        return value
    }

    /// A duration: a non-negative integer number of milliseconds (or seconds for `_s` keys), at least `min`
    /// and at most `Defaults.maxDurationMs` (or its seconds), so every deadline the runtime computes as
    /// `now + duration` fits an `Int64` with room to spare.
    func duration(_ object: ObjectNode, _ key: String, min: Int = 0) -> Int? {
        let seconds = key.hasSuffix("_s")
        let unit = seconds ? "seconds" : "milliseconds"
        let max = seconds ? Defaults.maxDurationMs / 1000 : Defaults.maxDurationMs
        guard let member = object[key],
            let value = int(
                member.value, object.path(key), min...Int.max, what: "a non-negative integer number of \(unit)")
        else { return nil }
        guard value <= max else {
            error(object.path(key), member.value.position, "\(value) is out of range: must be at most \(max) \(unit)")
            return nil
        }
        return value
    }

    /// A number within `range`.
    func double(_ object: ObjectNode, _ key: String, _ range: ClosedRange<Double>) -> Double? {
        guard let member = object[key] else { return nil }
        guard let value = member.value.doubleValue else {
            typeError(object.path(key), member.value, expected: "a number")
            return nil
        }
        guard range.contains(value) else {
            error(
                object.path(key), member.value.position,
                "\(value) is out of range: must be between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return value
    }

    /// One of `allowed` (e.g. an enum's raw values), with a did-you-mean hint when it is not.
    func choice(_ node: JSONNode, _ path: String, _ allowed: [String]) -> String? {
        guard let value = string(node, path) else { return nil }
        guard allowed.contains(value) else {
            error(
                path, node.position,
                "unknown value \(JSONWriter.escaped(value))\(Suggestion.hint(for: value, in: allowed))")
            return nil
        }
        return value
    }

    // MARK: - Collections

    /// The elements of an array with their paths; nil (after an error) when not an array.
    func array(_ object: ObjectNode, _ key: String, nonEmpty: Bool = false) -> [(node: JSONNode, path: String)]? {
        guard let member = object[key] else { return nil }
        return array(member.value, object.path(key), nonEmpty: nonEmpty)
    }

    func array(_ node: JSONNode, _ path: String, nonEmpty: Bool = false) -> [(node: JSONNode, path: String)]? {
        guard let items = node.arrayValue else {
            typeError(path, node, expected: "an array")
            return nil
        }
        if nonEmpty && items.isEmpty {
            error(path, node.position, "must not be empty")
            return nil
        }
        return items.enumerated().map { ($0.element, "\(path)[\($0.offset)]") }
    }

    /// An array of strings; invalid elements are reported and left out.
    func strings(_ object: ObjectNode, _ key: String, nonEmpty: Bool = false) -> [(
        value: String, node: JSONNode, path: String
    )]? {
        guard let items = array(object, key, nonEmpty: nonEmpty) else { return nil }
        return items.compactMap { item in string(item.node, item.path).map { ($0, item.node, item.path) } }
    }

    /// An object used as a string → string map (`headers`, `claims_to_headers`), in file order.
    func stringMap(_ object: ObjectNode, _ key: String) -> [(
        key: String, value: String, member: JSONMember, path: String
    )]? {
        guard let member = object[key] else { return nil }
        let path = object.path(key)
        guard let members = member.value.objectValue else {
            typeError(path, member.value, expected: "an object of strings")
            return nil
        }
        return members.compactMap { entry in
            let entryPath = Self.join(path, entry.key)
            return string(entry.value, entryPath, nonEmpty: false).map { (entry.key, $0, entry, entryPath) }
        }
    }
}
