import Foundation
import Glibc
import MeshTestSupport

/// relationship-service started as the app of a real `meshgate run` sidecar (the shipped
/// sidecar-relationships.json moved to free ports, with optional text edits), its `--profiles-grpc` pointing at
/// the sidecar's h2c listener, and the sidecar's upstream at a real profile-service (issue 16's topology).
/// relationship-service's output goes to the sidecar's log (the sidecar's child inherits its stdout).
final class SidecarStack {
    let profile: ServiceProcess
    let sidecar: MeshgateRun
    let relationshipsPort: UInt16
    let grpcPort: UInt16
    let adminPort: UInt16
    let directory: String

    /// The shipped sidecar config.
    static func shippedConfig() throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("sidecar-relationships.json")
        return try String(contentsOf: source, encoding: .utf8)
    }

    init(edits: [(String, String)] = []) throws {
        profile = try ServiceProcess("profile-service")
        directory = try ServiceProcess.temporaryDirectory("sidecar")
        relationshipsPort = try TestSocket.freePort()
        grpcPort = try TestSocket.freePort()
        adminPort = try TestSocket.freePort()
        var config = try Self.shippedConfig()
        for (text, replacement) in edits {
            guard config.contains(text) else { throw TestSupportError("sidecar config lacks \(text)") }
            config = config.replacingOccurrences(of: text, with: replacement)
        }
        config =
            config
            .replacingOccurrences(of: "\"$schema\": \"./routes.schema.json\",", with: "")
            .replacingOccurrences(of: "127.0.0.1:9102", with: "127.0.0.1:\(profile.port)")
            .replacingOccurrences(of: "127.0.0.1:9103", with: "127.0.0.1:\(relationshipsPort)")
            .replacingOccurrences(of: "127.0.0.1:15102", with: "127.0.0.1:\(grpcPort)")
            .replacingOccurrences(of: "127.0.0.1:9913", with: "127.0.0.1:\(adminPort)")
        try config.write(toFile: directory + "/sidecar.json", atomically: true, encoding: .utf8)
        sidecar = try MeshgateRun(
            config: directory + "/sidecar.json",
            arguments: [
                "--workers", "1", "--",
                ServiceProcess.binaryDirectory + "/relationship-service", "--listen", "127.0.0.1:\(relationshipsPort)",
                "--data-dir", directory + "/relationships", "--profiles-grpc", "127.0.0.1:\(grpcPort)",
            ],
            logPath: directory + "/sidecar.log")
        // The sidecar's `/readyz` (listener bound, the app healthy) and the app answers.
        try sidecar.waitReady(adminPort: adminPort, "the sidecar") { [relationshipsPort] in
            (try? HTTPClient.request(port: relationshipsPort, "GET", "/healthz"))?.status == 200
        }
    }

    deinit {
        sidecar.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The sidecar's output, relationship-service's log lines included.
    func log() -> String { sidecar.log() }

    /// The breaker state of the sidecar's profile endpoint, from its admin `/upstreams`.
    func breaker() throws -> String? {
        let upstreams = try HTTPClient.request(port: adminPort, "GET", "/upstreams").json
        return upstreams?["upstreams"]?.arrayValue?.first?["endpoints"]?.arrayValue?.first?["breaker"]?.stringValue
    }

    /// `GET path` on relationship-service.
    func get(_ path: String, headers: [(String, String)] = []) throws -> HTTPReply {
        try HTTPClient.request(port: relationshipsPort, "GET", path, headers: headers)
    }

    /// Makes `followers` follow `user`, as each of them.
    func follow(_ user: String, by followers: [String]) throws {
        for follower in followers {
            let reply = try HTTPClient.request(
                port: relationshipsPort, "PUT", "/follows/\(user)", headers: [("x-user-id", follower)])
            guard reply.status == 200 else { throw TestSupportError("follow: \(reply.text)") }
        }
    }
}
