/// One field line of a head, as offsets into the buffer the parser was given (picohttpparser-style borrowing).
///
/// The caller owns the bytes; the offsets stay valid as long as the buffer holds the same head at the same start.
/// The value has its leading and trailing OWS (SP/HTAB) trimmed (RFC 9112 §5.1); it may be empty.
public struct HTTPHeaderField: Sendable, Equatable {
    /// Offset of the field name's first byte.
    public var nameStart: Int32
    /// Length of the field name (never 0).
    public var nameLength: Int32
    /// Offset of the trimmed value's first byte (the end of the line's content when the value is empty).
    public var valueStart: Int32
    /// Length of the trimmed value.
    public var valueLength: Int32
    /// The name classified case-insensitively; `.other` for names the gateway does not look at.
    public var known: KnownHeader

    /// Creates a field from offsets.
    public init(nameStart: Int32, nameLength: Int32, valueStart: Int32, valueLength: Int32, known: KnownHeader) {
        self.nameStart = nameStart
        self.nameLength = nameLength
        self.valueStart = valueStart
        self.valueLength = valueLength
        self.known = known
    }

    /// An all-zero field, for initialising caller-owned header arrays.
    public static let empty = HTTPHeaderField(nameStart: 0, nameLength: 0, valueStart: 0, valueLength: 0, known: .other)

    /// The name's bytes inside `buffer` (the buffer the field was parsed from).
    public func name(in buffer: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[Int(nameStart)..<Int(nameStart + nameLength)])
    }

    /// The trimmed value's bytes inside `buffer` (the buffer the field was parsed from).
    public func value(in buffer: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[Int(valueStart)..<Int(valueStart + valueLength)])
    }
}
