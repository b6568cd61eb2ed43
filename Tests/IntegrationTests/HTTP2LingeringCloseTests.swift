import Foundation
import Glibc
import MeshTestSupport
import Testing

/// A connection error's GOAWAY reaches a client that is still sending (RFC 9113 §5.4.1): the gateway sends FIN
/// after it and drops what the client sends until its FIN, instead of closing with unread bytes (a reset, which
/// can destroy the GOAWAY in the client's receive queue before it is read).
@Suite struct HTTP2LingeringCloseTests {
    /// Every connection sends a HEADERS frame over SETTINGS_MAX_FRAME_SIZE and keeps writing; each must read
    /// GOAWAY FRAME_SIZE_ERROR and then the end of the stream, never a reset.
    @Test func theGoAwayOfAConnectionErrorIsReadWhileTheClientIsStillSending() throws {
        let bed = try Testbed(upstreams: ["app": .fixed(UpstreamReply(status: 200, headers: [], body: "ok"))]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin, routes: [TestConfig.route("/", to: "app")],
                upstreams: ["app": TestConfig.upstream([ports["app"]])])
        }
        defer { bed.stop() }
        let oversized = H2Wire.frame(H2Wire.headers, flags: H2Wire.endHeaders, stream: 1, [UInt8](repeating: 0x41, count: 16_400))
        let filler = [UInt8](repeating: 0, count: 64 * 1024)
        for round in 0..<20 {
            let fd = try TestSocket.connect(port: bed.ports.listener, timeoutMs: 5_000)
            defer { close(fd) }
            var sent = H2Wire.handshake() + oversized
            // Far more than the gateway reads before it decides: the rest is still arriving when it closes.
            for _ in 0..<8 { sent += filler }
            _ = sent.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65_536)
            var end = "timeout"
            while true {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    received += chunk[0..<n]
                    continue
                }
                end = n == 0 ? "eof" : errno == ECONNRESET ? "reset" : "errno \(errno)"
                break
            }
            #expect(Self.goAwayCodes(received) == [H2Wire.Code.frameSizeError], "round \(round): \(received.count) bytes")
            #expect(end == "eof", "round \(round)")
        }
        #expect(bed.gateway.isRunning)
    }

    /// The error codes of the GOAWAY frames in `bytes` (the server's frames, after no preface).
    static func goAwayCodes(_ bytes: [UInt8]) -> [UInt32] {
        var codes: [UInt32] = []
        var at = 0
        while at + 9 <= bytes.count {
            let length = Int(bytes[at]) << 16 | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2])
            guard at + 9 + length <= bytes.count else { break }
            if bytes[at + 3] == H2Wire.goAway && length >= 8 {
                let p = at + 9 + 4
                codes.append(UInt32(bytes[p]) << 24 | UInt32(bytes[p + 1]) << 16 | UInt32(bytes[p + 2]) << 8 | UInt32(bytes[p + 3]))
            }
            at += 9 + length
        }
        return codes
    }
}
