/// The `trace-flags` byte of `traceparent`.
public struct TraceFlags: OptionSet, Sendable, Hashable {
    /// The byte.
    public let rawValue: UInt8
    /// Creates flags from the byte.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Bit 0, `sampled` (Level 1).
    public static let sampled = TraceFlags(rawValue: 0x01)
    /// Bit 1, `random` trace-id (Level 2).
    public static let random = TraceFlags(rawValue: 0x02)
    /// Bits this implementation propagates; unknown bits MUST NOT be forwarded (W3C §3.2.2.5).
    public static let known: TraceFlags = [.sampled, .random]
}

/// A parsed W3C `traceparent` (Trace Context Level 1, SPEC §5): `version-traceid-parentid-flags`.
public struct TraceParent: Sendable, Hashable {
    /// Length of a version-00 header value: 2 + 1 + 32 + 1 + 16 + 1 + 2.
    public static let length = 55

    /// The version received (00, or a higher one parsed by its first four fields); `format` always emits 00.
    public let version: UInt8
    /// The trace-id (never all-zero).
    public let traceID: TraceID
    /// The parent-id (never all-zero).
    public let parentID: SpanID
    /// The flags as received.
    public let flags: TraceFlags

    /// Creates a version-00 traceparent; the ids must be valid.
    public init(traceID: TraceID, parentID: SpanID, flags: TraceFlags) {
        precondition(traceID.isValid && parentID.isValid, "W3C forbids all-zero trace-id and parent-id")
        self.init(version: 0, traceID: traceID, parentID: parentID, flags: flags)
    }

    private init(version: UInt8, traceID: TraceID, parentID: SpanID, flags: TraceFlags) {
        self.version = version
        self.traceID = traceID
        self.parentID = parentID
        self.flags = flags
    }

    /// True when the sampled flag is set.
    public var sampled: Bool { flags.contains(.sampled) }

    /// The header this hop forwards: same trace-id, `newSpan` as parent-id, version 00, only known flags kept.
    public func child(newSpan: SpanID) -> TraceParent {
        TraceParent(traceID: traceID, parentID: newSpan, flags: flags.intersection(.known))
    }

    /// Parses a header value; nil when invalid (SPEC §5, W3C §3.2 and §4.3).
    ///
    /// Leading and trailing SP/HTAB are ignored (HTTP OWS). Invalid: wrong length or delimiters, any byte that is
    /// not lowercase hex, all-zero trace-id or parent-id, version `ff`, version 00 followed by anything. A higher
    /// version is parsed by its first four fields; anything after them must start with `-`.
    public static func parse(_ header: UnsafeRawBufferPointer) -> TraceParent? {
        var start = 0
        var end = header.count
        while start < end, isOWS(header[start]) { start += 1 }
        while end > start, isOWS(header[end - 1]) { end -= 1 }
        let bytes = UnsafeRawBufferPointer(rebasing: header[start..<end])
        guard bytes.count >= length,
            bytes[2] == dash, bytes[35] == dash, bytes[52] == dash,
            let version = Hex.parse(bytes, at: 0, count: 2), version != 0xFF,
            let high = Hex.parse(bytes, at: 3, count: 16), let low = Hex.parse(bytes, at: 19, count: 16),
            let parent = Hex.parse(bytes, at: 36, count: 16),
            let flags = Hex.parse(bytes, at: 53, count: 2)
        else { return nil }
        if version == 0 {
            guard bytes.count == length else { return nil }
        } else if bytes.count > length, bytes[length] != dash {
            return nil
        }
        let traceID = TraceID(high: high, low: low)
        let parentID = SpanID(parent)
        guard traceID.isValid, parentID.isValid else { return nil }
        return TraceParent(
            version: UInt8(version), traceID: traceID, parentID: parentID, flags: TraceFlags(rawValue: UInt8(flags)))
    }

    /// `parse` for a string value.
    public static func parse(_ header: some StringProtocol) -> TraceParent? {
        var copy = String(header)
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// The incoming context from all `traceparent` field lines of a request: nil unless there is exactly one line
    /// and it parses (several lines are invalid: the field is not a list).
    public static func parse<Lines: Sequence>(lines: Lines) -> TraceParent?
    where Lines.Element == UnsafeRawBufferPointer {
        var iterator = lines.makeIterator()
        guard let first = iterator.next(), iterator.next() == nil else { return nil }
        return parse(first)
    }

    /// Writes the 55-byte version-00 value (`00-<trace-id>-<parent-id>-<flags>`); returns 55.
    ///
    /// - Precondition: `out.count >= 55`.
    @discardableResult
    public func format(into out: UnsafeMutableRawBufferPointer) -> Int {
        precondition(out.count >= Self.length, "traceparent needs 55 bytes")
        out[0] = UInt8(ascii: "0")
        out[1] = UInt8(ascii: "0")
        out[2] = Self.dash
        Hex.write(traceID.high, count: 16, into: out, at: 3)
        Hex.write(traceID.low, count: 16, into: out, at: 19)
        out[35] = Self.dash
        Hex.write(parentID.value, count: 16, into: out, at: 36)
        out[52] = Self.dash
        Hex.write(UInt64(flags.rawValue), count: 2, into: out, at: 53)
        return Self.length
    }

    /// The formatted value as a String (tests, logs).
    public var headerValue: String {
        String(unsafeUninitializedCapacity: Self.length) { format(into: UnsafeMutableRawBufferPointer($0)) }
    }

    static let dash = UInt8(ascii: "-")

    @inline(__always)
    static func isOWS(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }
}
