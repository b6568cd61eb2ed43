import Foundation
import Glibc
import MeshGateway
import MeshPosix
import Testing

/// The `https://` exporter path where it can fail without a TLS collector: the CA file, a peer that is not TLS,
/// and a peer that never answers the handshake (the one deadline bounds it). Verified exports to a real TLS
/// collector are in IntegrationTests/OTLPOverHTTPSTests.
@Suite(.serialized) struct ExportTLSTests {
    /// The first "otlp export failed" line's `error` field, once the exporter counted `failures`.
    static func failureError(_ log: LogFile, _ telemetry: Telemetry, failures: UInt64 = 1) throws -> String {
        let exporter = try #require(telemetry.exporter)
        #expect(Collector.eventually { exporter.exportFailures >= failures })
        telemetry.stop()
        #expect(exporter.exportedSpans == 0)
        let line = try #require(log.contents().split(separator: "\n").first { $0.contains("otlp export failed") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        return object["error"] as? String ?? ""
    }

    @Test func anUnreadableCAFileFailsEveryBatchWithItsReason() throws {
        let collector = try Collector()
        defer { collector.stop() }
        let log = LogFile()
        defer { log.remove() }
        let config = otlpConfig(
            endpoint: "https://127.0.0.1:\(collector.port)/v1/traces", caFile: "/nonexistent/otlp-ca.pem")
        let telemetry = Telemetry(config: config, workers: 1, output: log.fd, otlp: fastOptions())
        let exporter = try #require(telemetry.exporter)
        #expect(exporter.caFile == "/nonexistent/otlp-ca.pem")
        // The context is retried with each batch (a CA file written later is picked up), so each one fails.
        for n in 1...2 {
            telemetry.worker(0).requestFinished(sampledRecord(UInt64(n)))
            #expect(Collector.eventually { exporter.exportFailures == UInt64(n) })
        }
        let error = try Self.failureError(log, telemetry, failures: 2)
        #expect(error.hasPrefix("TLS: tracing.ca_file /nonexistent/otlp-ca.pem: unreadable"), "\(error)")
        #expect(collector.received.isEmpty)
    }

    @Test func aPlaintextPeerOnAnHTTPSEndpointIsATLSFailure() throws {
        let port = try Self.plaintextAnswerer()
        let log = LogFile()
        defer { log.remove() }
        let telemetry = Telemetry(
            config: otlpConfig(endpoint: "https://127.0.0.1:\(port)/v1/traces"), workers: 1, output: log.fd,
            otlp: fastOptions())
        telemetry.worker(0).requestFinished(sampledRecord())
        let error = try Self.failureError(log, telemetry)
        #expect(error.hasPrefix("TLS: "), "\(error)")
    }

    @Test func aPeerThatNeverHandshakesCostsOneTimeout() throws {
        // The plaintext collector waits for an HTTP head that never comes: the ClientHello goes unanswered.
        let collector = try Collector()
        defer { collector.stop() }
        let log = LogFile()
        defer { log.remove() }
        let telemetry = Telemetry(
            config: otlpConfig(endpoint: "https://127.0.0.1:\(collector.port)/v1/traces"), workers: 1,
            output: log.fd, otlp: fastOptions(timeoutMs: 400))
        let exporter = try #require(telemetry.exporter)
        let start = clinux_now()
        telemetry.worker(0).requestFinished(sampledRecord())
        #expect(Collector.eventually { exporter.exportFailures == 1 })
        let elapsedMs = (clinux_now() - start) / 1_000_000
        // 20 ms flush interval + the 400 ms bound; generous slack above for a loaded machine.
        #expect(elapsedMs >= 400 && elapsedMs < 1900, "took \(elapsedMs) ms")
        let error = try Self.failureError(log, telemetry)
        #expect(error == "no complete response within 400 ms")
    }

    /// A listener that gives its first connection a plaintext HTTP answer at once (a collector that does not
    /// speak TLS), then closes; its thread owns the descriptor (closed after one connection or 10 s).
    static func plaintextAnswerer() throws -> UInt16 {
        let listener = try Sockets.listener(SocketAddress(numericHost: "127.0.0.1", port: 0)!, reusePort: false)
        let port = Posix.localAddress(listener)!.port
        Thread.detachNewThread {
            defer { Posix.close(listener) }
            var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 10_000) > 0, case .processed(let client)? = try? Posix.accept(listener, nil) else {
                return
            }
            let answer = Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
            _ = answer.withUnsafeBytes { send(client, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            usleep(200_000)
            Posix.close(client)
        }
        return port
    }
}
