/// HPACK encoder for the fields we send (RFC 7541 §6).
///
/// It never adds to the dynamic table: a proxy's response heads vary per upstream and the gain is small, while a
/// stateless encoder cannot desynchronise and needs no per-connection memory. It tells the peer so once, with a
/// dynamic table size update to 0 at the start of the first block and again after any change of the peer's
/// SETTINGS_HEADER_TABLE_SIZE (RFC 7541 §4.2). Static-table matches are used for names and whole fields, and
/// Huffman coding whenever it is shorter.
public struct HPACKEncoder: Sendable {
    /// Whether the next block must begin with a table size update.
    private var sizeUpdatePending = true

    /// Creates an encoder.
    public init() {}

    /// The peer changed SETTINGS_HEADER_TABLE_SIZE: repeat the size update at the next block.
    public mutating func peerTableSizeChanged() { sizeUpdatePending = true }

    /// Appends the field block for `fields` (after `prefix`, e.g. `:status`) to `out`.
    public mutating func encode(_ fields: HTTP2HeaderList, prefix: HTTP2HeaderList? = nil, into out: inout [UInt8]) {
        if sizeUpdatePending {
            HPACKInteger.encode(0, prefixBits: 5, firstByte: 0x20, into: &out)
            sizeUpdatePending = false
        }
        if let prefix {
            for i in 0..<prefix.count { encodeField(prefix, i, into: &out) }
        }
        for i in 0..<fields.count { encodeField(fields, i, into: &out) }
    }

    private func encodeField(_ list: HTTP2HeaderList, _ i: Int, into out: inout [UInt8]) {
        let name = list.name(i)
        let value = list.value(i)
        // RFC 7541 §7.1.3: credentials are marked never-indexed so no later hop compresses them into a shared table.
        let sensitive = list.fields[i].neverIndex || name.equals("authorization") || name.equals("proxy-authorization")
        let match = HPACKStaticTable.shared.find(name: name, value: value)
        if let match, match.valueMatches {
            HPACKInteger.encode(match.index, prefixBits: 7, firstByte: 0x80, into: &out)
            return
        }
        let pattern: UInt8 = sensitive ? 0x10 : 0x00
        if let match {
            HPACKInteger.encode(match.index, prefixBits: 4, firstByte: pattern, into: &out)
        } else {
            out.append(pattern)
            Self.encodeString(name, into: &out)
        }
        Self.encodeString(value, into: &out)
    }

    /// A String Literal (RFC 7541 §5.2), Huffman-coded when that is shorter.
    static func encodeString(_ bytes: ArraySlice<UInt8>, into out: inout [UInt8]) {
        let huffmanLength = Huffman.encodedLength(bytes)
        if huffmanLength < bytes.count {
            HPACKInteger.encode(huffmanLength, prefixBits: 7, firstByte: 0x80, into: &out)
            Huffman.encode(bytes, into: &out)
        } else {
            HPACKInteger.encode(bytes.count, prefixBits: 7, firstByte: 0, into: &out)
            out.append(contentsOf: bytes)
        }
    }
}
