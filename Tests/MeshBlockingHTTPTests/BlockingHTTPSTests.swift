import Foundation
import Glibc
import MeshBlockingHTTP
import MeshTLS
import MeshTestSupport
import Testing

/// TLS through the client against Python's `ssl` server (an implementation that is not ours) with certificates
/// the `openssl` CLI made at test time: verified against a CA file and the request's host.
@Suite struct BlockingHTTPSTests {
    static let pki = TestPKI.shared

    static let handler = """
            protocol_version = "HTTP/1.1"
            def do_GET(self):
                answer = b"secure " + self.path.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
        """

    static func server() throws -> (ChildProcess, UInt16) {
        let directory = NSTemporaryDirectory() + "/blocking-https-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try PythonHTTPSServer.start(
            handler: handler, cert: pki.path("localhost.crt"), key: pki.path("localhost.key"),
            outputPrefix: directory + "/server")
    }

    static func context(ca: String) throws -> TLSClientContext {
        var options = TLSClientOptions()
        options.caFile = pki.path("\(ca).crt")
        return try TLSClientContext(options: options)
    }

    @Test func aVerifiedExchange() throws {
        let (server, port) = try Self.server()
        defer { _ = server.terminate(signal: SIGKILL) }
        let request = BlockingHTTPRequest(method: "GET", host: "127.0.0.1", port: port, target: "/hello")
        let response = try BlockingHTTPClient.send(request, timeoutMs: 5000, tls: Self.context(ca: "ca"))
        #expect(response.status == 200)
        #expect(response.body == Array("secure /hello".utf8))
    }

    @Test func aCertificateFromAnotherCAIsATLSFailure() throws {
        let (server, port) = try Self.server()
        defer { _ = server.terminate(signal: SIGKILL) }
        let request = BlockingHTTPRequest(method: "GET", host: "127.0.0.1", port: port, target: "/")
        let context = try Self.context(ca: "rogue-ca")
        do {
            _ = try BlockingHTTPClient.send(request, timeoutMs: 5000, tls: context)
            Issue.record("the exchange succeeded")
        } catch {
            guard case .tls(let reason) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(reason.contains("certificate"), "\(reason)")
        }
    }

    @Test func aPeerThatNeverHandshakesIsATimeout() throws {
        let server = try TestUpstream(.neverAnswer)
        defer { server.shutdown() }
        let request = BlockingHTTPRequest(method: "GET", host: "127.0.0.1", port: server.port, target: "/")
        #expect(throws: BlockingHTTPError.timeout(ms: 300)) {
            try BlockingHTTPClient.send(request, timeoutMs: 300, tls: Self.context(ca: "ca"))
        }
    }
}
