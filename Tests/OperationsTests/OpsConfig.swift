import Glibc
import MeshTestSupport

/// Config documents (SPEC §3) for the operations tests: an admin listener on 127.0.0.1, named listeners and
/// routes, and upstreams on local ports. Fragments are raw JSON texts.
enum OpsConfig {
    /// A whole config: `admin` port, `listeners` (from `listener`), upstreams by name → port (each with the
    /// members `upstreamExtra`), `limits`, and `extra` root members (raw JSON, e.g. `"app": {...}`).
    static func document(
        admin: UInt16, listeners: [String], upstreams: [String: UInt16], upstreamExtra: String = "",
        limits: String = "{}", watch: Bool, extra: String = ""
    ) -> String {
        let more = upstreamExtra.isEmpty ? "" : ", " + upstreamExtra
        let upstreamText = upstreams.sorted { $0.key < $1.key }
            .map { "\"\($0.key)\": { \"endpoints\": [\"127.0.0.1:\($0.value)\"]\(more) }" }
            .joined(separator: ",\n    ")
        return """
            {
              "version": 1,
              "admin": { "address": "127.0.0.1:\(admin)" },
              "listeners": [
                \(listeners.joined(separator: ",\n    "))
              ],
              "upstreams": {
                \(upstreamText)
              },
              "limits": \(limits),
              "logging": { "level": "info", "access_log": false },\(extra.isEmpty ? "" : "\n  " + extra + ",")
              "watch_config": \(watch)
            }
            """
    }

    /// One `edge` listener whose catch-all route sends everything to the upstream `up`.
    static func edge(admin: UInt16, port: UInt16, upstream: UInt16, limits: String = "{}") -> String {
        document(
            admin: admin, listeners: [listener("edge", port: port, routes: [route("all", prefix: "/", to: "up")])],
            upstreams: ["up": upstream], limits: limits, watch: false)
    }

    /// A listener object on 127.0.0.1:`port`.
    static func listener(_ name: String, port: UInt16, routes: [String]) -> String {
        "{ \"name\": \"\(name)\", \"address\": \"127.0.0.1:\(port)\", \"routes\": [\(routes.joined(separator: ", "))] }"
    }

    /// A named route sending `pathPrefix` to `upstream`, with extra members (raw JSON).
    static func route(_ name: String, prefix: String, to upstream: String, _ extra: String = "") -> String {
        let tail = extra.isEmpty ? "" : ", " + extra
        return
            "{ \"name\": \"\(name)\", \"match\": { \"path_prefix\": \"\(prefix)\" }, "
            + "\"upstream\": \"\(upstream)\"\(tail) }"
    }
}

/// Free listener and admin ports and a temp directory with the path its config goes to: what every operations
/// test that writes its own config starts from.
struct OpsFiles {
    let port: UInt16
    let adminPort: UInt16
    let directory: String
    var path: String { directory + "/routes.json" }

    init() throws {
        port = try TestSocket.freePort()
        adminPort = try TestSocket.freePort()
        directory = try GatewayProcess.makeTempDirectory()
    }

    /// Writes the one-listener `OpsConfig.edge` config for `upstream` with `limits`.
    func writeEdge(upstream: UInt16, limits: String = "{}") throws {
        try ChildProcess.writeFile(path, OpsConfig.edge(admin: adminPort, port: port, upstream: upstream, limits: limits))
    }
}

extension GatewayProcess {
    /// Starts `meshgate run --config path --workers N [-- app...]` with output in `directory` and waits until
    /// `port` accepts, then (bounded) until the admin listener on `adminPort` answers `/healthz`.
    static func start(
        configPath: String, directory: String, port: UInt16, adminPort: UInt16, workers: Int = 2, app: [String] = []
    ) throws -> GatewayProcess {
        var arguments = ["run", "--config", configPath, "--workers", "\(workers)"]
        if !app.isEmpty { arguments += ["--"] + app }
        let process = try GatewayProcess(arguments: arguments, directory: directory, port: port)
        let admin = AdminClient(port: adminPort)
        guard Poll.until(timeoutMs: 5000, { try admin.get("/healthz").status == 200 }) else {
            throw TestSupportError("admin listener on \(adminPort) never answered:\n\(process.stdout)")
        }
        return process
    }

    /// Sends `signal` to the process.
    func signal(_ signal: Int32) { kill(pid, signal) }

    /// The JSON log lines with `msg` equal to `message` so far.
    func logLines(_ message: String) -> [[String: Any]] { JSONLog.lines(stdout, message: message) }
}

/// Common GETs of the operations tests.
extension RawClient {
    /// Sends a keep-alive `GET path` and reads the response.
    func get(_ path: String, host: String = "ops.test") throws -> HTTPResponse {
        try request("GET \(path) HTTP/1.1\r\nHost: \(host)\r\n\r\n")
    }
}
