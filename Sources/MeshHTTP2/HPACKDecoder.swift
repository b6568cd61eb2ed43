/// HPACK decoder (RFC 7541 §6) for one direction of one connection.
///
/// Resumable: `decode` takes the field block bytes received so far and decodes every complete representation,
/// returning how many octets it used; the caller keeps the rest and calls again with more. That lets the
/// connection measure a block's decoded size before END_HEADERS (SPEC §10: a block passing `max_header_bytes`
/// before END_HEADERS is an HPACK bomb or CONTINUATION flood) without buffering it whole.
///
/// Fields past `maxListSize` are still decoded — the dynamic table must stay in step with the peer's encoder —
/// but their bytes are dropped; `HTTP2HeaderList.decodedSize` tells the caller the list went over.
public struct HPACKDecoder: Sendable {
    /// A decoding error: RFC 9113 §4.3 makes each a connection error of type COMPRESSION_ERROR.
    public enum DecodeError: Error, Sendable, Equatable {
        /// Index 0, or an index past the static and dynamic tables (RFC 7541 §2.3.3).
        case invalidIndex
        /// An integer or string length over 2^31−1.
        case integerOverflow
        /// A malformed Huffman string (RFC 7541 §5.2).
        case huffman(Huffman.DecodeError)
        /// A dynamic table size update above SETTINGS_HEADER_TABLE_SIZE (RFC 7541 §6.3).
        case tableSizeTooLarge
        /// A dynamic table size update after a field in the same block (RFC 7541 §4.2).
        case tableSizeUpdateNotAtStart
        /// The block ended inside a representation.
        case truncated
    }

    /// The dynamic table (read-only outside; tests inspect it).
    public private(set) var table: HPACKDynamicTable
    /// The largest size a table size update may ask for: our SETTINGS_HEADER_TABLE_SIZE.
    public let maxTableSize: Int
    /// Decoded size (RFC 9113 §6.5.2) beyond which fields are dropped instead of kept.
    public var maxListSize: Int
    private var atBlockStart = true

    /// Creates a decoder whose table may grow to `maxTableSize` (and starts at that size, RFC 7541 §4.2).
    public init(maxTableSize: Int = 4096, maxListSize: Int = .max) {
        self.maxTableSize = maxTableSize
        self.maxListSize = maxListSize
        self.table = HPACKDynamicTable(maxSize: maxTableSize)
    }

    /// Marks the start of a new field block (size updates are allowed only before its first field).
    public mutating func beginBlock() { atBlockStart = true }

    /// Decodes a whole block (`beginBlock` included); a block ending inside a representation is `.truncated`.
    public mutating func decodeBlock(_ block: UnsafeRawBufferPointer, into list: inout HTTP2HeaderList) -> DecodeError? {
        beginBlock()
        switch decode(block, into: &list) {
        case .failure(let error): return error
        case .success(let used): return used == block.count ? nil : .truncated
        }
    }

    /// Decodes the complete representations at the start of `buffer` into `list`; returns the octets used.
    public mutating func decode(_ buffer: UnsafeRawBufferPointer, into list: inout HTTP2HeaderList)
        -> Result<Int, DecodeError>
    {
        var i = 0
        while i < buffer.count {
            let first = buffer[i]
            let step: Step
            if first & 0x80 != 0 {
                step = indexed(buffer, at: i, into: &list)
            } else if first & 0x40 != 0 {
                step = literal(buffer, at: i, prefixBits: 6, indexing: true, neverIndex: false, into: &list)
            } else if first & 0x20 != 0 {
                step = sizeUpdate(buffer, at: i)
            } else {
                step = literal(buffer, at: i, prefixBits: 4, indexing: false, neverIndex: first & 0x10 != 0, into: &list)
            }
            switch step {
            case .next(let next): i = next
            case .incomplete: return .success(i)
            case .failed(let error): return .failure(error)
            }
        }
        return .success(i)
    }

    private enum Step {
        case next(Int)
        case incomplete
        case failed(DecodeError)
    }

    /// Indexed Header Field (RFC 7541 §6.1).
    private mutating func indexed(_ buffer: UnsafeRawBufferPointer, at i: Int, into list: inout HTTP2HeaderList) -> Step {
        switch HPACKInteger.decode(buffer, at: i, prefixBits: 7) {
        case .incomplete: return .incomplete
        case .overflow: return .failed(.integerOverflow)
        case .value(let index, let next):
            atBlockStart = false
            let nameStart = list.byteCount
            guard let valueStart = appendEntry(index, into: &list, withValue: true) else { return .failed(.invalidIndex) }
            finish(&list, nameStart: nameStart, valueStart: valueStart, indexing: false, neverIndex: false)
            return .next(next)
        }
    }

