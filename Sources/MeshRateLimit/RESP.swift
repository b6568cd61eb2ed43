/// A Redis reply (RESP2, plus RESP3's `_` null, which RESP2 servers never send).
public indirect enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    case error(String)
    case integer(Int64)
    /// nil: the null bulk string (`$-1`).
    case bulk([UInt8]?)
    /// nil: the null array (`*-1`).
    case array([RESPValue]?)
    /// RESP3 `_`.
    case null

    /// The integer of an `:n` reply, or of a bulk string holding a decimal number.
    public var intValue: Int64? {
        switch self {
        case .integer(let value): value
        case .bulk(let bytes?): Int64(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }
}

/// Encodes commands as RESP arrays of bulk strings (the only form a client sends).
public enum RESPEncoder {
    /// Appends `*<n>\r\n` then `$<len>\r\n<arg>\r\n` per argument.
    public static func appendCommand(_ arguments: [[UInt8]], to out: inout [UInt8]) {
        out.append(0x2A)
        RateLimitHeaders.appendDecimal(arguments.count, to: &out)
        out += [0x0D, 0x0A]
        for argument in arguments {
            out.append(0x24)
            RateLimitHeaders.appendDecimal(argument.count, to: &out)
            out += [0x0D, 0x0A]
            out += argument
            out += [0x0D, 0x0A]
        }
    }

    /// One command from string arguments (control paths and tests).
    public static func command(_ arguments: String...) -> [UInt8] {
        var out: [UInt8] = []
        appendCommand(arguments.map { Array($0.utf8) }, to: &out)
        return out
    }
}

/// Why a reply stream was rejected; the connection must be closed (its framing can no longer be trusted).
public enum RESPError: Error, Sendable, Equatable {
    case unknownType(UInt8)
    case badLength
    case badInteger
    case missingCRLF
    case tooLarge
    case tooDeep
}

/// Incremental decoder of replies: feed bytes as they arrive, take complete values out.
///
/// Bounded: a bulk string over `maxBulkBytes`, an array over `maxArrayCount` elements, nesting deeper than
/// `maxDepth` or a line (simple string, error, integer, length) longer than `maxLineBytes` is an error rather
/// than a reason to buffer without end. A partial value is parsed again from its start when more bytes come;
/// replies of a rate limiter are a few dozen bytes, so that costs nothing worth a resumable parser.
public struct RESPDecoder: Sendable {
    public var maxBulkBytes = 1 << 20
    public var maxArrayCount = 1024
    public var maxDepth = 8
    public var maxLineBytes = 4096
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Bytes received and not yet consumed.
    public var buffered: Int { buffer.count - start }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The next complete reply, nil when more bytes are needed; throws on malformed input.
    public mutating func next() throws(RESPError) -> RESPValue? {
        var at = start
        guard let value = try parse(&at, depth: 0) else { return nil }
        start = at
        if start > 4096 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        return value
    }

    private func parse(_ at: inout Int, depth: Int) throws(RESPError) -> RESPValue? {
        guard depth <= maxDepth else { throw .tooDeep }
        guard at < buffer.count else { return nil }
        let type = buffer[at]
        var cursor = at + 1
        guard let line = try readLine(&cursor) else { return nil }
        switch type {
        case 0x2B:  // +
            at = cursor
            return .simpleString(String(decoding: buffer[line], as: UTF8.self))
        case 0x2D:  // -
            at = cursor
            return .error(String(decoding: buffer[line], as: UTF8.self))
        case 0x3A:  // :
            at = cursor
            return .integer(try integer(line))
        case 0x5F:  // _
            guard line.isEmpty else { throw .badLength }
            at = cursor
            return .null
        case 0x24:  // $
            return try bulk(line, &cursor, &at)
        case 0x2A:  // *
            return try array(line, &cursor, &at, depth: depth)
        default:
            throw .unknownType(type)
        }
    }

    private func bulk(_ line: Range<Int>, _ cursor: inout Int, _ at: inout Int) throws(RESPError) -> RESPValue? {
        let length = try integer(line)
        if length == -1 {
            at = cursor
            return .bulk(nil)
        }
        guard length >= 0 else { throw .badLength }
        guard length <= maxBulkBytes else { throw .tooLarge }
        let end = cursor + Int(length)
        guard end + 2 <= buffer.count else { return nil }
        guard buffer[end] == 0x0D, buffer[end + 1] == 0x0A else { throw .missingCRLF }
        at = end + 2
        return .bulk(Array(buffer[cursor..<end]))
    }

    private func array(_ line: Range<Int>, _ cursor: inout Int, _ at: inout Int, depth: Int) throws(RESPError)
        -> RESPValue?
    {
        let count = try integer(line)
        if count == -1 {
            at = cursor
            return .array(nil)
        }
        guard count >= 0 else { throw .badLength }
        guard count <= maxArrayCount else { throw .tooLarge }
        var items: [RESPValue] = []
        items.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let item = try parse(&cursor, depth: depth + 1) else { return nil }
            items.append(item)
        }
        at = cursor
        return .array(items)
    }

    /// The range of the line starting at `cursor` (without CRLF); moves `cursor` past the CRLF.
    private func readLine(_ cursor: inout Int) throws(RESPError) -> Range<Int>? {
        var i = cursor
        let limit = min(buffer.count, cursor + maxLineBytes + 2)
        while i < limit {
            if buffer[i] == 0x0A { break }
            i += 1
        }
        guard i < limit else {
            if limit - cursor >= maxLineBytes + 2 { throw .tooLarge }
            return nil
        }
        guard i > cursor, buffer[i - 1] == 0x0D else { throw .missingCRLF }
        defer { cursor = i + 1 }
        return cursor..<(i - 1)
    }

    private func integer(_ line: Range<Int>) throws(RESPError) -> Int64 {
        guard !line.isEmpty, line.count <= 20 else { throw .badInteger }
        var value: Int64 = 0
        var negative = false
        for (offset, index) in line.enumerated() {
            let byte = buffer[index]
            if offset == 0 && (byte == 0x2D || byte == 0x2B) {
                negative = byte == 0x2D
                guard line.count > 1 else { throw .badInteger }
                continue
            }
            guard byte >= 0x30 && byte <= 0x39 else { throw .badInteger }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - 0x30))
            guard !overflow1 && !overflow2 else { throw .badInteger }
            value = sum
        }
        return negative ? -value : value
    }
}
