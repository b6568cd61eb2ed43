import Glibc
import MeshTestSupport

/// The app of the sidecar tests: a small Python HTTP server written into the test's directory.
///
/// Its first action is a TCP connect to the sidecar's outbound listener (the result goes to the file
/// `first-connect`: "ok" or the error). Then it serves on 127.0.0.1:`appPort`:
/// - `GET /healthz`: 503 until the file `healthy` exists in the state directory, then 200;
/// - `GET /call`: `GET http://other/hello` through the outbound listener as its HTTP proxy (absolute form,
///   what `HTTP_PROXY` clients send) and answers with the status and body it got;
/// - `GET /exit/N`: answers, then exits with code N.
/// On SIGTERM (SIGINT) it writes the signal's name to the file `signal` and exits 42 (43). Its pid goes to the
/// file `pid`.
enum SidecarApp {
    static let script = #"""
        import os, signal, socket, sys, urllib.error, urllib.request
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        state, app_port, outbound = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

        def record(name, text):
            path = os.path.join(state, name)
            with open(path + ".tmp", "w") as f:
                f.write(text)
            os.rename(path + ".tmp", path)

        try:
            socket.create_connection(("127.0.0.1", outbound), timeout=2).close()
            record("first-connect", "ok")
        except OSError as error:
            record("first-connect", "error: %s" % error)
        record("pid", str(os.getpid()))

        def on_signal(signum, frame):
            record("signal", signal.Signals(signum).name)
            os._exit(42 if signum == signal.SIGTERM else 43)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        proxy = urllib.request.build_opener(urllib.request.ProxyHandler({"http": "http://127.0.0.1:%d" % outbound}))

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self, status, body):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

            def do_GET(self):
                if self.path == "/healthz":
                    healthy = os.path.exists(os.path.join(state, "healthy"))
                    self.answer(200 if healthy else 503, "ok" if healthy else "starting")
                elif self.path == "/call":
                    try:
                        with proxy.open("http://other/hello", timeout=5) as response:
                            self.answer(200, "%d %s" % (response.status, response.read().decode()))
                    except urllib.error.HTTPError as error:
                        self.answer(200, "%d %s" % (error.code, error.read().decode()))
                    except Exception as error:
                        self.answer(200, "error %s" % error)
                elif self.path.startswith("/exit/"):
                    self.answer(200, "bye")
                    os._exit(int(self.path[6:]))
                else:
                    self.answer(404, "no")

            def log_message(self, *args):
                pass

        ThreadingHTTPServer(("127.0.0.1", app_port), Handler).serve_forever()
        """#

    /// An absolute path to a Python 3 interpreter (PATH lookup, then the interpreter's own `sys.executable`,
    /// so the sidecar's child is Python itself and not a shim script).
    static func python() throws -> String {
        let path = getenv("PATH").map { String(cString: $0) as String } ?? "/usr/bin:/bin"
        let candidates: [String] = path.split(separator: ":").map { String($0) + "/python3" }
        guard let found = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw TestSupportError("python3 not found in PATH")
        }
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        let child = try ChildProcess(
            path: found, arguments: ["-c", "import sys; print(sys.executable)"], outputPrefix: directory + "/py")
        guard child.wait(timeoutMs: 10_000) == .exited(0) else { throw TestSupportError("python3 did not run") }
        let executable = child.stdout.split(separator: "\n").first.map(String.init) ?? ""
        return executable.isEmpty ? found : executable
    }
}
