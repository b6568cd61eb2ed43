import MeshHTTP1
import MeshHTTP2

/// The HTTP/1.1 request the exchange wrote for an h2c upstream, as an HTTP/2 request head, and the upstream's
/// HTTP/2 answer as the HTTP/1.1 bytes the exchange reads (RFC 9113 §8.2.2, §8.3): `host` becomes `:authority`,
/// connection-specific fields go, `te: trailers` is added; a response without `content-length` is chunked
/// so its trailers (gRPC's `grpc-status`) travel in the chunked trailer section.
///
/// The request bytes are the gateway's own (the trust boundary already wrote them), so a head that does not
/// translate is a gateway bug, answered by closing the channel, never by guessing.
enum H2UpstreamTranslation {
    /// Names that never go into an HTTP/2 request (RFC 9113 §8.2.2); `host` is carried as `:authority`.
    static let dropped: [[UInt8]] = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"]
        .map { Array($0.utf8) }

    /// The HTTP/2 head of the request whose HTTP/1.1 head `head` was parsed from `buffer`; nil when it has no
    /// `host` or uses a form HTTP/2 cannot carry here (CONNECT).
    static func requestHead(
        _ buffer: UnsafeRawBufferPointer, head: RequestHead, headers: UnsafeMutableBufferPointer<HTTPHeaderField>,
        secure: Bool = false
    ) -> HTTP2HeaderList? {
        guard head.method != .connect, head.hostIndex >= 0 else { return nil }
        func slice(_ start: Int32, _ length: Int32) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: buffer[Int(start)..<Int(start + length)])
        }
        let host = headers[Int(head.hostIndex)]
        var out = HTTP2HeaderList()
        out.append(name: ":method".utf8, value: slice(0, head.methodLength))
        out.append(name: ":scheme".utf8, value: secure ? "https".utf8 : "http".utf8)
        out.append(name: ":authority".utf8, value: slice(host.valueStart, host.valueLength))
        out.append(name: ":path".utf8, value: slice(head.targetStart, head.targetLength))
        for i in 0..<head.headerCount {
            let field = headers[i]
            let name = slice(field.nameStart, field.nameLength).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
            if dropped.contains(where: { $0.elementsEqual(name) }) { continue }
            if name.elementsEqual("te".utf8) { continue }
            out.append(name: name, value: slice(field.valueStart, field.valueLength))
        }
        // SPEC §10: h2 upstreams get `te: trailers` (the only TE HTTP/2 allows, §8.2.2): the gateway carries
        // response trailers, and gRPC servers refuse a call without it.
        out.append(name: "te".utf8, value: "trailers".utf8)
        return out
    }

    /// How the exchange is to read the body that follows the translated head.
    enum BodyFraming: Equatable {
        /// No body (END_STREAM on the head, a HEAD request, 204 or 304).
        case none
        /// `content-length` came with the head: DATA is copied as is.
        case raw
        /// Each DATA frame becomes a chunk; the trailers (or none) and the last chunk end it.
        case chunked
    }

    /// The HTTP/1.1 status line and fields of `head`, ending with the empty line, and how the body follows.
    static func responseHead(_ head: HTTP2ResponseHead, endStream: Bool, headRequest: Bool) -> ([UInt8], BodyFraming) {
        var out: [UInt8] = []
        out.reserveCapacity(head.fields.byteCount + 64)
        out.append(contentsOf: "HTTP/1.1 \(head.status) \(reason(head.status))\r\n".utf8)
        let bodiless = headRequest || head.status == 204 || head.status == 304 || head.status < 200
        var hasLength = false
        for i in head.regularFieldsStart..<head.fields.count {
            let name = head.fields.name(i)
            if name.elementsEqual("content-length".utf8) {
                // A stream that ends with its head has no body whatever a content-length says (not for HEAD).
                if endStream && !bodiless { continue }
                hasLength = true
            }
            out.append(contentsOf: name)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: head.fields.value(i))
            out.append(contentsOf: "\r\n".utf8)
        }
        let framing: BodyFraming
        if bodiless {
            framing = .none
        } else if endStream {
            out.append(contentsOf: "content-length: 0\r\n".utf8)
            framing = .none
        } else if hasLength {
            framing = .raw
        } else {
            out.append(contentsOf: "transfer-encoding: chunked\r\n".utf8)
            framing = .chunked
        }
        out.append(contentsOf: "\r\n".utf8)
        return (out, framing)
    }

    /// One chunk carrying `count` octets: its size line (the data follows, then `chunkEnd`).
    static func chunkStart(_ count: Int) -> [UInt8] { Array(String(count, radix: 16).utf8) + [0x0D, 0x0A] }
    static let chunkEnd: [UInt8] = [0x0D, 0x0A]

    /// The last chunk with `trailers` (HTTP/2 trailer fields carry no pseudo-headers) and the final CRLF.
    static func lastChunk(trailers: HTTP2HeaderList?) -> [UInt8] {
        var out: [UInt8] = Array("0\r\n".utf8)
        if let trailers {
            for i in 0..<trailers.count {
                out.append(contentsOf: trailers.name(i))
                out.append(contentsOf: ": ".utf8)
                out.append(contentsOf: trailers.value(i))
                out.append(contentsOf: "\r\n".utf8)
            }
        }
        out.append(contentsOf: "\r\n".utf8)
        return out
    }

    /// A reason phrase for the status line (HTTP/2 has none; the exchange writes its own to the client).
    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 204: "No Content"
        case 304: "Not Modified"
        case 400..<500: "Client Error"
        case 500..<600: "Server Error"
        default: "Status"
        }
    }
}
