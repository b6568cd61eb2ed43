import Glibc  // Int64(exactly:) on Double needs libm (trunc) at link time

/// Strings, numbers and literals (RFC 8259 §3, §6, §7) and RFC 3629 UTF-8 validation.
extension JSONParser {
    /// Parses a string, number or literal at the cursor.
    mutating func parseScalar() throws(JSONSyntaxError) -> JSONNode {
        guard !atEnd else { throw error("unexpected end of input: expected a value") }
        let start = position
        switch peek {
        case UInt8(ascii: "\""):
            return JSONNode(value: .string(try parseString()), position: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSONNode(value: .number(try parseNumber()), position: start)
        case UInt8(ascii: "t"): return JSONNode(value: .bool(true), position: try literal("true"))
        case UInt8(ascii: "f"): return JSONNode(value: .bool(false), position: try literal("false"))
        case UInt8(ascii: "n"): return JSONNode(value: .null, position: try literal("null"))
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            throw error("NaN and Infinity are not valid JSON numbers")
        case UInt8(ascii: "/"): throw error("comments are not allowed in JSON")
        case UInt8(ascii: "'"): throw error("strings must use double quotes")
        default: throw error("expected a value, found \(found)")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) -> JSONPosition {
        let start = position
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count,
            (0..<count).allSatisfy({ bytes[index + $0] == word.utf8Start[$0] })
        else { throw error("invalid literal: expected true, false or null") }
        index += count
        return start
    }

    // MARK: - Numbers

    /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    mutating func parseNumber() throws(JSONSyntaxError) -> JSONNumber {
        let start = index
        let startPosition = position
        if peek == UInt8(ascii: "-") { index += 1 }
        guard !atEnd, isDigit(peek) else { throw error("expected a digit after '-', found \(found)") }
        if peek == UInt8(ascii: "0") {
            index += 1
            if !atEnd, isDigit(peek) { throw error("leading zeros are not allowed", at: position(at: index - 1)) }
        } else {
            skipDigits()
        }
        var integral = true
        if !atEnd, peek == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard !atEnd, isDigit(peek) else { throw error("expected a digit after '.', found \(found)") }
            skipDigits()
        }
        if !atEnd, peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            integral = false
            index += 1
            if !atEnd, peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard !atEnd, isDigit(peek) else { throw error("expected a digit in the exponent, found \(found)") }
            skipDigits()
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let double = Double(text), double.isFinite else {
            throw error("number \(text) is out of range", at: startPosition)
        }
        var int: Int64? = nil
        if integral {
            int = Int64(text)
        } else if abs(double) <= 9_007_199_254_740_992 {
            // Only up to 2^53 is every integer exact in a Double; `exactly` is nil for a fraction.
            int = Int64(exactly: double)
        }
        return JSONNumber(text: text, double: double, int: int)
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while !atEnd, isDigit(peek) { index += 1 }
    }

    // MARK: - Strings

    /// Parses a string starting at its opening quote; leaves the cursor after the closing quote.
    mutating func parseString() throws(JSONSyntaxError) -> String {
        index += 1
        let contentStart = index
        // Fast path: plain ASCII without escapes needs no scratch buffer.
        while !atEnd {
            let byte = peek
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(
                    decoding: UnsafeRawBufferPointer(rebasing: bytes[contentStart..<index - 1]), as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { break }
            index += 1
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[contentStart..<index]))
        while true {
            guard !atEnd else { throw error("unterminated string: expected '\"' before the end of input") }
            let byte = peek
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape()
            case 0..<0x20:
                // RFC 8259 §7: control characters must be escaped.
                throw error("control character U+00\(hex2(byte)) must be escaped in a string")
            case 0x20..<0x80:
                scratch.append(byte)
                index += 1
            default:
                try copyUTF8Sequence()
            }
        }
    }

    private mutating func parseEscape() throws(JSONSyntaxError) {
        let escapePosition = position
        index += 1
        guard !atEnd else { throw error("unterminated string: expected an escape after '\\'") }
        let byte = peek
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(byte)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"): try parseUnicodeEscape(at: escapePosition)
        default: throw error("invalid escape '\\\(Character(Unicode.Scalar(byte)))'", at: escapePosition)
        }
    }

    /// `\uXXXX`, combining a UTF-16 surrogate pair written as two escapes (RFC 8259 §7). Lone surrogates are errors
    /// because they cannot be represented in UTF-8.
    private mutating func parseUnicodeEscape(at escapePosition: JSONPosition) throws(JSONSyntaxError) {
        let unit = try hex4(escapePosition)
        var scalar = UInt32(unit)
        if (0xDC00...0xDFFF).contains(unit) {
            throw error(
                "lone low surrogate \\u\(hex2(UInt8(unit >> 8)))\(hex2(UInt8(unit & 0xFF)))", at: escapePosition)
        }
        if (0xD800...0xDBFF).contains(unit) {
            let isPair =
                bytes.count - index >= 6 && bytes[index] == UInt8(ascii: "\\")
                && bytes[index + 1] == UInt8(ascii: "u")
            guard isPair else {
                throw error(
                    "lone high surrogate: \\uD800-\\uDBFF must be followed by \\uDC00-\\uDFFF", at: escapePosition)
            }
            let lowPosition = position
            index += 2
            let low = try hex4(lowPosition)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw error(
                    "lone high surrogate: \\uD800-\\uDBFF must be followed by \\uDC00-\\uDFFF", at: escapePosition)
            }
            scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
        }
        // Surrogates were combined above, so `scalar` is a valid Unicode scalar value.
        scratch.append(contentsOf: Unicode.Scalar(scalar)!.utf8)
    }

    private mutating func hex4(_ escapePosition: JSONPosition) throws(JSONSyntaxError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard !atEnd else { throw error("invalid \\u escape: expected 4 hex digits", at: escapePosition) }
            let byte = peek
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape: expected 4 hex digits", at: escapePosition)
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    /// Validates one multi-byte UTF-8 sequence (RFC 3629 §4: no overlongs, no surrogates, ≤ U+10FFFF) and copies it.
    private mutating func copyUTF8Sequence() throws(JSONSyntaxError) {
        let lead = peek
        let continuation: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: continuation = 1
        case 0xE0: continuation = 2; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: continuation = 2
        case 0xED: continuation = 2; secondRange = 0x80...0x9F
        case 0xF0: continuation = 3; secondRange = 0x90...0xBF
        case 0xF1...0xF3: continuation = 3
        case 0xF4: continuation = 3; secondRange = 0x80...0x8F
        default: throw error("invalid UTF-8: byte 0x\(hex2(lead)) cannot start a character")
        }
        guard bytes.count - index > continuation else { throw error("invalid UTF-8: truncated sequence") }
        for i in 1...continuation {
            let byte = bytes[index + i]
            let range: ClosedRange<UInt8> = i == 1 ? secondRange : 0x80...0xBF
            guard range.contains(byte) else {
                throw error("invalid UTF-8: byte 0x\(hex2(byte)) after 0x\(hex2(lead))")
            }
        }
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index...index + continuation]))
        index += continuation + 1
    }
}
