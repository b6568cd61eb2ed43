import CLinux
import Glibc
import MeshPosix

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

    /// For the rate-limited warning line.
    public var description: String {
        switch self {
        case .resolve(let reason): "resolve failed: \(reason)"
        case .system(let error): error.description
        case .timeout(let ms): "no complete response within \(ms) ms"
        case .badResponse: "malformed HTTP response"
        case .status(let code): "collector answered \(code)"
        }
    }
}

/// A blocking HTTP/1.1 `POST` with one deadline, for the exporter's own thread (never a worker).
///
/// One connection per request (`Connection: close`): a batch goes out at most once a second, so a pooled
/// connection would save nothing worth its state. The socket is non-blocking and every wait is a `poll` bounded
/// by what is left of `timeoutMs`, so a collector that accepts and never answers costs at most `timeoutMs`.
/// Name resolution (getaddrinfo) cannot be bounded that way; use an IP literal where that matters.
enum OTLPPoster {
    /// Longest response head + body read (OTLP answers are tiny; a partial-success body is ignored).
    static let maxResponseBytes = 64 * 1024

    /// Sends `body` as `application/json` to `target`; returns the 2xx status or why it failed.
    static func post(_ target: HTTPTarget, body: [UInt8], timeoutMs: Int) -> Result<Int, OTLPExportError> {
        let deadline = clinux_monotonic_ns() / 1_000_000 + Int64(timeoutMs)
        let address: SocketAddress
        if let literal = SocketAddress(numericHost: target.host, port: target.port) {
            address = literal
        } else {
            do {
                guard let first = try SocketAddress.resolve(host: target.host, port: target.port).first else {
                    return .failure(.resolve("no addresses for \(target.host)"))
                }
                address = first
            } catch {
                return .failure(.resolve(error.description))
            }
        }
        let fd: Int32
        do { fd = try Sockets.stream(family: address.family) } catch { return .failure(.system(error)) }
        defer { Posix.close(fd) }
        var head = "POST \(target.path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        head += "User-Agent: meshgate\r\nConnection: close\r\n\r\n"
        do {
            try connect(fd, address, deadline: deadline, timeoutMs: timeoutMs)
            try send(fd, Array(head.utf8) + body, deadline: deadline, timeoutMs: timeoutMs)
            let status = try receiveStatus(fd, deadline: deadline, timeoutMs: timeoutMs)
            return (200...299).contains(status) ? .success(status) : .failure(.status(status))
        } catch {
            return .failure(error)
        }
    }

    /// Waits for `events` on `fd` until `deadline` (CLOCK_MONOTONIC ms).
    private static func wait(_ fd: Int32, _ events: Int32, deadline: Int64, timeoutMs: Int) throws(OTLPExportError) {
        while true {
            let left = deadline - clinux_monotonic_ns() / 1_000_000
            guard left > 0 else { throw .timeout(ms: timeoutMs) }
            var pfd = pollfd(fd: fd, events: Int16(events), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(left, 1000)))
            if ready > 0 { return }
            if ready < 0, errno != EINTR { throw .system(SystemError(errno: errno, call: "poll")) }
        }
    }

    private static func connect(
        _ fd: Int32, _ address: SocketAddress, deadline: Int64, timeoutMs: Int
    ) throws(OTLPExportError) {
        do {
            if case .processed = try Posix.connect(fd, address) { return }
        } catch {
            throw .system(error)
        }
        try wait(fd, POLLOUT, deadline: deadline, timeoutMs: timeoutMs)
        let err = Posix.socketError(fd)
        if err != 0 { throw .system(SystemError(errno: err, call: "connect")) }
    }

    private static func send(_ fd: Int32, _ bytes: [UInt8], deadline: Int64, timeoutMs: Int) throws(OTLPExportError) {
        var offset = 0
        while offset < bytes.count {
            // send(2) with MSG_NOSIGNAL: a collector that closed early must be an error here, not a SIGPIPE
            // that kills the process (tests and tools do not ignore SIGPIPE the way the gateway does).
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n >= 0 {
                offset += n
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                try wait(fd, POLLOUT, deadline: deadline, timeoutMs: timeoutMs)
            } else if errno != EINTR {
                throw .system(SystemError(errno: errno, call: "send"))
            }
        }
    }

    /// Reads until the response is complete (Content-Length satisfied, or the collector closed after the head)
    /// and returns its status code.
    private static func receiveStatus(_ fd: Int32, deadline: Int64, timeoutMs: Int) throws(OTLPExportError) -> Int {
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while response.count < maxResponseBytes {
            let attempt = chunk.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) in try Posix.read(fd, raw.baseAddress!, raw.count) }
            }
            let result: IOResult<Int>
            switch attempt {
            case .success(let value): result = value
            case .failure(let error): throw .system(error)
            }
            switch result {
            case .wouldBlock:
                try wait(fd, POLLIN, deadline: deadline, timeoutMs: timeoutMs)
            case .processed(0):
                guard let parsed = OTLPResponseHead.parse(response) else { throw .badResponse }
                return parsed.status
            case .processed(let n):
                response.append(contentsOf: chunk[0..<n])
                if let parsed = OTLPResponseHead.parse(response), parsed.isComplete(response.count) {
                    return parsed.status
                }
            }
        }
        throw .badResponse
    }
}

/// The little of an HTTP/1.1 response head the exporter needs (RFC 9112 §4 status line, §6.3 framing).
struct OTLPResponseHead: Equatable {
    /// The status code.
    let status: Int
    /// Bytes of the head including the blank line.
    let headLength: Int
    /// `Content-Length`, nil when absent (then only the collector's close ends the body, or chunked framing).
    let contentLength: Int?

    /// Whether `received` bytes hold the whole response. Without a Content-Length a 204/304 ends at the head;
    /// any other body is read until the close (`Connection: close` was requested).
    func isComplete(_ received: Int) -> Bool {
        if let contentLength { return received >= headLength + contentLength }
        return status == 204 || status == 304
    }

    /// Parses the head once it is complete; nil while incomplete or malformed.
    static func parse(_ bytes: [UInt8]) -> OTLPResponseHead? {
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
