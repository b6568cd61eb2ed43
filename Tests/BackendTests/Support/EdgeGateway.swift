import Foundation
import MeshTestSupport
import Glibc

/// An edge `meshgate run` in front of backends (routes and upstreams as JSON fragments), on free ports, with its
/// output in `log()`; stopped (SIGTERM) with it.
final class EdgeGateway {
    let port: UInt16
    let adminPort: UInt16
    let gateway: MeshgateRun

    init(directory: String, routes: String, upstreams: String) throws {
        port = try TestSocket.freePort()
        adminPort = try TestSocket.freePort()
        let config = """
            {"version": 1, "admin": {"address": "127.0.0.1:\(adminPort)"},
             "listeners": [{"name": "edge", "address": "127.0.0.1:\(port)", "routes": [\(routes)]}],
             "upstreams": {\(upstreams)}}
            """
        try config.write(toFile: directory + "/edge.json", atomically: true, encoding: .utf8)
        gateway = try MeshgateRun(
            config: directory + "/edge.json", arguments: ["--workers", "1"], logPath: directory + "/edge.log")
        try gateway.waitReady(adminPort: adminPort, "the edge gateway")
    }

    func log() -> String { gateway.log() }
}
