import Glibc

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

    /// Entry `index` (1...61) as raw bytes of the process-lifetime storage: nothing is retained to read it.
    @inline(__always)
    static func entry(_ index: Int) -> (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let flat = Flat.shared
        let entry = flat.entries[Int(flat.byIndex[index - 1])]
        let base = UnsafeRawPointer(flat.bytes)
        return (
            UnsafeRawBufferPointer(start: base + Int(entry.name), count: Int(entry.value - entry.name)),
            UnsafeRawBufferPointer(start: base + Int(entry.value), count: Int(entry.valueLength))
        )
    }

    /// The best match for an encoder: an index whose name and value both match, else one whose name matches
    /// (`valueMatches` false), else nil. Only the entries whose name has the same length are compared.
    public func find(name: some Collection<UInt8>, value: some Collection<UInt8>) -> (index: Int, valueMatches: Bool)? {
        let name = Array(name), value = Array(value)
        return name.withUnsafeBytes { n in value.withUnsafeBytes { v in Self.find(name: n, value: v) } }
    }

    /// `find` for the encoder's hot path: raw bytes in, and the table read through storage that lives as long as
    /// the process, so a lookup neither retains nor releases anything (through the struct's arrays it retained
    /// three per field, which showed in h2 profiles).
    public static func find(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> (index: Int, valueMatches: Bool)? {
        let flat = Flat.shared
        guard name.count < flat.firstByLength.count - 1, !name.isEmpty else { return nil }
        var nameOnly: Int?
        for k in Int(flat.firstByLength[name.count])..<Int(flat.firstByLength[name.count + 1]) {
            let entry = flat.entries[k]
            guard memcmp(flat.bytes + Int(entry.name), name.baseAddress!, name.count) == 0 else { continue }
            if Int(entry.valueLength) == value.count
                && (value.isEmpty || memcmp(flat.bytes + Int(entry.value), value.baseAddress!, value.count) == 0)
            {
                return (Int(entry.index), true)
            }
            if nameOnly == nil { nameOnly = Int(entry.index) }
        }
        return nameOnly.map { ($0, false) }
    }

    /// The table as raw, immortal storage: entries grouped by name length, in index order within a group.
    private struct Flat: @unchecked Sendable {
        struct Entry {
            var name: Int32
            var value: Int32
            var valueLength: Int32
            /// The 1-based HPACK index.
            var index: Int32
        }
        let bytes: UnsafeMutablePointer<UInt8>
        let entries: UnsafeMutableBufferPointer<Entry>
        /// `entries[firstByLength[n]..<firstByLength[n + 1]]` have names of length `n`.
        let firstByLength: UnsafeMutableBufferPointer<Int32>
        /// `entries[byIndex[index - 1]]` is entry `index`.
        let byIndex: UnsafeMutableBufferPointer<Int32>

        static let shared = Flat(HPACKStaticTable.shared)

        init(_ table: HPACKStaticTable) {
            bytes = .allocate(capacity: table.bytes.count)
            bytes.initialize(from: table.bytes, count: table.bytes.count)
            entries = .allocate(capacity: table.ranges.count)
            firstByLength = .allocate(capacity: table.byLength.count + 1)
            byIndex = .allocate(capacity: table.ranges.count)
            var k = 0
            for (length, group) in table.byLength.enumerated() {
                firstByLength[length] = Int32(k)
                for i in group {
                    let r = table.ranges[i]
                    entries[k] = Entry(
                        name: Int32(r.name.lowerBound), value: Int32(r.value.lowerBound),
                        valueLength: Int32(r.value.count), index: Int32(i + 1))
                    byIndex[i] = Int32(k)
                    k += 1
                }
            }
            firstByLength[table.byLength.count] = Int32(k)
        }
    }
}