    /// Literal Header Field with or without indexing, or never indexed (RFC 7541 §6.2).
    private mutating func literal(
        _ buffer: UnsafeRawBufferPointer, at i: Int, prefixBits: Int, indexing: Bool, neverIndex: Bool,
        into list: inout HTTP2HeaderList
    ) -> Step {
        let nameStart = list.byteCount
        var position: Int
        switch HPACKInteger.decode(buffer, at: i, prefixBits: prefixBits) {
        case .incomplete: return .incomplete
        case .overflow: return .failed(.integerOverflow)
        case .value(let index, let next):
            position = next
            if index == 0 {
                switch readString(buffer, at: position, into: &list) {
                case .next(let after): position = after
                case .incomplete: return rollback(&list, to: nameStart)
                case .failed(let error): return .failed(error)
                }
            } else if appendEntry(index, into: &list, withValue: false) == nil {
                return .failed(.invalidIndex)
            }
        }
        let valueStart = list.byteCount
        switch readString(buffer, at: position, into: &list) {
        case .next(let after): position = after
        case .incomplete: return rollback(&list, to: nameStart)
        case .failed(let error): return .failed(error)
        }
        atBlockStart = false
        finish(&list, nameStart: nameStart, valueStart: valueStart, indexing: indexing, neverIndex: neverIndex)
        return .next(position)
    }

    /// Dynamic Table Size Update (RFC 7541 §6.3).
    private mutating func sizeUpdate(_ buffer: UnsafeRawBufferPointer, at i: Int) -> Step {
        switch HPACKInteger.decode(buffer, at: i, prefixBits: 5) {
        case .incomplete: return .incomplete
        case .overflow: return .failed(.integerOverflow)
        case .value(let size, let next):
            guard atBlockStart else { return .failed(.tableSizeUpdateNotAtStart) }
            guard size <= maxTableSize else { return .failed(.tableSizeTooLarge) }
            table.resize(size)
            return .next(next)
        }
    }

    /// String Literal (RFC 7541 §5.2), appended to `list`'s bytes.
    private func readString(_ buffer: UnsafeRawBufferPointer, at i: Int, into list: inout HTTP2HeaderList) -> Step {
        guard i < buffer.count else { return .incomplete }
        let huffman = buffer[i] & 0x80 != 0
        switch HPACKInteger.decode(buffer, at: i, prefixBits: 7) {
        case .incomplete: return .incomplete
        case .overflow: return .failed(.integerOverflow)
        case .value(let length, let start):
            // Checked before decoding, so a string split across frames is re-read only once it is all there.
            guard buffer.count - start >= length else { return .incomplete }
            let source = UnsafeRawBufferPointer(rebasing: buffer[start..<(start + length)])
            if huffman {
                if let error = list.appendHuffman(source) { return .failed(.huffman(error)) }
            } else {
                list.appendBytes(source)
            }
            return .next(start + length)
        }
    }

    /// Appends the name (and value) of table entry `index`; returns where the value starts, nil for a bad index.
    private func appendEntry(_ index: Int, into list: inout HTTP2HeaderList, withValue: Bool) -> Int? {
        let nameStart = list.byteCount
        if index >= 1 && index <= HPACKStaticTable.count {
            let (name, value) = HPACKStaticTable.entry(index)
            if withValue { list.appendBytes(name, value) } else { list.appendBytes(name) }
            return nameStart + name.count
        }
        guard let entry = table.entry(index - HPACKStaticTable.count) else { return nil }
        // Read in place: slices of the table's storage retained and released it per field.
        table.withBytes { bytes in
            let name = UnsafeRawBufferPointer(rebasing: bytes[entry.name])
            if withValue {
                list.appendBytes(name, UnsafeRawBufferPointer(rebasing: bytes[entry.value]))
            } else {
                list.appendBytes(name)
            }
        }
        return nameStart + entry.name.count
    }

    private func rollback(_ list: inout HTTP2HeaderList, to nameStart: Int) -> Step {
        list.truncate(to: nameStart)
        return .incomplete
    }

    /// Indexes the field if asked, then keeps it in the list, or drops it once the list is over `maxListSize`.
    private mutating func finish(
        _ list: inout HTTP2HeaderList, nameStart: Int, valueStart: Int, indexing: Bool, neverIndex: Bool
    ) {
        if indexing {
            list.withBytes { all in
                table.insert(
                    name: UnsafeRawBufferPointer(rebasing: all[nameStart..<valueStart]),
                    value: UnsafeRawBufferPointer(rebasing: all[valueStart...]))
            }
        }
        let fieldSize = list.byteCount - nameStart + HPACKDynamicTable.entryOverhead
        if list.decodedSize + fieldSize > maxListSize {
            list.discard(from: nameStart)
        } else {
            list.commit(nameStart: nameStart, valueStart: valueStart, neverIndex: neverIndex)
        }
    }
}
