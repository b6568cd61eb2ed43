import MeshHTTP1
import MeshHTTP2

/// An HTTP/2 request head written as the HTTP/1.1 request the gateway's exchange path serves (RFC 9113 §8.2.2
/// read backwards): `:authority` becomes `host`, cookie fields are joined, the framing is the bridge's own.
/// Everything the HTTP/1 path checks (the trust boundary included) is checked again on these bytes.
struct HTTP2RequestTranslation {
    /// The request line and fields, ending with the empty line.
    var head: [UInt8]
    /// The body goes as chunks (no `content-length` was given and the stream did not end with the head).
    var chunked: Bool
    var method: HTTPMethod
    /// The request has no body at all.
    var endStream: Bool

    /// Nil for a request SPEC §10 answers 400: a `host` that differs from `:authority`, or a method or path
    /// that would not survive as a request line.
    static func http1(_ request: HTTP2RequestHead, endStream: Bool) -> HTTP2RequestTranslation? {
        let target = request.isConnect ? request.authority : request.path
        guard let target, !target.isEmpty, target.allSatisfy(isTargetByte) else { return nil }
        let host = request.fields.first("host")
        if let host, let authority = request.authority, !host.elementsEqual(authority) { return nil }
        guard let authority = request.authority ?? host else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(request.fields.bytes.count + 128)
        out.append(contentsOf: request.method)
        out.append(0x20)
        out.append(contentsOf: target)
        out.append(contentsOf: " HTTP/1.1\r\nhost: ".utf8)
        out.append(contentsOf: authority)
        out.append(contentsOf: "\r\n".utf8)
        var cookies: [UInt8] = []
        for i in request.regularFieldsStart..<request.fields.count {
            let name = request.fields.name(i)
            if name.equals("cookie") {
                if !cookies.isEmpty { cookies.append(contentsOf: "; ".utf8) }
                cookies.append(contentsOf: request.fields.value(i))
                continue
            }
            // Fields the bridge states itself: `host` from `:authority`, the framing, `te` (hop-by-hop in HTTP/1.1).
            if name.equals("host") || name.equals("content-length") || name.equals("te") { continue }
            out.append(contentsOf: name)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: request.fields.value(i))
            out.append(contentsOf: "\r\n".utf8)
        }
        if !cookies.isEmpty { out.append(contentsOf: "cookie: ".utf8 + cookies + "\r\n".utf8) }
        var chunked = false
        if !endStream {
            if let length = request.contentLength {
                out.append(contentsOf: "content-length: \(length)\r\n".utf8)
            } else {
                out.append(contentsOf: "transfer-encoding: chunked\r\n".utf8)
                chunked = true
            }
        }
        // One request per bridge: the inner connection closes once it has answered.
        out.append(contentsOf: "connection: close\r\n\r\n".utf8)
        return HTTP2RequestTranslation(
            head: out, chunked: chunked, method: HTTPMethod(token: request.method), endStream: endStream)
    }

    /// Visible ASCII only: a space or control byte would change the request line's meaning.
    private static func isTargetByte(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }
}
