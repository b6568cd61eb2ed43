/// SNI → certificate selection by RFC 6125 §6.4 rules, compiled once per context.
///
/// Names compare case-insensitively (ASCII). A SAN `*.example.com` matches exactly one extra label
/// (`a.example.com`, not `example.com`, not `a.b.example.com`); only a whole leftmost `*` label is a wildcard
/// (`f*.example.com` is matched literally, i.e. never), and a wildcard needs at least two labels after it
/// (`*.com` never matches). An exact SAN wins over a wildcard; among equals the first pair in configuration
/// order wins; no SNI or no match selects pair 0.
public struct ServerNameTable: Sendable {
    private var exact: [String: Int] = [:]
    private var wildcard: [String: Int] = [:]

    /// Builds the table from each pair's dNSName SANs, in pair order.
    public init(namesPerPair: [[String]]) {
        for (index, names) in namesPerPair.enumerated() {
            for name in names.map({ Self.normalized($0) }) where !name.isEmpty {
                if name.hasPrefix("*.") {
                    let suffix = String(name.dropFirst(2))
                    // RFC 6125 §7.2: a wildcard over a single label (a public suffix) is not honoured.
                    guard suffix.contains("."), !suffix.contains("*") else { continue }
                    if wildcard[suffix] == nil { wildcard[suffix] = index }
                } else if !name.contains("*"), exact[name] == nil {
                    exact[name] = index
                }
            }
        }
    }

    /// The index of the pair to serve for `serverName` (the SNI host name, or nil when the client sent none).
    public func select(_ serverName: String?) -> Int {
        guard let serverName else { return 0 }
        let name = Self.normalized(serverName)
        if let index = exact[name] { return index }
        // The client's first label must be a real label: "*.wild.example.com" is not a host name.
        guard let dot = name.firstIndex(of: "."), dot != name.startIndex, !name[..<dot].contains("*") else {
            return 0
        }
        return wildcard[String(name[name.index(after: dot)...])] ?? 0
    }

    /// Lower-cased ASCII with one trailing dot removed (an absolute name means the same host, as routing treats
    /// `api.example.com.`).
    static func normalized(_ name: String) -> String {
        var name = name.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        return name
    }
}
