import MeshHTTP2

/// Bytes from a hex dump in the RFC's layout ("8286 8441 …", whitespace and newlines ignored).
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { $0.isHexDigit }
    precondition(digits.count % 2 == 0, "odd hex digit count")
    var out: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        out.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return out
}

/// Lowercase hex of `bytes`, no separators.
func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

/// Decodes a whole HPACK block with `decoder`.
func decodeBlock(_ decoder: inout HPACKDecoder, _ bytes: [UInt8]) -> (HTTP2HeaderList, HPACKDecoder.DecodeError?) {
    var list = HTTP2HeaderList()
    let error = bytes.withUnsafeBytes { decoder.decodeBlock($0, into: &list) }
    return (list, error)
}

/// The dynamic table's entries, newest first, as strings.
func tableEntries(_ decoder: HPACKDecoder) -> [String] {
    let table = decoder.table
    return (0..<table.count).map { i in
        let entry = table.entry(i + 1)!
        return String(decoding: table.bytes[entry.name], as: UTF8.self) + ": "
            + String(decoding: table.bytes[entry.value], as: UTF8.self)
    }
}

/// Field list as "name: value" strings.
func lines(_ list: HTTP2HeaderList) -> [String] { list.pairs.map { "\($0.name): \($0.value)" } }
