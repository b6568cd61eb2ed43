import CLinux
import Glibc
import MeshConfig
import MeshPosix

/// The demo's HTTPS listener (issue 11): a second `meshgate run` that terminates TLS (HTTP/1.1 and h2 by ALPN)
/// with a certificate made at start, in front of the gateway's first listener.
///
/// A second process rather than a listener in `routes.json`: `routes.json` stays a configuration that
/// `meshgate run` and `meshgate check` load on a fresh clone (it cannot name a certificate that only exists once
/// the demo made it), and the file the user edits while the demo runs is still the one the gateway watches
/// (docs/decisions.md, "The demo's HTTPS listener"). Everything behind it is the gateway's: JWT, routes, breakers.
public struct DemoHTTPS {
    /// Where it listens (`meshgate demo --https-port`, default 8443, on 127.0.0.1).
    let address: HostPort
    public static let defaultPort: UInt16 = 8443
    static let directory = Demo.dataDirectory + "/tls"
    static let certificate = directory + "/localhost.crt"
    static let key = directory + "/localhost.key"
    static let configPath = Demo.dataDirectory + "/https.json"
    static let openssl = "/usr/bin/openssl"

    /// The HTTPS listener on `port` (0: none), or nil when there is none: also when the demo cannot make a
    /// certificate (no `openssl` CLI, a README prerequisite), which it then says.
    static func on(port: UInt16) -> DemoHTTPS? {
        guard port != 0 else { return nil }
        guard access(openssl, X_OK) == 0 else {
            Demo.say("no HTTPS listener: \(openssl) (which makes its certificate) is not installed")
            return nil
        }
        return DemoHTTPS(address: HostPort(host: "127.0.0.1", port: port))
    }

    /// The walkthrough's base URL: `localhost`, the name the certificate is for.
    var url: String { "https://localhost:\(address.port)" }

    /// A fresh self-signed ECDSA P-256 certificate for `localhost` and 127.0.0.1, valid 30 days, made at every
    /// start (a certificate that outlived an old demo would be just as good, but a new one costs ~10 ms and needs
    /// no expiry check). The key is written by openssl with mode 0600.
    static func makeCertificate(shim: String) throws(SystemErrorText) {
        guard DemoFiles.makeDirectories(directory) else { throw SystemErrorText("cannot create \(directory)") }
        let arguments = [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", certificate, "-days", "30", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]
        let log = Demo.logDirectory + "/openssl.log"
        let child = try ChildProcess.spawn(name: "openssl", arguments: arguments, logPath: log, shim: shim)
        let deadline = clinux_monotonic_ns() + Int64(Demo.startTimeoutMs) * 1_000_000
        while !child.reap() && clinux_monotonic_ns() < deadline { usleep(10_000) }
        guard child.exitStatus == 0 else {
            child.send(SIGKILL)
            throw SystemErrorText(
                "openssl could not make the HTTPS certificate (\(child.endedHow ?? "timed out")); see \(log):\n"
                    + child.logTail())
        }
    }

    /// The HTTPS gateway's configuration: one TLS listener that forwards everything to `edge` (the gateway's
    /// first listener), no admin listener (the gateway's own is the one to watch), no retries (the gateway
    /// retries), and the request timeout a little above the gateway's longest so the gateway's answer wins.
    func configuration(edge: HostPort) -> String {
        """
        {
          "version": 1,
          "admin": null,
          "watch_config": false,
          "listeners": [{
            "name": "https",
            "address": "\(address)",
            "tls": { "certificates": [{ "cert_file": "\(Self.certificate)", "key_file": "\(Self.key)" }],
                     "alpn": ["h2", "http/1.1"] },
            "routes": [{ "match": { "path_prefix": "/" }, "upstream": "gateway", "public": true,
                         "timeout_ms": 60000, "retry": { "retries": 0 } }]
          }],
          "upstreams": { "gateway": { "endpoints": ["\(edge)"] } },
          "logging": { "level": "info" }
        }

        """
    }

    /// Makes the certificate, writes the configuration and starts the HTTPS gateway, supervised like a backend
    /// (if it exits, the demo says how to start it again and the rest keeps running).
    func start(
        edge: HostPort,
        binaries: String,
        shim: String,
        supervisor: inout DemoSupervisor
    ) throws(SystemErrorText) {
        try Self.makeCertificate(shim: shim)
        guard DemoFiles.write(Self.configPath, configuration(edge: edge)) else {
            throw SystemErrorText("cannot write \(Self.configPath)")
        }
        let log = Demo.logDirectory + "/https.log"
        let child = try ChildProcess.spawn(
            name: "meshgate-https",
            arguments: ["\(binaries)/meshgate", "run", "--config", Self.configPath, "--workers", "1"],
            logPath: log,
            shim: shim
        )
        supervisor.add(backend: child, address: address)
        try supervisor.waitReady(child, host: address.host, port: address.port, path: nil, timeoutMs: Demo.startTimeoutMs)
        Demo.say("started meshgate-https on \(address) with \(Self.configPath) (pid \(child.pid), log \(log))")
    }
}
