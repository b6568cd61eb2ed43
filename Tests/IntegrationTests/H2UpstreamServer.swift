import Foundation
import Glibc
import MeshTestSupport

/// An independent h2c server for the upstream side (Python's `h2` package, the hyper-h2 state machine): it
/// answers every stream with what it received, as JSON (`method`, `scheme`, `authority`, `path`, `headers`, `body`,
/// the connection's number and the stream id), so a test sees exactly what the gateway sent over HTTP/2.
/// Paths: `/trailers…` answers without `content-length`, then trailers `grpc-status: 0` and `x-trailer: yes`;
/// `/big…` answers 200,000 octets (flow control both ways); `/reset…` resets the stream (INTERNAL_ERROR);
/// `/empty…` answers 204 with END_STREAM on the head; `/refuse-once…` is refused (REFUSED_STREAM) the first time
/// per path, and `/goaway-once…` gets a GOAWAY whose last-stream-id is below it (then the connection closes);
/// `/slow-read…` stops reading for 1.5 s once its head arrived and answers `{"length", "intact"}` for a body of
/// `a`…`z` repeated. With `wideWindows` the server opens its windows to 2^31-1 (a large upload is then limited
/// by sockets and the gateway's output budget, not by flow control).
final class H2UpstreamServer {
    static let script = #"""
        import asyncio, json, os, sys
        from h2.settings import SettingCodes
        from h2.config import H2Configuration
        from h2.connection import H2Connection
        from h2.events import RequestReceived, DataReceived, StreamEnded, WindowUpdated, StreamReset
        connections = [0]
        refused = set()

        class Server(asyncio.Protocol):
            def connection_made(self, transport):
                connections[0] += 1
                self.number = connections[0]
                self.transport = transport
                self.conn = H2Connection(H2Configuration(client_side=False, header_encoding="utf-8"))
                self.conn.initiate_connection()
                if os.environ.get("H2_WIDE_WINDOWS") == "1":
                    self.conn.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: 2**31 - 1})
                    self.conn.increment_flow_control_window(2**31 - 1 - 65535)
                self.requests, self.pending = {}, {}
                self.flush()

            def flush(self):
                data = self.conn.data_to_send()
                if data:
                    self.transport.write(data)

            def data_received(self, data):
                for event in self.conn.receive_data(data):
                    if isinstance(event, RequestReceived):
                        self.requests[event.stream_id] = (event.headers, bytearray())
                        if dict(event.headers).get(":path", "").startswith("/slow-read"):
                            # Not reading for a while: the gateway's socket and then its codec's output fill up.
                            self.transport.pause_reading()
                            asyncio.get_running_loop().call_later(1.5, self.transport.resume_reading)
                    elif isinstance(event, DataReceived):
                        self.requests[event.stream_id][1].extend(event.data)
                        self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, StreamEnded):
                        self.respond(event.stream_id)
                    elif isinstance(event, WindowUpdated):
                        for sid in list(self.pending):
                            self.send_pending(sid)
                    elif isinstance(event, StreamReset):
                        self.pending.pop(event.stream_id, None)
                self.flush()

            def respond(self, sid):
                headers, body = self.requests.pop(sid)
                pseudo = dict(h for h in headers if h[0].startswith(":"))
                info = {"method": pseudo.get(":method"), "scheme": pseudo.get(":scheme"),
                        "authority": pseudo.get(":authority"), "path": pseudo.get(":path"),
                        "headers": [[k, v] for k, v in headers if not k.startswith(":")],
                        "body": body.decode("latin-1"), "connection": self.number, "stream": sid}
                path = info["path"] or ""
                if path.startswith("/reset"):
                    self.conn.reset_stream(sid, error_code=2)
                    return
                if path.startswith("/refuse-once") and path not in refused:
                    refused.add(path)
                    self.conn.reset_stream(sid, error_code=7)  # REFUSED_STREAM: not processed (RFC 9113 §8.7)
                    return
                if path.startswith("/goaway-once") and path not in refused:
                    refused.add(path)
                    self.conn.close_connection(error_code=0, last_stream_id=max(0, sid - 2))  # this stream is above it
                    self.flush()
                    self.transport.close()
                    return
                if path.startswith("/empty"):
                    self.conn.send_headers(sid, [(":status", "204")], end_stream=True)
                    return
                payload = b"x" * 200000 if path.startswith("/big") else json.dumps(info).encode()
                if path.startswith("/slow-read"):
                    expected = bytes(97 + i % 26 for i in range(len(body)))
                    payload = json.dumps({"length": len(body), "intact": bytes(body) == expected}).encode()
                fields = [(":status", "200"), ("content-type", "application/json"), ("x-upstream", "h2")]
                if path.startswith("/trailers"):
                    self.conn.send_headers(sid, fields)
                    self.pending[sid] = [payload, [("grpc-status", "0"), ("x-trailer", "yes")]]
                else:
                    self.conn.send_headers(sid, fields + [("content-length", str(len(payload)))])
                    self.pending[sid] = [payload, None]
                self.send_pending(sid)

            def send_pending(self, sid):
                payload, trailers = self.pending[sid]
                while payload:
                    room = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
                    if room <= 0:
                        self.pending[sid][0] = payload
                        return
                    self.conn.send_data(sid, payload[:room])
                    payload = payload[room:]
                del self.pending[sid]
                if trailers:
                    self.conn.send_headers(sid, trailers, end_stream=True)
                else:
                    self.conn.end_stream(sid)

        async def main():
            context = None
            if len(sys.argv) > 2:  # TLS: certificate, key, ALPN protocols (comma-separated)
                import ssl
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(sys.argv[2], sys.argv[3])
                context.set_alpn_protocols(sys.argv[4].split(","))
            server = await asyncio.get_running_loop().create_server(Server, "127.0.0.1", int(sys.argv[1]), ssl=context)
            print("ready", flush=True)
            async with server:
                await server.serve_forever()

        asyncio.run(main())
        """#

    let port: UInt16
    let process: ChildProcess

    /// Starts the server on a free port (or `port`) and waits until it accepts connections. With `tls`
    /// (certificate, key, ALPN protocols offered) it serves HTTP/2 over TLS.
    init(port: UInt16? = nil, tls: (cert: String, key: String, alpn: [String])? = nil, wideWindows: Bool = false) throws {
        self.port = try port ?? TestSocket.freePort()
        let directory = try GatewayProcess.makeTempDirectory()
        try ChildProcess.writeFile(directory + "/h2server.py", Self.script)
        process = try ChildProcess(
            path: "/usr/bin/env",
            arguments: ["python3", directory + "/h2server.py", "\(self.port)"]
                + (tls.map { [$0.cert, $0.key, $0.alpn.joined(separator: ",")] } ?? []),
            outputPrefix: directory + "/h2server", environment: wideWindows ? ["H2_WIDE_WINDOWS": "1"] : [:])
        let ready = Poll.until(timeoutMs: 15_000) { self.process.poll() || self.process.stdout.contains("ready") }
        guard ready, !process.poll() else {
            throw TestSupportError("h2 server did not start (python3 -m pip install h2?): \(process.stderr)")
        }
    }

    func stop() { _ = process.terminate(signal: SIGKILL) }

    deinit { stop() }

    /// The JSON the server answered with.
    static func echo(_ body: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] ?? [:]
    }
}
