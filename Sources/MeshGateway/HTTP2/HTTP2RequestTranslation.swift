import MeshHTTP1
import MeshHTTP2

/// An HTTP/2 request head written as the HTTP/1.1 request the gateway's exchange path serves (RFC 9113 §8.2.2
/// read backwards): `:authority` becomes `host`, cookie fields are joined, the framing is the bridge's own.
/// Everything the HTTP/1 path checks (the trust boundary included) is checked again on these bytes.
struct HTTP2RequestTranslation {
    /// Octets of the request line and fields, ending with the empty line.
    var headCount: Int
    /// The body goes as chunks (no `content-length` was given and the stream did not end with the head).
    var chunked: Bool
    var method: HTTPMethod
    /// The request has no body at all.
    var endStream: Bool

    /// Appends the request's HTTP/1.1 head to `out` (a bridge's buffer, reused stream after stream). Nil for a
    /// request SPEC §10 answers 400: a `host` that differs from `:authority`, or a method or path that would not
    /// survive as a request line; `out` is unchanged then. Everything is read in place from the field list's
    /// storage (slices of it retained and released the storage each, ~250 instructions a request).
    static func http1(_ request: HTTP2RequestHead, endStream: Bool, into out: inout [UInt8]) -> HTTP2RequestTranslation? {
        request.withParts { http1($0, endStream: endStream, into: &out) }
    }

    private static func http1(_ request: HTTP2RequestHead.Parts, endStream: Bool, into out: inout [UInt8])
        -> HTTP2RequestTranslation?
    {
        let target = request.method.equals("CONNECT") ? request.authority : request.path
        guard let target, !target.isEmpty, target.allSatisfy(isTargetByte) else { return nil }
        var host: UnsafeRawBufferPointer?
        for i in request.regularFieldsStart..<request.fields.count where request.name(i).equals("host") {
            host = request.value(i)
            break
        }
        if let host, let authority = request.authority, !host.elementsEqual(authority) { return nil }
        guard let authority = request.authority ?? host else { return nil }
        // Every field's bytes once (the pseudo-fields hold the method, target and authority), four octets of
        // ": " and CRLF each, and the fixed lines: written on the stack, then one append.
        let capacity = request.all.count + 4 * request.fields.count + 128
        let count = withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 1) { buffer -> Int? in
            var w = HeadWriter(buffer)
            w.write(request.method)
            w.write(" ")
            w.write(target)
            w.write(" HTTP/1.1\r\nhost: ")
            w.write(authority)
            w.write("\r\n")
            writeFields(request, into: &w)
            if !endStream {
                if let length = request.contentLength {
                    w.write("content-length: ")
                    w.writeDecimal(length)
                    w.write("\r\n")
                } else {
                    w.write("transfer-encoding: chunked\r\n")
                }
            }
            // No `connection: close`: the inner connection stays for the session's next stream (`HTTP2StreamBridge`).
            w.write("\r\n")
            guard !w.overflowed else { return nil }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<w.count]))
            return w.count
        }
        guard let count else { return nil }
        return HTTP2RequestTranslation(
            headCount: count, chunked: !endStream && request.contentLength == nil,
            method: HTTPMethod(token: request.method), endStream: endStream)
    }

    /// The client's fields (cookies joined into one, RFC 9113 §8.2.3).
    private static func writeFields(_ request: HTTP2RequestHead.Parts, into w: inout HeadWriter) {
        let regular = request.regularFieldsStart..<request.fields.count
        var cookies = 0
        for i in regular {
            let name = request.name(i)
            if name.equals("cookie") {
                cookies += 1
                continue
            }
            // Fields the bridge states itself: `host` from `:authority`, the framing, `te` (hop-by-hop).
            if name.equals("host") || name.equals("content-length") || name.equals("te") { continue }
            w.write(name)
            w.write(": ")
            w.write(request.value(i))
            w.write("\r\n")
        }
        guard cookies > 0 else { return }
        w.write("cookie: ")
        var first = true
        for i in regular where request.name(i).equals("cookie") {
            if !first { w.write("; ") }
            first = false
            w.write(request.value(i))
        }
        w.write("\r\n")
    }

    /// Visible ASCII only: a space or control byte would change the request line's meaning.
    private static func isTargetByte(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }
}
