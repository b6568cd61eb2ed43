import Glibc
import MeshControl
import MeshPosix
import MeshTLS

/// Why one export request failed (logged, and counted in `meshgate_otlp_export_failures_total`).
public enum OTLPExportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The collector's host name did not resolve.
    case resolve(String)
    /// A socket call failed (connection refused, reset…).
    case system(SystemError)
    /// The whole request did not complete within the timeout.
    case timeout(ms: Int)
    /// The collector answered something that is not an HTTP/1.x response.
    case badResponse
    /// The collector answered with a non-2xx status.
    case status(Int)
    /// An `https://` collector: TLS failed (its certificate did not verify, a protocol error, the CA file could
    /// not be loaded…), with the reason.
    case tls(String)

    /// For the rate-limited warning line.
    public var description: String {
        switch self {
        case .resolve(let reason): "resolve failed: \(reason)"
        case .system(let error): error.description
        case .timeout(let ms): "no complete response within \(ms) ms"
        case .badResponse: "malformed HTTP response"
        case .status(let code): "collector answered \(code)"
        case .tls(let reason): "TLS: \(reason)"
        }
    }
}

/// A blocking HTTP/1.1 `POST` with one deadline, for the exporter's own thread (never a worker).
///
/// One connection per request (`Connection: close`): a batch goes out at most once a second, so a pooled
/// connection would save nothing worth its state. The socket is non-blocking and every wait is a `poll` bounded
/// by what is left of `timeoutMs` (`OTLPSocket`), so a collector that accepts and never answers costs at most
/// `timeoutMs`; over `https://` the TLS handshake is inside the same bound (`OTLPTLSChannel`).
/// Name resolution (getaddrinfo) cannot be bounded that way; use an IP literal where that matters.
public enum OTLPPoster {
    /// Longest response head + body read (OTLP answers are tiny; a partial-success body is ignored).
    public static let maxResponseBytes = 64 * 1024

    /// Sends `body` as `application/json` to `target`; returns the 2xx status or why it failed. An `https://`
    /// target needs `tls` (the exporter's context: `tracing.ca_file` or the system store).
    public static func post(
        _ target: HTTPTarget, body: [UInt8], timeoutMs: Int, tls: TLSClientContext? = nil
    ) -> Result<Int, OTLPExportError> {
        let deadline = OTLPSocket.nowMs() + Int64(timeoutMs)
        if target.secure, tls == nil { return .failure(.tls("no TLS context for \(target.hostHeader)")) }
        let address: SocketAddress
        switch resolve(target) {
        case .success(let resolved): address = resolved
        case .failure(let error): return .failure(error)
        }
        let fd: Int32
        do { fd = try Sockets.stream(family: address.family) } catch { return .failure(.system(error)) }
        defer { Posix.close(fd) }
        var head = "POST \(target.path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        head += "User-Agent: meshgate\r\nConnection: close\r\n\r\n"
        let request = Array(head.utf8) + body
        let socket = OTLPSocket(fd: fd, deadline: deadline, timeoutMs: timeoutMs)
        do throws(OTLPExportError) {
            try socket.connect(address)
            let status: Int
            if target.secure, let tls {
                let channel = try OTLPTLSChannel(socket, context: tls, serverName: target.host)
                try channel.handshake()
                try channel.send(request)
                status = try receiveStatus { buffer throws(OTLPExportError) in try channel.receive(into: buffer) }
            } else {
                try socket.send(request)
                status = try receiveStatus { buffer throws(OTLPExportError) in try socket.receive(into: buffer) }
            }
            return (200...299).contains(status) ? .success(status) : .failure(.status(status))
        } catch {
            return .failure(error)
        }
    }

    /// The collector's address: an IP literal as is, else the first address getaddrinfo gives.
    private static func resolve(_ target: HTTPTarget) -> Result<SocketAddress, OTLPExportError> {
        if let literal = SocketAddress(numericHost: target.host, port: target.port) { return .success(literal) }
        do {
            guard let first = try SocketAddress.resolve(host: target.host, port: target.port).first else {
                return .failure(.resolve("no addresses for \(target.host)"))
            }
            return .success(first)
        } catch {
            return .failure(.resolve(error.description))
        }
    }

    /// Reads through `receive` (plaintext, 0 at EOF) until the response is complete (Content-Length satisfied, or
    /// the collector closed after the head) and returns its status code.
    private static func receiveStatus(
        _ receive: (UnsafeMutableRawBufferPointer) throws(OTLPExportError) -> Int
    ) throws(OTLPExportError) -> Int {
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while response.count < maxResponseBytes {
            let n = try chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(OTLPExportError) in try receive(buffer) }
            }.get()
            if n == 0 {
                guard let parsed = OTLPResponseHead.parse(response) else { throw .badResponse }
                return parsed.status
            }
            response.append(contentsOf: chunk[0..<n])
            if let parsed = OTLPResponseHead.parse(response), parsed.isComplete(response.count) {
                return parsed.status
            }
        }
        throw .badResponse
    }
}

/// The little of an HTTP/1.1 response head the exporter needs (RFC 9112 §4 status line, §6.3 framing).
public struct OTLPResponseHead: Equatable {
    /// The status code.
    public let status: Int
    /// Bytes of the head including the blank line.
    public let headLength: Int
    /// `Content-Length`, nil when absent (then only the collector's close ends the body, or chunked framing).
    public let contentLength: Int?

    /// Whether `received` bytes hold the whole response. Without a Content-Length a 204/304 ends at the head;
    /// any other body is read until the close (`Connection: close` was requested).
    public func isComplete(_ received: Int) -> Bool {
        if let contentLength { return received >= headLength + contentLength }
        return status == 204 || status == 304
    }

    /// Parses the head once it is complete; nil while incomplete or malformed.
    public static func parse(_ bytes: [UInt8]) -> OTLPResponseHead? {
        let crlf2: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4,
            let end = (0...(bytes.count - 4)).first(where: { bytes[$0..<($0 + 4)].elementsEqual(crlf2) })
        else { return nil }
        let text = String(decoding: bytes[0..<end], as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines[0].split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), statusLine[1].count == 3,
            let status = Int(statusLine[1])
        else { return nil }
        var length: Int?
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == "content-length" {
                length = Int(line[line.index(after: colon)...].trimmingSpaces)
            }
        }
        return OTLPResponseHead(status: status, headLength: end + 4, contentLength: length)
    }
}

extension Substring {
    /// Without leading and trailing SP / HTAB (RFC 9110 §5.5 OWS).
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
