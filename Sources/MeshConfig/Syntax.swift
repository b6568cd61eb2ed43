import MeshJSON

/// Pure checks for the small grammars inside config strings. Each returns nil or an error message that says what
/// is wrong and what is expected.
enum Syntax {
    /// RFC 9110 §5.6.2 `tchar`: what a method or header field name may contain.
    static func isToken(_ s: String) -> Bool {
        !s.isEmpty
            && s.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    true
                default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
                }
            }
    }

    /// Header values go on the wire verbatim: CR, LF and NUL would split or truncate the message (RFC 9110 §5.5).
    static func headerValueProblem(_ value: String) -> String? {
        value.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
            ? "header values must not contain CR, LF or NUL" : nil
    }

    /// A DNS name (RFC 1123 labels: letters, digits, `-`; `_` tolerated for service names) or an IPv4 literal.
    static func isHostName(_ host: String) -> Bool {
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { byte in
                    switch byte {
                    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                        true
                    default: false
                    }
                }
        }
    }

    /// Hex digits, colons and dots (an embedded IPv4 tail), with at least two colons.
    static func isIPv6Literal(_ host: String) -> Bool {
        host.utf8.filter { $0 == UInt8(ascii: ":") }.count >= 2
            && host.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
                    UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: ":"), UInt8(ascii: "."):
                    true
                default: false
                }
            }
    }

    /// `host:port` or `[v6]:port`, port 1...65535.
    static func hostPort(_ text: String) -> Result<HostPort, SyntaxProblem> {
        let usage = "expected \"host:port\" or \"[ipv6]:port\", e.g. \"127.0.0.1:8080\""
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return .failure(SyntaxProblem("\(quoted(text)) is not an address: \(usage)"))
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            guard isIPv6Literal(String(host)) else {
                return .failure(SyntaxProblem("\(quoted(String(host))) is not an IPv6 address"))
            }
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                return .failure(SyntaxProblem("\(quoted(text)) is not an address: \(usage)"))
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard isHostName(String(host)) else {
                return .failure(SyntaxProblem("\(quoted(String(host))) is not a valid host name or IPv4 address"))
            }
        }
        guard let port = Int(portText), (1...65535).contains(port), portText.allSatisfy(\.isASCII) else {
            return .failure(SyntaxProblem("port \(quoted(String(portText))) must be a number from 1 to 65535"))
        }
        return .success(HostPort(host: String(host), port: UInt16(port)))
    }

    /// `match.host`: `name` or `*.suffix`, lowercased (host names are case-insensitive, RFC 4343).
    static func hostMatch(_ text: String) -> Result<HostMatch, SyntaxProblem> {
        let lowered = text.lowercased()
        if lowered.hasPrefix("*.") {
            let suffix = String(lowered.dropFirst(1))
            guard isHostName(String(suffix.dropFirst())) else {
                return .failure(SyntaxProblem("\(quoted(text)) is not a valid wildcard host: use \"*.example.com\""))
            }
            return .success(.wildcardSuffix(suffix))
        }
        guard isHostName(lowered) else {
            return .failure(
                SyntaxProblem(
                    "\(quoted(text)) is not a valid host: use \"api.example.com\" or \"*.example.com\" (no port)"))
        }
        return .success(.exact(lowered))
    }

    /// A request path as configured: starts with `/`, no query, fragment, whitespace or control characters.
    static func pathProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "path \(quoted(path)) must start with \"/\"" }
        if path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") })
        {
            return "path \(quoted(path)) must not contain spaces, control characters, \"?\" or \"#\""
        }
        return nil
    }

    /// `/users/{id}/followers` → segments `["users", nil, "followers"]`, names `["id"]`. A `{name}` must be a whole
    /// segment and each name unique, so a match binds every parameter exactly once.
    static func template(_ text: String) -> Result<PathMatch, SyntaxProblem> {
        if let problem = pathProblem(text) { return .failure(SyntaxProblem(problem)) }
        var segments: [String?] = []
        var names: [String] = []
        for segment in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let hasBrace = segment.contains("{") || segment.contains("}")
            guard hasBrace else {
                segments.append(String(segment))
                continue
            }
            let name = segment.dropFirst().dropLast()
            guard segment.hasPrefix("{"), segment.hasSuffix("}"), isIdentifier(name) else {
                return .failure(
                    SyntaxProblem(
                        "template segment \(quoted(String(segment))) must be a whole segment \"{name}\""
                            + " with a name of letters, digits and _"
                    ))
            }
            guard !names.contains(String(name)) else {
                return .failure(SyntaxProblem("template parameter {\(name)} appears twice; names must be unique"))
            }
            names.append(String(name))
            segments.append(nil)
        }
        return .success(.template(segments: segments, names: names))
    }

    static func isIdentifier(_ s: Substring) -> Bool {
        guard let first = s.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return s.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                true
            default: false
            }
        }
    }

    /// An `http://host[:port]/…` URL, or `https://` where the client speaks TLS (`allowHTTPS`: JWKS); elsewhere
    /// `https://` is refused with that reason.
    static func httpURLProblem(_ url: String, allowHTTPS: Bool = false) -> String? {
        let secure = url.hasPrefix("https://")
        if secure && !allowHTTPS { return "https:// is not supported here yet; use an http:// URL" }
        // Error messages go to logs, `meshgate check` and `/config`: never quote a URL's credentials.
        guard url.hasPrefix("http://") || secure else {
            return "\(quoted(URLRedaction.redact(url))) must be an http:// URL" + (allowHTTPS ? " or https:// URL" : "")
        }
        let rest = url.dropFirst(secure ? "https://".count : "http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        // Not omitting empty parts: in `user:pw@` the host is the empty part after the `@`, not the userinfo.
        let hostPart = authority.split(separator: "@", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        if hostPart.isEmpty { return "\(quoted(URLRedaction.redact(url))) has no host" }
        if hostPart.contains(":"), !hostPart.hasPrefix("["), case .failure(let problem) = hostPort(hostPart) {
            return problem.message
        }
        return nil
    }
}

/// Why a small grammar check failed.
struct SyntaxProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// `"text"` with JSON escaping, for quoting user input inside messages.
func quoted(_ text: String) -> String { JSONWriter.escaped(text) }
