/// The HPACK static table (RFC 7541 Appendix A), indices 1...61, kept as one flat byte array with offsets so a
/// lookup copies bytes without touching `String`.
public struct HPACKStaticTable: Sendable {
    /// Number of entries (index 62 is the first dynamic entry).
    public static let count = 61

    public static let shared = HPACKStaticTable()

    private static let entries: [(String, String)] = [
        (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"), (":path", "/index.html"),
        (":scheme", "http"), (":scheme", "https"), (":status", "200"), (":status", "204"), (":status", "206"),
        (":status", "304"), (":status", "400"), (":status", "404"), (":status", "500"), ("accept-charset", ""),
        ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""), ("accept", ""),
        ("access-control-allow-origin", ""), ("age", ""), ("allow", ""), ("authorization", ""),
        ("cache-control", ""), ("content-disposition", ""), ("content-encoding", ""), ("content-language", ""),
        ("content-length", ""), ("content-location", ""), ("content-range", ""), ("content-type", ""),
        ("cookie", ""), ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
        ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
        ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""), ("max-forwards", ""),
        ("proxy-authenticate", ""), ("proxy-authorization", ""), ("range", ""), ("referer", ""), ("refresh", ""),
        ("retry-after", ""), ("server", ""), ("set-cookie", ""), ("strict-transport-security", ""),
        ("transfer-encoding", ""), ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
    ]

    /// All names and values back to back.
    public let bytes: [UInt8]
    /// For entry `i` (0-based): name range and value range in `bytes`.
    public let ranges: [(name: Range<Int>, value: Range<Int>)]
    /// Entry indexes by name length (the longest static name is 27 octets).
    private let byLength: [[Int]]

    private init() {
        var bytes: [UInt8] = []
        var ranges: [(name: Range<Int>, value: Range<Int>)] = []
        for (name, value) in Self.entries {
            let nameStart = bytes.count
            bytes.append(contentsOf: name.utf8)
            let valueStart = bytes.count
            bytes.append(contentsOf: value.utf8)
            ranges.append((nameStart..<valueStart, valueStart..<bytes.count))
        }
        self.bytes = bytes
        self.ranges = ranges
        var byLength = [[Int]](repeating: [], count: 32)
        for (i, range) in ranges.enumerated() { byLength[range.name.count].append(i) }
        self.byLength = byLength
    }

    /// The name of entry `index` (1...61).
    public func name(_ index: Int) -> ArraySlice<UInt8> { bytes[ranges[index - 1].name] }

    /// The value of entry `index` (1...61).
    public func value(_ index: Int) -> ArraySlice<UInt8> { bytes[ranges[index - 1].value] }

    /// The best match for an encoder: an index whose name and value both match, else one whose name matches
    /// (`valueMatches` false), else nil. Only the entries whose name has the same length are compared.
    public func find(name: some Collection<UInt8>, value: some Collection<UInt8>) -> (index: Int, valueMatches: Bool)? {
        guard name.count < byLength.count else { return nil }
        var nameOnly: Int?
        for i in byLength[name.count] where bytes[ranges[i].name].equalsBytes(name) {
            if bytes[ranges[i].value].equalsBytes(value) { return (i + 1, true) }
            if nameOnly == nil { nameOnly = i + 1 }
        }
        return nameOnly.map { ($0, false) }
    }
}
