import Foundation
import Glibc
import MeshJSON

/// A reply read by `HTTPClient`: status, lowercased headers, body, and the body parsed as JSON when it is JSON.
struct HTTPReply {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// The body as JSON, or nil when it does not parse.
    var json: JSONNode? { try? JSONReader.parse(body) }

    /// The `error` member of a JSON error body.
    var errorCode: String? { json?["error"]?.stringValue }
}

struct HTTPClientError: Error, CustomStringConvertible {
    let description: String
}

/// A blocking test client over 127.0.0.1: one request per connection (`connection: close`) unless `raw` is used
/// to send exact bytes. Every socket has a 10 s receive timeout, so a hung server fails the test instead of
/// hanging it.
enum HTTPClient {
    static func request(
        port: UInt16,
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) throws -> HTTPReply {
        var head = "\(method) \(path) HTTP/1.1\r\nhost: 127.0.0.1:\(port)\r\nconnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "content-length: \(body.count)\r\n" }
        head += "\r\n"
        let replies = try raw(port: port, Array(head.utf8) + (body ?? []), expect: 1)
        return replies[0]
    }

    /// JSON body convenience.
    static func json(
        port: UInt16,
        _ method: String,
        _ path: String,
        _ json: String,
        headers: [(String, String)] = []
    ) throws -> HTTPReply {
        try request(
            port: port,
            method,
            path,
            headers: [("content-type", "application/json")] + headers,
            body: Array(json.utf8)
        )
    }

    /// Sends `bytes` as they are, reads until the server closes (or `expect` replies are complete and the
    /// connection is idle), and parses every response found.
    static func raw(port: UInt16, _ bytes: [UInt8], expect: Int) throws -> [HTTPReply] {
        let fd = try connect(port: port)
        defer { close(fd) }
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                // The server may answer and close before reading everything (413); read what it said.
                break
            }
            sent += n
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let replies = parseAll(received), replies.count >= expect { return replies }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += chunk[0..<n]
        }
        guard let replies = parseAll(received), replies.count >= expect else {
            throw HTTPClientError(
                description: "incomplete reply: \(String(decoding: received.prefix(200), as: UTF8.self))"
            )
        }
        return replies
    }

    static func connect(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            close(fd)
            throw HTTPClientError(description: "connect to port \(port): errno \(errno)")
        }
        return fd
    }

    /// Parses consecutive Content-Length-framed responses; nil when the last one is incomplete.
    static func parseAll(_ bytes: [UInt8]) -> [HTTPReply]? {
        var replies: [HTTPReply] = []
        var offset = 0
        while offset < bytes.count {
            guard let (reply, length) = parseOne(Array(bytes[offset...])) else {
                return replies.isEmpty ? nil : replies
            }
            offset += length
            if reply.status != 100 { replies.append(reply) }
        }
        return replies
    }

    private static func parseOne(_ bytes: [UInt8]) -> (HTTPReply, Int)? {
        guard bytes.count >= 4,
            let end = (0...(bytes.count - 4)).first(where: {
                bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10
            })
        else { return nil }
        let lines = String(decoding: bytes[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            )
        }
        let length = Int(headers.first { $0.name == "content-length" }?.value ?? "0") ?? 0
        let bodyStart = end + 4
        guard bytes.count >= bodyStart + length else { return nil }
        return (
            HTTPReply(status: status, headers: headers, body: Array(bytes[bodyStart..<(bodyStart + length)])),
            bodyStart + length
        )
    }
}
