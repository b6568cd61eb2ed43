import Foundation
import Glibc
import MeshTestSupport

/// A real gRPC server (Python `grpcio`, its C core's HTTP/2) for the upstream side of gRPC tests. Raw bytes in
/// and out (no protobuf): the same handlers serve the services `meshgate.test.Echo`, `.Retried`, `.Slow`,
/// `.Secure` and `.Breaker`, so routes can differ by service. `Unary` answers `echo:<request>`, except:
/// `fail-first:<key>` fails UNAVAILABLE on the first call per key; `unavailable` always fails UNAVAILABLE;
/// `sleep:<ms>` sleeps first; `deadline` answers `remaining:<ms>` (what the call's deadline leaves, from the
/// `grpc-timeout` it received) or `remaining:none`. `ServerStream` answers `item 0…n-1` for `n`; `ClientStream`
/// joins what it got with `|`; `Bidi` answers `re:<each>`. Every call prints `call <Service>/<Method> <request>`.
final class GRPCTestServer {
    static let script = #"""
        import sys, time, threading, collections, functools, grpc
        from concurrent import futures

        lock = threading.Lock()
        seen = collections.Counter()

        def log(name, request):
            with lock:
                print("call %s %s" % (name, request.decode("latin-1")), flush=True)

        def unary(name, request, context):
            log(name, request)
            text = request.decode("latin-1")
            if text.startswith("fail-first:"):
                with lock:
                    seen[text] += 1
                    first = seen[text] == 1
                if first:
                    context.abort(grpc.StatusCode.UNAVAILABLE, "first try fails")
            if text == "unavailable":
                context.abort(grpc.StatusCode.UNAVAILABLE, "always")
            if text.startswith("sleep:"):
                time.sleep(int(text[6:]) / 1000)
            if text == "deadline":
                left = context.time_remaining()
                return ("remaining:none" if left is None or left > 1e9 else "remaining:%d" % int(left * 1000)).encode()
            return b"echo:" + request

        def server_stream(name, request, context):
            log(name, request)
            for i in range(int(request.decode())):
                yield ("item %d" % i).encode()

        def client_stream(name, iterator, context):
            joined = b"|".join(list(iterator))
            log(name, joined)
            return joined

        def bidi(name, iterator, context):
            for request in iterator:
                log(name, request)
                yield b"re:" + request

