import MeshHTTP1
import MeshHTTP2
import MeshProxy

/// The fields of an HTTP/1.1 response head as HTTP/2 carries them (RFC 9113 §8.2.2): lowercase names, no
/// connection-specific fields.
enum HTTP2ResponseFields {
    /// Fills `out` (emptied first, its storage kept: one list per session, not per response) with the response
    /// head's fields, lowercased, without the connection-specific ones.
    static func fill(
        _ out: inout HTTP2HeaderList, from buffer: UnsafeRawBufferPointer, headers: UnsafeMutableBufferPointer<HTTPHeaderField>,
        count: Int
    ) {
        out.removeAll()
        for i in 0..<count {
            let field = headers[i]
            // The parser classified the names already: no per-field compare or copy to drop these.
            switch field.known {
            case .connection, .keepAlive, .proxyConnection, .transferEncoding, .upgrade: continue
            default: break
            }
            out.append(
                lowercasingName: UnsafeRawBufferPointer(
                    rebasing: buffer[Int(field.nameStart)..<Int(field.nameStart + field.nameLength)]),
                value: UnsafeRawBufferPointer(
                    rebasing: buffer[Int(field.valueStart)..<Int(field.valueStart + field.valueLength)]))
        }
    }

    /// A chunked body's trailer section (`name: value` lines, as `BodyCursor` keeps it) as trailing fields:
    /// lowercase names, without connection-specific and framing fields (RFC 9110 §6.5.1 forbids those).
    static func trailers(_ section: [UInt8]) -> HTTP2HeaderList {
        var out = HTTP2HeaderList()
        var start = 0
        while start < section.count {
            var end = start
            while end < section.count && section[end] != 0x0A { end += 1 }
            var line = section[start..<end]
            start = end + 1
            if line.last == 0x0D { line = line.dropLast() }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = line[..<colon].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
            if dropped.contains(where: { $0.elementsEqual(name) }) || framing.contains(where: { $0.elementsEqual(name) }) {
                continue
            }
            var value = line[(colon + 1)...]
            while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
            while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
            out.append(name: name, value: value)
        }
        return out
    }

    private static let dropped: [[UInt8]] = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]
        .map { Array($0.utf8) }
    private static let framing: [[UInt8]] = ["content-length", "te", "trailer", "host"].map { Array($0.utf8) }
}

/// A response head handed over by the connection (`StreamPipe.handOver`) is built by `ResponseHeadBuilder`
/// straight into the stream's field list: lowercase names (RFC 9113 §8.2.1), and no framing or connection field —
/// the builder already leaves out what HTTP/1 uses to frame and hop, and HTTP/2 frames the body itself.
extension HTTP2HeaderList: ResponseFieldSink {
    public mutating func field(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
        append(lowercasingName: name, value: value)
    }

    public mutating func contentLength(_ length: Int) {
        withUnsafeTemporaryAllocation(byteCount: 20, alignment: 1) { digits in
            var w = HeadWriter(digits)
            w.writeDecimal(length)
            append(name: "content-length".utf8, value: UnsafeRawBufferPointer(rebasing: digits[..<w.count]))
        }
    }

    public mutating func chunked() {}
}
