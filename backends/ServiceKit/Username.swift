/// The user-name rule shared by the three backends (issue 7): 3–32 bytes of `[a-z0-9_.-]`.
///
/// Lowercase only, so `Alice` and `alice` can never be two accounts, and names are safe in paths and logs.
public enum Username {
    /// Whether `name` follows the rule.
    public static func isValid(_ name: String) -> Bool {
        let bytes = name.utf8
        guard (3...32).contains(bytes.count) else { return false }
        return bytes.allSatisfy { b in
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
                || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
        }
    }

    /// `name` if valid, else a 400 naming `what` (e.g. "user in path").
    public static func validated(_ name: String, _ what: String) throws(HTTPError) -> String {
        guard isValid(name) else {
            throw .badRequest("\(what) must be 3-32 characters of a-z, 0-9, '_', '.', '-'")
        }
        return name
    }

    /// The caller's name from the gateway's `x-user-id` header: 401 when missing, 400 when malformed.
    public static func caller(_ request: Request) throws(HTTPError) -> String {
        guard let value = request.header("x-user-id"), !value.isEmpty else {
            throw .unauthorized("missing x-user-id: call through the gateway with a bearer token")
        }
        return try validated(value, "x-user-id")
    }
}
