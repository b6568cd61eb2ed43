import Glibc

/// The encoder's memory of fields it coded recently on one connection: the field's octets and the representation
/// it produced. The encoder adds nothing to the dynamic table (`HPACKEncoder`), so a field's representation depends
/// on the field alone and can be replayed: a proxy's answers repeat most of their fields (`server`,
/// `content-type`, the `date` of this second), and the static-table search and Huffman coding were a tenth of an
/// HTTP/2 request's instructions.
///
/// Two-way set-associative by the field's *name*: a name's fields go to one set of two slots, and a new value
/// replaces the slot holding the same name, so a field whose value never repeats (a request id) keeps one slot and
/// never pushes out another name's. A class so that its storage lives outside the codec's value (copied with it, the
/// memo is shared: harmless, a representation is a function of the field); unchecked Sendable because one
/// connection's codec is used by one thread.
final class EncodedFieldMemo: @unchecked Sendable {
    static let setCount = 16
    static let slotCount = 2 * setCount
    /// A slot: name length, value length, representation length (1 octet each), then the three byte strings.
    /// 64 octets hold the repeating fields of an answer (`date` with its coding is 59); a field that does not fit
    /// (a request id: 72) keeps only its literal name's representation (value length `nameOnly`) and its value is
    /// coded each time. The memo is 2 KiB of every h2 connection's memory.
    static let slotBytes = 64
    private static let header = 3

    private let storage: UnsafeMutableRawPointer

    init() {
        let bytes = Self.slotCount * Self.slotBytes
        storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 8)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    }

    deinit { storage.deallocate() }

    /// The representation recorded for exactly this field, if its set holds it.
    func lookup(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard fits(name, value, encoded: 0) else { return nil }
        let set = storage + Self.set(name) * 2 * Self.slotBytes
        if let found = Self.representation(in: set, name, value) { return found }
        return Self.representation(in: set + Self.slotBytes, name, value)
    }

    private static func representation(
        in slot: UnsafeRawPointer, _ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer
    ) -> UnsafeRawBufferPointer? {
        guard holds(slot, name), holds(slot, value: value, after: name) else { return nil }
        let encodedLength = Int(slot.load(fromByteOffset: 2, as: UInt8.self))
        return UnsafeRawBufferPointer(start: slot + header + name.count + value.count, count: encodedLength)
    }

    /// The representation of a literal name alone (`storeName`), for a name whose fields do not fit a slot.
    func lookupName(_ name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard !name.isEmpty, Self.header + name.count < Self.slotBytes else { return nil }
        let set = storage + Self.set(name) * 2 * Self.slotBytes
        // A name is in at most one slot of its set (`write`).
        let slot = Self.holds(set, name) ? set : set + Self.slotBytes
        guard Self.holds(slot, name), slot.load(fromByteOffset: 1, as: UInt8.self) == Self.nameOnly else { return nil }
        let encodedLength = Int(slot.load(fromByteOffset: 2, as: UInt8.self))
        return UnsafeRawBufferPointer(start: slot + Self.header + name.count, count: encodedLength)
    }

    /// Records `encoded` as the representation of the field, first in its set: over the entry of the same name, or
    /// pushing the first entry over the older one. False (nothing kept) when the three do not fit a slot.
    @discardableResult
    func store(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, encoded: UnsafeRawBufferPointer) -> Bool {
        guard fits(name, value, encoded: encoded.count) else { return false }
        write(name, valueLength: UInt8(value.count), value: value, encoded: encoded)
        return true
    }

    /// Records the representation of a literal name without its value: the octet pattern and the name's string
    /// literal, the same for every value (names of the static table are an index, coded cheaply each time).
    func storeName(_ name: UnsafeRawBufferPointer, encoded: UnsafeRawBufferPointer) {
        guard !name.isEmpty, Self.header + name.count + encoded.count <= Self.slotBytes else { return }
        write(name, valueLength: Self.nameOnly, value: UnsafeRawBufferPointer(start: nil, count: 0), encoded: encoded)
    }

    /// A value length no slot's value can have (a slot holds at most `slotBytes`): the slot holds a name alone.
    private static let nameOnly: UInt8 = 0xFF

    /// Fills the first slot of the name's set. The newer entry is first: unless it held this name, the first slot
    /// moves over the second (which is the older, or held this name), so a name is in one slot at most.
    private func write(
        _ name: UnsafeRawBufferPointer, valueLength: UInt8, value: UnsafeRawBufferPointer, encoded: UnsafeRawBufferPointer
    ) {
        let set = storage + Self.set(name) * 2 * Self.slotBytes
        if !Self.holds(set, name) { (set + Self.slotBytes).copyMemory(from: set, byteCount: Self.slotBytes) }
        let slot = set
        slot.storeBytes(of: UInt8(name.count), as: UInt8.self)
        slot.storeBytes(of: valueLength, toByteOffset: 1, as: UInt8.self)
        slot.storeBytes(of: UInt8(encoded.count), toByteOffset: 2, as: UInt8.self)
        let at = slot + Self.header
        Self.copy(name, to: at)
        Self.copy(value, to: at + name.count)
        Self.copy(encoded, to: at + name.count + value.count)
    }

    private static func holds(_ slot: UnsafeRawPointer, _ name: UnsafeRawBufferPointer) -> Bool {
        slot.load(as: UInt8.self) == name.count && same(slot + header, name)
    }

    private static func holds(_ slot: UnsafeRawPointer, value: UnsafeRawBufferPointer, after name: UnsafeRawBufferPointer) -> Bool {
        slot.load(fromByteOffset: 1, as: UInt8.self) == value.count && same(slot + header + name.count, value)
    }

    private static func copy(_ bytes: UnsafeRawBufferPointer, to at: UnsafeMutableRawPointer) {
        if !bytes.isEmpty { at.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
    }

    /// An empty name never comes from a parsed head; refused anyway, since it would match an empty slot.
    private func fits(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, encoded: Int) -> Bool {
        !name.isEmpty && Self.header + name.count + value.count + encoded <= Self.slotBytes
    }

    private static func same(_ stored: UnsafeRawPointer, _ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.isEmpty || memcmp(stored, bytes.baseAddress!, bytes.count) == 0
    }

    /// The set of a name: its length and up to eight octets from each end, mixed.
    private static func set(_ name: UnsafeRawBufferPointer) -> Int {
        let hash = (UInt64(name.count) ^ ends(name)) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: hash &>> 60) & (setCount - 1)
    }

    private static func ends(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard bytes.count >= 8 else {
            var word: UInt64 = 0
            for byte in bytes { word = word &<< 8 | UInt64(byte) }
            return word
        }
        let first = bytes.loadUnaligned(as: UInt64.self)
        let last = bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)
        return first ^ (last &<< 1 | last &>> 63)
    }
}
