/// One field of an `HTTP2HeaderList`: offsets into the list's `bytes`.
public struct HTTP2HeaderField: Sendable, Equatable {
    /// Offset of the name.
    public var nameStart: Int32
    /// Length of the name.
    public var nameLength: Int32
    /// Offset of the value.
    public var valueStart: Int32
    /// Length of the value.
    public var valueLength: Int32
    /// The peer sent it as "never indexed" (RFC 7541 §6.2.3); an intermediary must forward it the same way (§7.1.3).
    public var neverIndex: Bool

    /// Where the name lies in the list's bytes.
    @inlinable public var nameRange: Range<Int> { Int(nameStart)..<Int(nameStart + nameLength) }
    /// Where the value lies in the list's bytes.
    @inlinable public var valueRange: Range<Int> { Int(valueStart)..<Int(valueStart + valueLength) }
}

/// A header or trailer section: names and values back to back in one byte array, plus offsets, so a decoded block
/// costs two buffers rather than two strings per field. Pseudo-header fields, when present, come first.
public struct HTTP2HeaderList: Sendable, Equatable {
    /// All names and values, in `bytes[0..<byteCount]`; what follows is slack (zeros, or an earlier head's bytes when
    /// the list is reused), never read: `withBytes`, `name` and `value` stop at `byteCount`. The array is
    /// kept at its grown size and written through a pointer: `Array.append(contentsOf:)` cost ~100 instructions a
    /// call, and a head takes two per field.
    @usableFromInline private(set) var bytes: [UInt8] = []
    /// Octets of `bytes` in use; where the decoder starts writing the next name.
    public private(set) var byteCount = 0
    /// The fields in order of arrival.
    public private(set) var fields: [HTTP2HeaderField] = []
    /// RFC 9113 §6.5.2 size of every field appended, dropped ones included: name + value + 32 each.
    public private(set) var decodedSize = 0

    /// Creates an empty list.
    public init() {}

    /// Creates an empty list with room for `bytes` octets of names and values and `fields` fields, so decoding a
    /// typical head costs these two allocations instead of one per growth.
    public init(reservingBytes bytes: Int, fields: Int) {
        self.bytes = [UInt8](repeating: 0, count: bytes)
        self.fields.reserveCapacity(fields)
    }

    /// Creates a list from (name, value) strings, for responses and tests.
    public init(_ pairs: [(String, String)]) {
        for (name, value) in pairs { append(name: Array(name.utf8), value: Array(value.utf8)) }
    }

    /// Number of fields.
    public var count: Int { fields.count }

    /// Appends a field. Names must already be lowercase for HTTP/2 (RFC 9113 §8.2.1); nothing is checked here.
    public mutating func append(name: some Collection<UInt8>, value: some Collection<UInt8>, neverIndex: Bool = false) {
        let nameStart = byteCount
        appendBytes(name)
        let valueStart = byteCount
        appendBytes(value)
        commit(nameStart: nameStart, valueStart: valueStart, neverIndex: neverIndex)
    }

    /// Appends a field whose name is lowercased on the way in (an HTTP/1.1 head's names for HTTP/2, §8.2.1):
    /// both copied with memcpy, the name then lowercased in place.
    public mutating func append(lowercasingName name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let nameStart = byteCount
        let valueStart = nameStart + name.count
        reserveTail(name.count + value.count)
        bytes.withUnsafeMutableBytes { all in
            let to = all.baseAddress!
            if !name.isEmpty { (to + nameStart).copyMemory(from: name.baseAddress!, byteCount: name.count) }
            Self.lowercaseASCII(UnsafeMutableRawBufferPointer(rebasing: all[nameStart..<valueStart]))
            if !value.isEmpty { (to + valueStart).copyMemory(from: value.baseAddress!, byteCount: value.count) }
        }
        byteCount = valueStart + value.count
        commit(nameStart: nameStart, valueStart: valueStart, neverIndex: false)
    }

    /// Lowercases the ASCII letters of `bytes` in place, eight octets at a time (a loop per octet was ~5
    /// instructions an octet, on every response field name). Octets from 0x80 are left alone.
    @inline(__always)
    static func lowercaseASCII(_ bytes: UnsafeMutableRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var i = 0
        while i + 8 <= bytes.count {
            let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let low = word & 0x7F7F_7F7F_7F7F_7F7F
            // High bit of each octet: at least "A" (0x41) and not above "Z" (0x5A), and the octet itself below 0x80.
            let atLeastA = low &+ 0x3F3F_3F3F_3F3F_3F3F
            let aboveZ = low &+ 0x2525_2525_2525_2525
            let upper = atLeastA & ~aboveZ & ~word & 0x8080_8080_8080_8080
            if upper != 0 { base.storeBytes(of: word | upper &>> 2, toByteOffset: i, as: UInt64.self) }
            i += 8
        }
        while i < bytes.count {
            let byte = base.load(fromByteOffset: i, as: UInt8.self)
            if byte >= 0x41 && byte <= 0x5A { base.storeBytes(of: byte | 0x20, toByteOffset: i, as: UInt8.self) }
            i += 1
        }
    }

    /// Appends a field given as strings.
    public mutating func append(_ name: String, _ value: String) {
        append(name: name.utf8, value: value.utf8)
    }

