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
    /// Representations of recent non-sensitive fields, replayed instead of coded again.
    private let memo = EncodedFieldMemo()

    /// Creates an encoder.
    public init() {}

    /// The peer changed SETTINGS_HEADER_TABLE_SIZE: repeat the size update at the next block.
    public mutating func peerTableSizeChanged() { sizeUpdatePending = true }

    /// The most octets `encode(_:status:into:)` writes for `fields`: a field's representation is at most a pattern
    /// octet, two string lengths (4 octets each up to 2 MiB) and its octets (Huffman is used only when shorter);
    /// a size update and `:status` take at most 6.
    public static func bound(_ fields: HTTP2HeaderList) -> Int { 12 + fields.byteCount + 9 * fields.count }

    /// Appends the field block for `fields` to `out`, led by `:status` when `status` is given (a response head).
    public mutating func encode(_ fields: HTTP2HeaderList, status: Int? = nil, into out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: Self.bound(fields)))
        let written = out.withUnsafeMutableBytes { raw in
            encode(fields, status: status, into: UnsafeMutableRawBufferPointer(rebasing: raw[start...]))
        }
        out.removeLast(out.count - start - written)
    }

    /// Writes the field block for `fields` into `buffer` (at least `bound(fields)` octets) and returns its length.
    /// Octets are stored, not appended: an array append per octet, string and remembered field (a uniqueness and
    /// a capacity check each) cost ~100 instructions a field.
    public mutating func encode(
        _ fields: HTTP2HeaderList, status: Int? = nil, into buffer: UnsafeMutableRawBufferPointer
    ) -> Int {
        precondition(buffer.count >= Self.bound(fields), "the buffer is shorter than the bound")
        var out = HPACKOutput(buffer.baseAddress!)
        if sizeUpdatePending {
            HPACKInteger.encode(0, prefixBits: 5, firstByte: 0x20, into: &out)
            sizeUpdatePending = false
        }
        if let status { Self.encodeStatus(status, into: &out) }
        encodeFields(fields, into: &out)
        return out.count
    }

    /// `:status` without building a field for it: one indexed octet for the seven statuses of the static table
    /// (RFC 7541 Appendix A, indices 8–14), else the name's index 8 and the three digits as a string literal (Huffman-coded: 2 octets, not 3).
    static func encodeStatus(_ status: Int, into out: inout HPACKOutput) {
        switch status {
        case 200: out.append(0x80 | 8)
        case 204: out.append(0x80 | 9)
        case 206: out.append(0x80 | 10)
        case 304: out.append(0x80 | 11)
        case 400: out.append(0x80 | 12)
        case 404: out.append(0x80 | 13)
        case 500: out.append(0x80 | 14)
        default:
            let code = min(max(status, 100), 999)
            out.append(0x08)  // literal without indexing, name index 8
            let digits = (
                UInt8(ascii: "0") + UInt8(code / 100), UInt8(ascii: "0") + UInt8(code / 10 % 10),
                UInt8(ascii: "0") + UInt8(code % 10)
            )
            withUnsafeBytes(of: digits) { encodeString($0, into: &out) }
        }
    }

    /// The fields of one list, read in place from its storage (slicing the list per field retained it twice).
    private func encodeFields(_ list: HTTP2HeaderList, into out: inout HPACKOutput) {
        list.withBytes { bytes in
            for field in list.fields {
                let name = UnsafeRawBufferPointer(rebasing: bytes[field.nameRange])
                let value = UnsafeRawBufferPointer(rebasing: bytes[field.valueRange])
                encodeField(name, value, neverIndex: field.neverIndex, into: &out)
            }
        }
    }

    private func encodeField(
        _ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, neverIndex: Bool, into out: inout HPACKOutput
    ) {
        // RFC 7541 §7.1.3: credentials are marked never-indexed so no later hop compresses them into a shared table.
        let sensitive = neverIndex || name.equals("authorization") || name.equals("proxy-authorization")
        // Credentials are not kept in the memo either: nothing of them outlives the head.
        if sensitive {
            _ = Self.encodeField(name, value, sensitive: true, into: &out)
            return
        }
        if let known = memo.lookup(name, value) { return out.append(known) }
        // A name outside the static table whose values are too long to remember whole (a request id): its literal
        // name part is the same for every value, and only the value is coded.
        if let namePart = memo.lookupName(name) {
            out.append(namePart)
            return Self.encodeString(value, into: &out)
        }
        let start = out.count
        let literalNameEnd = Self.encodeField(name, value, sensitive: false, into: &out)
        if memo.store(name, value, encoded: out.written(from: start)) { return }
        if let literalNameEnd { memo.storeName(name, encoded: out.written(from: start, to: literalNameEnd)) }
    }

    /// Appends the field's representation; returns where its value string starts when the name went out as a
    /// literal (no static-table entry has it), nil otherwise.
    private static func encodeField(
        _ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, sensitive: Bool, into out: inout HPACKOutput
    ) -> Int? {
        let match = HPACKStaticTable.find(name: name, value: value)
        if let match, match.valueMatches {
            HPACKInteger.encode(match.index, prefixBits: 7, firstByte: 0x80, into: &out)
            return nil
        }
        let pattern: UInt8 = sensitive ? 0x10 : 0x00
        var literalNameEnd: Int?
        if let match {
            HPACKInteger.encode(match.index, prefixBits: 4, firstByte: pattern, into: &out)
        } else {
            out.append(pattern)
            encodeString(name, into: &out)
            literalNameEnd = out.count
        }
        encodeString(value, into: &out)
        return literalNameEnd
    }

    /// A String Literal (RFC 7541 §5.2), Huffman-coded when that is shorter: coded on the stack first, then the
    /// shorter of the two goes out.
    static func encodeString(_ bytes: UnsafeRawBufferPointer, into out: inout HPACKOutput) {
        withUnsafeTemporaryAllocation(byteCount: Huffman.bound(bytes.count), alignment: 8) { buffer in
            let huffmanLength = Huffman.encode(bytes, into: buffer)
            if huffmanLength < bytes.count {
                HPACKInteger.encode(huffmanLength, prefixBits: 7, firstByte: 0x80, into: &out)
                out.append(UnsafeRawBufferPointer(rebasing: buffer[..<huffmanLength]))
            } else {
                HPACKInteger.encode(bytes.count, prefixBits: 7, firstByte: 0, into: &out)
                out.append(bytes)
            }
        }
    }
}

/// The encoder's output: caller memory with room for the whole block (`HPACKEncoder.bound`), written by stores.
struct HPACKOutput {
    private let base: UnsafeMutableRawPointer
    private(set) var count = 0

    init(_ base: UnsafeMutableRawPointer) { self.base = base }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count &+= 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let from = bytes.baseAddress else { return }
        (base + count).copyMemory(from: from, byteCount: bytes.count)
        count &+= bytes.count
    }

    /// What was written from `start` (to `end`, or to now).
    func written(from start: Int, to end: Int? = nil) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + start, count: (end ?? count) - start)
    }
}
