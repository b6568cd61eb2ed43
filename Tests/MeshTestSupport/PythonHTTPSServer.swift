import Foundation
import Glibc

/// A small HTTPS server in Python's standard library (`http.server` + `ssl`), for the parts of meshgate that
/// are HTTPS clients (JWKS, OTLP): an implementation that is not ours, on a free port it picks itself.
public enum PythonHTTPSServer {
    /// Starts the server with `handler` (the body of a `BaseHTTPRequestHandler` subclass, Python, indented by
    /// four spaces) on certificate `cert`/`key`; `arguments` follow as `sys.argv[3...]`. The server prints its
    /// port as the first stdout line; whatever the handler prints follows.
    public static func start(
        handler: String, cert: String, key: String, arguments: [String] = [], outputPrefix: String
    ) throws -> (ChildProcess, UInt16) {
        let script = """
            import http.server, json, ssl, sys
            cert, key = sys.argv[1], sys.argv[2]
            class Handler(http.server.BaseHTTPRequestHandler):
            \(handler)
                def log_message(self, *args):
                    pass
            server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """
        let child = try ChildProcess(
            path: "/usr/bin/python3", arguments: ["-c", script, cert, key] + arguments, outputPrefix: outputPrefix)
        let deadline = TestSocket.nowMs() + 10_000
        while TestSocket.nowMs() < deadline {
            let first = child.stdout.split(separator: "\n").first.map(String.init) ?? ""
            if let port = UInt16(first.trimmingCharacters(in: .whitespaces)) { return (child, port) }
            usleep(20_000)
        }
        _ = child.terminate(signal: SIGKILL)
        throw TestSupportError("the HTTPS server did not start: \(child.stderr)")
    }
}