    /// Empties the list, keeping its buffers.
    public mutating func removeAll() {
        byteCount = 0
        fields.removeAll(keepingCapacity: true)
        decodedSize = 0
    }

    /// The name of field `i`.
    public func name(_ i: Int) -> ArraySlice<UInt8> {
        bytes[fields[i].nameRange]
    }

    /// The value of field `i`.
    public func value(_ i: Int) -> ArraySlice<UInt8> {
        bytes[fields[i].valueRange]
    }

    /// Where field `i`'s name lies in the bytes `withBytes` lends (reading in place: a slice retains the storage).
    @inlinable
    public func nameRange(_ i: Int) -> Range<Int> {
        fields[i].nameRange
    }

    /// Where field `i`'s value lies in the bytes `withBytes` lends.
    @inlinable
    public func valueRange(_ i: Int) -> Range<Int> {
        fields[i].valueRange
    }

    /// The value of the first field named `name` (exact bytes; HTTP/2 names are lowercase).
    public func first(_ name: String) -> ArraySlice<UInt8>? {
        for i in fields.indices where self.name(i).equalsBytes(name.utf8) { return value(i) }
        return nil
    }

    /// The fields as strings, for tests and logs (invalid UTF-8 shows as replacement characters).
    public var pairs: [(name: String, value: String)] {
        fields.indices.map { (String(decoding: name($0), as: UTF8.self), String(decoding: value($0), as: UTF8.self)) }
    }

    // MARK: - Decoder support

    /// Appends raw bytes for a field under construction.
    mutating func appendBytes(_ source: UnsafeRawBufferPointer) {
        guard !source.isEmpty else { return }
        reserveTail(source.count)
        let at = byteCount
        bytes.withUnsafeMutableBytes { ($0.baseAddress! + at).copyMemory(from: source.baseAddress!, byteCount: source.count) }
        byteCount += source.count
    }

    /// Appends a name and a value back to back (a table entry): one reservation and one borrow of the storage.
    mutating func appendBytes(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) {
        reserveTail(first.count + second.count)
        let at = byteCount
        bytes.withUnsafeMutableBytes { all in
            let to = all.baseAddress! + at
            if !first.isEmpty { to.copyMemory(from: first.baseAddress!, byteCount: first.count) }
            if !second.isEmpty { (to + first.count).copyMemory(from: second.baseAddress!, byteCount: second.count) }
        }
        byteCount += first.count + second.count
    }

    /// Appends bytes of any collection (strings in tests, table slices) for a field under construction.
    mutating func appendBytes(_ source: some Collection<UInt8>) {
        let copied: Void? = source.withContiguousStorageIfAvailable { appendBytes(UnsafeRawBufferPointer($0)) }
        guard copied == nil else { return }
        reserveTail(source.count)
        for byte in source {
            bytes[byteCount] = byte
            byteCount += 1
        }
    }

    /// Appends the Huffman decoding of `source` for a field under construction.
    mutating func appendHuffman(_ source: UnsafeRawBufferPointer) -> Huffman.DecodeError? {
        reserveTail(Huffman.decodedBound(source.count))
        let start = byteCount
        let outcome = bytes.withUnsafeMutableBytes { all in
            Huffman.decode(source, into: UnsafeMutableRawBufferPointer(rebasing: all[start...]))
        }
        switch outcome {
        case .success(let written):
            byteCount += written
            return nil
        case .failure(let error):
            return error
        }
    }

    /// The names and values in use, read in place (slicing the list per field retained its storage twice).
    @inlinable
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let used = byteCount
        return try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<used])) }
    }

    /// Makes room for `count` more octets after `byteCount`.
    @inline(__always)
    private mutating func reserveTail(_ count: Int) {
        if bytes.count - byteCount < count { grow(count) }
    }

    @inline(never)
    private mutating func grow(_ count: Int) {
        let size = Swift.max(byteCount + count, bytes.count * 2, 256)
        bytes.append(contentsOf: repeatElement(0, count: size - bytes.count))
    }

    /// Turns the bytes written since `nameStart` into a field whose value starts at `valueStart`.
    mutating func commit(nameStart: Int, valueStart: Int, neverIndex: Bool) {
        fields.append(
            HTTP2HeaderField(
                nameStart: Int32(nameStart), nameLength: Int32(valueStart - nameStart), valueStart: Int32(valueStart),
                valueLength: Int32(byteCount - valueStart), neverIndex: neverIndex))
        decodedSize += byteCount - nameStart + HPACKDynamicTable.entryOverhead
    }

    /// Drops bytes of a field that turned out incomplete.
    mutating func truncate(to count: Int) { byteCount = count }

    /// Counts a field that is not kept (the list is over its limit) and drops its bytes from `nameStart`.
    mutating func discard(from nameStart: Int) {
        decodedSize += byteCount - nameStart + HPACKDynamicTable.entryOverhead
        byteCount = nameStart
    }

    public static func == (a: HTTP2HeaderList, b: HTTP2HeaderList) -> Bool {
        a.count == b.count && a.fields.indices.allSatisfy { a.name($0) == b.name($0) && a.value($0) == b.value($0) }
    }
}
