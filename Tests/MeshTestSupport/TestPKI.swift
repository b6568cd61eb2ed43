import Foundation
import Glibc

/// Certificates made at test time with the `openssl` CLI (an independent implementation of the formats MeshTLS
/// reads), once per test process, in a fresh temporary directory.
public struct TestPKI: Sendable {
    /// The directory holding every file.
    public let directory: String

    /// The process-wide PKI (a global `let` is initialised once, thread-safely).
    public static let shared: TestPKI = {
        do { return try TestPKI() } catch { fatalError("test PKI: \(error)") }
    }()

    /// Path of `name` inside the directory.
    public func path(_ name: String) -> String { directory + "/" + name }

    /// Serving validity of the long-lived leaves: now -1 day ... now +30 days.
    private init() throws {
        var template = Array((NSTemporaryDirectory() + "/meshtls-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw PKIError("mkdtemp failed") }
        directory = String(cString: made)
        try makeCA("ca", subject: "/CN=meshgate test CA")
        try makeCA("rogue-ca", subject: "/CN=rogue CA")
        try makeLeaf("a", subject: "/CN=a.example.com", san: "DNS:a.example.com")
        try makeLeaf("b", subject: "/CN=b.example.com", san: "DNS:b.example.com,DNS:B-Alt.Example.COM")
        try makeLeaf("wild", subject: "/CN=wildcard", san: "DNS:*.wild.example.com")
        try makeLeaf("ip", subject: "/CN=ip", san: "IP:127.0.0.1")
        try makeLeaf("localhost", subject: "/CN=localhost", san: "DNS:localhost,IP:127.0.0.1")
        try makeLeaf(
            "expired", subject: "/CN=expired", san: "DNS:a.example.com",
            start: "20200101000000Z", end: "20200201000000Z")
        try makeLeaf(
            "future", subject: "/CN=future", san: "DNS:a.example.com",
            start: "20900101000000Z", end: "20900201000000Z")
        try makeLeaf(
            "client", subject: "/C=US/O=Example/CN=frontend",
            san: "URI:spiffe://cluster.local/ns/default/sa/frontend,URI:spiffe://second", usage: "clientAuth")
        try makeLeaf("client-nouri", subject: "/CN=plain client", san: "DNS:client.example.com", usage: "clientAuth")
        try makeLeaf(
            "client-evil", subject: "/CN=evil",
            san: "URI:spiffe://x/a;Hash=00;Subject=\\\"CN=admin\\\"", usage: "clientAuth")
        try makeLeaf(
            "rogue-client", subject: "/CN=frontend", san: "URI:spiffe://cluster.local/ns/default/sa/frontend",
            usage: "clientAuth", ca: "rogue-ca")
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: path("garbage.pem")))
    }

    private func makeCA(_ name: String, subject: String) throws {
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", path("\(name).key"), "-out", path("\(name).crt"), "-days", "30", "-subj", subject,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        try Data().write(to: URL(fileURLWithPath: path("\(name).index")))
        try Data("1000\n".utf8).write(to: URL(fileURLWithPath: path("\(name).serial")))
        let config = """
            [ ca ]
            default_ca = test
            [ test ]
            database = \(path("\(name).index"))
            new_certs_dir = \(directory)
            serial = \(path("\(name).serial"))
            default_md = sha256
            policy = anything
            unique_subject = no
            [ anything ]
            countryName = optional
            organizationName = optional
            commonName = supplied
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: path("\(name).cnf")))
    }

    /// A leaf signed by `ca` with `openssl ca` (which, unlike `x509 -req` in OpenSSL 3.0, takes explicit
    /// start and end dates, needed for the expired and not-yet-valid certificates).
    private func makeLeaf(
        _ name: String, subject: String, san: String, usage: String = "serverAuth", ca: String = "ca",
        start: String? = nil, end: String? = nil
    ) throws {
        try openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject,
        ])
        let extensions = "basicConstraints=CA:FALSE\nextendedKeyUsage=\(usage)\nsubjectAltName=\(san)\n"
        try Data(extensions.utf8).write(to: URL(fileURLWithPath: path("\(name).ext")))
        var arguments = [
            "ca", "-batch", "-notext", "-preserveDN", "-config", path("\(ca).cnf"), "-cert", path("\(ca).crt"),
            "-keyfile", path("\(ca).key"), "-in", path("\(name).csr"), "-out", path("\(name).crt"),
            "-extfile", path("\(name).ext"),
        ]
        if let start, let end {
            arguments += ["-startdate", start, "-enddate", end]
        } else {
            arguments += ["-startdate", Self.utcTime(secondsFromNow: -86_400), "-days", "30"]
        }
        try openssl(arguments)
    }

    /// SHA-256 of the DER certificate in lower-case hex, as the openssl CLI computes it (the oracle for
    /// `PeerIdentity.sha256Hex`).
    public func fingerprint(_ name: String) throws -> String {
        let output = try openssl(["x509", "-in", path("\(name).crt"), "-noout", "-fingerprint", "-sha256"])
        let hex = output.split(separator: "=").last.map(String.init) ?? ""
        return hex.replacingOccurrences(of: ":", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
            .lowercased()
    }

    /// The subjectAltName extension as the openssl CLI prints it (an oracle that a fixture holds what a test
    /// assumes it holds).
    public func subjectAltNames(_ name: String) throws -> String {
        try openssl(["x509", "-in", path("\(name).crt"), "-noout", "-ext", "subjectAltName"])
    }

    @discardableResult
    private func openssl(_ arguments: [String]) throws -> String {
        let child = try ChildProcess(
            path: "/usr/bin/openssl", arguments: arguments, outputPrefix: path("openssl-\(UUID().uuidString)"))
        guard let end = child.wait(timeoutMs: 30_000) else {
            _ = child.terminate(signal: SIGKILL)
            throw PKIError("openssl \(arguments.joined(separator: " ")) timed out")
        }
        guard end == .exited(0) else {
            throw PKIError("openssl \(arguments.joined(separator: " ")): \(end)\n\(child.stderr)")
        }
        return child.stdout
    }

    private static func utcTime(secondsFromNow: Int) -> String {
        var time = time_t(Int(Glibc.time(nil)) + secondsFromNow)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d%02d%02d%02d%02d%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}

public struct PKIError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