        kinds = {"Unary": (grpc.unary_unary_rpc_method_handler, unary),
                 "ServerStream": (grpc.unary_stream_rpc_method_handler, server_stream),
                 "ClientStream": (grpc.stream_unary_rpc_method_handler, client_stream),
                 "Bidi": (grpc.stream_stream_rpc_method_handler, bidi)}
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        for service in ("Echo", "Retried", "Slow", "Secure", "Breaker"):
            full = "meshgate.test." + service
            handlers = {method: make(functools.partial(fn, "%s/%s" % (full, method))) for method, (make, fn) in kinds.items()}
            server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(full, handlers),))
        if len(sys.argv) > 2:  # TLS: certificate and key files
            with open(sys.argv[2], "rb") as c, open(sys.argv[3], "rb") as k:
                credentials = grpc.ssl_server_credentials([(k.read(), c.read())])
            server.add_secure_port("127.0.0.1:%s" % sys.argv[1], credentials)
        else:
            server.add_insecure_port("127.0.0.1:%s" % sys.argv[1])
        server.start()
        print("ready", flush=True)
        server.wait_for_termination()
        """#

    let port: UInt16
    let process: ChildProcess

    /// With `tls` (certificate and key files) it serves gRPC over TLS (ALPN h2).
    init(tls: (cert: String, key: String)? = nil) throws {
        port = try TestSocket.freePort()
        let directory = try GatewayProcess.makeTempDirectory()
        try ChildProcess.writeFile(directory + "/grpc_server.py", Self.script)
        process = try ChildProcess(
            path: "/usr/bin/env",
            arguments: ["python3", directory + "/grpc_server.py", "\(port)"] + (tls.map { [$0.cert, $0.key] } ?? []),
            outputPrefix: directory + "/grpc_server")
        let ready = Poll.until(timeoutMs: 20_000) { self.process.poll() || self.process.stdout.contains("ready") }
        guard ready, !process.poll() else {
            throw TestSupportError("gRPC server did not start (python3 -m pip install grpcio?): \(process.stderr)")
        }
    }

    /// The calls the server handled, as `Service/Method request` (in arrival order).
    var calls: [String] {
        process.stdout.split(separator: "\n").filter { $0.hasPrefix("call meshgate.test.") }.map { String($0.dropFirst(5)) }
    }

    func stop() { _ = process.terminate(signal: SIGKILL) }

    deinit { stop() }
}

/// One call by Python `grpcio`'s client (its own HTTP/2 and gRPC framing, h2c prior knowledge) and what it saw.
struct GRPCCall {
    enum Shape: String {
        case unary, server, client, bidi
    }

    static let script = #"""
        import sys, json, grpc
        port, shape, path, payloads = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
        timeout = None if sys.argv[5] == "none" else float(sys.argv[5])
        metadata = json.loads(sys.argv[6])
        options = [("grpc.enable_http_proxy", 0)]
        if len(sys.argv) > 7:  # TLS to the gateway: the CA file and the name its certificate carries
            with open(sys.argv[7], "rb") as f:
                credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
            options.append(("grpc.ssl_target_name_override", sys.argv[8]))
            channel = grpc.secure_channel("127.0.0.1:" + port, credentials, options=options)
        else:
            channel = grpc.insecure_channel("127.0.0.1:" + port, options=options)
        out = {"code": "OK", "details": "", "responses": []}
        args = {"timeout": timeout, "metadata": [tuple(m) for m in metadata]}
        requests = [p.encode() for p in payloads]
        try:
            if shape == "unary":
                out["responses"] = [channel.unary_unary(path)(requests[0], **args)]
            elif shape == "server":
                out["responses"] = list(channel.unary_stream(path)(requests[0], **args))
            elif shape == "client":
                out["responses"] = [channel.stream_unary(path)(iter(requests), **args)]
            else:
                out["responses"] = list(channel.stream_stream(path)(iter(requests), **args))
        except grpc.RpcError as e:
            out["code"], out["details"] = e.code().name, e.details() or ""
        out["responses"] = [r.decode("latin-1") for r in out["responses"]]
        print(json.dumps(out))
        """#

    let code: String
    let details: String
    let responses: [String]

    /// Makes the call through `port` and waits for its outcome (the script exits when the call ends). With
    /// `tls` the call goes over TLS, verified against the CA file for the given name.
    init(
        port: UInt16, _ shape: Shape, _ path: String, _ payloads: [String], timeoutSeconds: Double? = nil,
        metadata: [(String, String)] = [], tls: (caFile: String, name: String)? = nil
    ) throws {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        try ChildProcess.writeFile(directory + "/grpc_client.py", Self.script)
        let payloadJSON = String(decoding: try JSONSerialization.data(withJSONObject: payloads), as: UTF8.self)
        let metadataJSON = String(
            decoding: try JSONSerialization.data(withJSONObject: metadata.map { [$0.0, $0.1] }), as: UTF8.self)
        let result = try Tool.run(
            "/usr/bin/env",
            [
                "python3", directory + "/grpc_client.py", "\(port)", shape.rawValue, path, payloadJSON,
                timeoutSeconds.map { "\($0)" } ?? "none", metadataJSON,
            ] + (tls.map { [$0.caFile, $0.name] } ?? []), timeoutMs: 30_000)
        guard result.exitCode == 0,
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        else { throw TestSupportError("grpc client: \(result.termination)\n\(result.stdout)\n\(result.stderr)") }
        code = object["code"] as? String ?? "?"
        details = object["details"] as? String ?? ""
        responses = object["responses"] as? [String] ?? []
    }
}
