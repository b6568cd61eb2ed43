import Foundation
import Glibc
import MeshTestSupport
import Testing

/// `scripts/build-image.sh` (SPEC §12, issue 14), run on this build's own binaries (no release build here):
/// the OCI layout it writes is read back with skopeo (an implementation other than umoci, which wrote it),
/// unpacked with umoci, and the programs are run from the unpacked rootfs under `chroot` as user 65532, with
/// /proc mounted in a private mount namespace and the host's network, so the test reaches them on 127.0.0.1.
/// Needs root (chroot, mount) and the Debian packages umoci and skopeo, which `.ci/run` installs; without them
/// the tests fail and say what is missing.
@Suite struct ContainerImageTests {
    static let repository: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    /// Every `image:` the Kubernetes manifests run exists in the layout under exactly that name, with the entrypoint
    /// of the program it is named after and user 65532; the gateway's image defaults to the documented config.
    @Test func theLayoutHoldsEveryImageTheManifestsRun() throws {
        let image = try BuiltImage()
        let names = try ContainerImageTests.manifestImageNames()
        #expect(names.contains { $0.hasSuffix("/meshgate:\(image.version)") }, "manifests run \(names)")
        let index = try JSONSerialization.jsonObject(
            with: Data(ChildProcess.readFile(image.layout + "/index.json").utf8)) as? [String: Any] ?? [:]
        let tagged = (index["manifests"] as? [[String: Any]] ?? []).compactMap {
            ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"]
        }
        for name in names {
            #expect(tagged.contains(name), "index.json has no ref.name \(name): \(tagged)")
            let program = String(name.split(separator: "/").last!.split(separator: ":").first!)
            let config = try image.inspectConfig(name)
            let entrypoint = config["Entrypoint"] as? [String] ?? []
            #expect(entrypoint.first == "/usr/local/bin/" + program, "\(name): entrypoint \(entrypoint)")
            #expect(config["User"] as? String == "65532:65532", "\(name): user \(config["User"] ?? "none")")
        }
        let gateway = try image.inspectConfig(image.gatewayName)
        #expect(gateway["Entrypoint"] as? [String] == ["/usr/local/bin/meshgate", "run"])
        #expect(gateway["Cmd"] as? [String] == ["--config", "/etc/meshgate/routes.json"])
    }

    /// The rootfs has what a program without a base image needs: the nonroot user and group, CA certificates,
    /// a sticky world-writable /tmp, and every library the binaries load (the gateway runs below).
    @Test func theRootfsHasUsersCertificatesAndATmp() throws {
        let image = try BuiltImage()
        let rootfs = try image.unpack()
        #expect(ChildProcess.readFile(rootfs + "/etc/passwd").contains("nonroot:x:65532:65532:"))
        #expect(ChildProcess.readFile(rootfs + "/etc/group").contains("nonroot:x:65532:"))
        let certificates = ChildProcess.readFile(rootfs + "/etc/ssl/certs/ca-certificates.crt")
        #expect(certificates.contains("-----BEGIN CERTIFICATE-----"), "no CA bundle in the image")
        var info = stat()
        #expect(stat(rootfs + "/tmp", &info) == 0 && info.st_mode & 0o7777 == 0o1777, "/tmp mode \(info.st_mode)")
        #expect(access(rootfs + "/bin/sh", F_OK) != 0, "a shell in an image built from nothing")
    }

    /// The gateway runs from the unpacked rootfs as 65532, reports ready on its admin listener, proxies to an
    /// upstream on the host, and exits 0 on SIGTERM.
    @Test func theGatewayRunsFromTheUnpackedRootfs() throws {
        let image = try BuiltImage()
        let rootfs = try image.unpack()
        let upstream = try TestUpstream(.fixed(UpstreamReply(body: "from the host")))
        defer { upstream.shutdown() }
        let port = try TestSocket.freePort()
        let admin = try TestSocket.freePort()
        try ChildProcess.writeFile(rootfs + "/etc/meshgate/routes.json", """
            { "version": 1, "admin": { "address": "127.0.0.1:\(admin)" },
              "listeners": [ { "name": "edge", "address": "127.0.0.1:\(port)",
                "routes": [ { "match": { "path_prefix": "/" }, "upstream": "host" } ] } ],
              "upstreams": { "host": { "endpoints": ["127.0.0.1:\(upstream.port)"] } },
              "watch_config": false }
            """)
        // The image's entrypoint and default command, as a runtime would start it.
        let gateway = try image.runInRootfs(
            rootfs, ["/usr/local/bin/meshgate", "run", "--config", "/etc/meshgate/routes.json", "--workers", "1"])
        defer { _ = gateway.terminate(signal: SIGKILL, graceMs: 2000) }
        let ready = Poll.until(timeoutMs: 15_000) { gateway.poll() ? true : AdminClient(port: admin).readyStatus() == 200 }
        let state = gateway.termination.map { "\($0)" } ?? "running"
        try #require(ready && !gateway.poll(), "gateway not ready (\(state)):\n\(gateway.stdout)\n\(gateway.stderr)")
        try ContainerImageTests.expectConfined(pid: gateway.pid, rootfs: rootfs)

        let response = try RawClient(port: port).request("GET /hello HTTP/1.1\r\nHost: edge.test\r\n\r\n")
        #expect(response.status == 200 && response.bodyText == "from the host", "\(response)")
        #expect(upstream.waitForRequests(1).first?.head.startLine[1] == "/hello")
        #expect(gateway.terminate(signal: SIGTERM, graceMs: 10_000) == .exited(0), "\(gateway.stdout)")
    }

    /// A backend from the same layer, through its own image's entrypoint: SQLite loads and its data lands in
    /// the image's /tmp as 65532.
    @Test func aBackendRunsFromTheUnpackedRootfs() throws {
        let image = try BuiltImage()
        let rootfs = try image.unpack()
        let entrypoint = try image.inspectConfig(image.name("profile-service"))["Entrypoint"] as? [String] ?? []
        let port = try TestSocket.freePort()
        let backend = try image.runInRootfs(
            rootfs, entrypoint + ["--listen", "127.0.0.1:\(port)", "--data-dir", "/tmp/profile"])
        defer { _ = backend.terminate(signal: SIGKILL, graceMs: 2000) }
        var health: HTTPResponse?
        Poll.until(timeoutMs: 15_000) {
            if backend.poll() { return true }
            health = try RawClient(port: port).request("GET /healthz HTTP/1.1\r\nHost: profile\r\n\r\n")
            return true
        }
        let answer = health.map { "\($0)" } ?? "no answer"
        try #require(health?.status == 200, Comment(rawValue: "profile-service: \(answer)\n\(backend.stdout)\n\(backend.stderr)"))
        let files = (try? FileManager.default.contentsOfDirectory(atPath: rootfs + "/tmp/profile")) ?? []
        #expect(!files.isEmpty, "no SQLite file under the image's /tmp/profile")
        #expect(backend.terminate(signal: SIGTERM, graceMs: 10_000) == .exited(0), "\(backend.stdout)")
    }

    /// The running process is chrooted into `rootfs` and runs as user 65532.
    static func expectConfined(pid: pid_t, rootfs: String) throws {
        let root = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root")
        #expect(root == URL(fileURLWithPath: rootfs).resolvingSymlinksInPath().path, "root is \(root)")
        let status = ChildProcess.readFile("/proc/\(pid)/status")
        let uid = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }.map(String.init) ?? "?"
        #expect(uid.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().allSatisfy { $0 == "65532" }, "\(uid)")
    }

    /// The `image:` values of deploy/kubernetes/*.yaml.
    static func manifestImageNames() throws -> [String] {
        let directory = repository + "/deploy/kubernetes"
        var names: Set<String> = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory) where file.hasSuffix(".yaml") {
            for line in ChildProcess.readFile(directory + "/" + file).split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard trimmed.hasPrefix("image:") else { continue }
                names.insert(trimmed.dropFirst(6).trimmingCharacters(in: CharacterSet(charactersIn: " \"'")))
            }
        }
        guard !names.isEmpty else { throw TestSupportError("no image: lines in \(directory)") }
        return names.sorted()
    }
}

/// One run of `scripts/build-image.sh --binary-dir <this build>` into a private temp directory; `remove()`
/// deletes it (explicitly, so it never goes while a process still runs from it).
final class BuiltImage {
    /// The temp directory holding the layout and, once unpacked, the bundle.
    let directory: String
    /// The OCI image layout the script wrote.
    let layout: String
    /// What `meshgate version` reports: the tags' version.
    let version: String
    private var runs = 0

    init() throws {
        try BuiltImage.requirePrerequisites()
        let binary = try GatewayProcess.binaryPath()
        let versionOutput = try GatewayProcess.command(["version"]).stdout.split(separator: " ")
        guard versionOutput.count >= 2, versionOutput[0] == "meshgate" else {
            throw TestSupportError("meshgate version printed \(versionOutput)")
        }
        version = String(versionOutput[1])
        directory = try GatewayProcess.makeTempDirectory()
        layout = directory + "/image"
        do {
            let build = try ChildProcess(
                path: ContainerImageTests.repository + "/scripts/build-image.sh",
                arguments: ["--binary-dir", String(binary[..<binary.lastIndex(of: "/")!])],
                outputPrefix: directory + "/build", environment: ["MESHGATE_IMAGE_OUT": layout])
            let termination = build.wait(timeoutMs: 180_000) ?? build.terminate(signal: SIGKILL)
            guard termination == .exited(0) else {
                throw TestSupportError("scripts/build-image.sh: \(termination)\n\(build.stdout)\n\(build.stderr)")
            }
            let printed = build.stdout.split(separator: "\n").last.map(String.init) ?? ""
            let expected = URL(fileURLWithPath: layout).resolvingSymlinksInPath().path
            guard printed == expected else {
                throw TestSupportError("build-image.sh printed '\(printed)' last, not the layout \(expected)")
            }
        } catch {
            remove()
            throw error
        }
    }

    /// Deletes the layout and any unpacked bundle.
    func remove() { GatewayProcess.removeDirectory(directory) }

    /// The tag the script gives `program`'s image.
    func name(_ program: String) -> String { "ghcr.io/meshgate/\(program):\(version)" }

    /// The gateway's image.
    var gatewayName: String { name("meshgate") }

    /// `skopeo inspect --config` of tag `name`: the image configuration's `config` object.
    func inspectConfig(_ name: String) throws -> [String: Any] {
        let result = try Tool.run(BuiltImage.tool("skopeo"), ["inspect", "--config", "oci:\(layout):\(name)"])
        guard result.exitCode == 0,
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        else { throw TestSupportError("skopeo inspect \(name): \(result.termination)\n\(result.stderr)") }
        return object["config"] as? [String: Any] ?? [:]
    }

    /// `umoci unpack` of the gateway's tag; returns the rootfs path.
    func unpack() throws -> String {
        let bundle = directory + "/bundle"
        let result = try Tool.run(
            BuiltImage.tool("umoci"), ["unpack", "--image", "\(layout):\(gatewayName)", bundle], timeoutMs: 120_000)
        guard result.exitCode == 0 else {
            throw TestSupportError("umoci unpack: \(result.termination)\n\(result.stdout)\(result.stderr)")
        }
        return bundle + "/rootfs"
    }

    /// Starts `argv` chrooted into `rootfs` as 65532:65532, in a private mount namespace with /proc mounted
    /// (the Swift runtime reads the command line from /proc/self/cmdline). Every step execs, so the returned
    /// process is the program itself; the network namespace is the host's.
    func runInRootfs(_ rootfs: String, _ argv: [String]) throws -> ChildProcess {
        runs += 1
        let script = #"mount -t proc proc "$1/proc" && root="$1" && shift && exec chroot --userspec=65532:65532 "$root" "$@""#
        return try ChildProcess(
            path: try BuiltImage.tool("unshare"), arguments: ["--mount", "/bin/sh", "-c", script, "sh", rootfs] + argv,
            outputPrefix: directory + "/run\(runs)", environment: BuiltImage.sanitizerOptionsToStderr())
    }

    /// Under scripts/sanitize.sh the binaries in the image are sanitized and `*SAN_OPTIONS` carry a host
    /// `log_path` that does not exist inside the rootfs (the sanitizer runtime then refuses to start the
    /// program). Inside the chroot a report goes to stderr instead; with ASan's halt_on_error the program
    /// aborts, so the test's exit-status expectations still fail on any report.
    static func sanitizerOptionsToStderr() -> [String: String] {
        var rewritten: [String: String] = [:]
        for name in ["ASAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS"] {
            guard let value = getenv(name).map({ String(cString: $0) }) else { continue }
            let options = value.split(separator: ":").map { $0.hasPrefix("log_path=") ? "log_path=stderr" : String($0) }
            rewritten[name] = options.joined(separator: ":")
        }
        return rewritten
    }

    /// Root (chroot, mount) and the tools, or an error that names what is missing.
    static func requirePrerequisites() throws {
        guard geteuid() == 0 else {
            throw TestSupportError("ContainerImageTests need root (chroot and a mount namespace for /proc); CI runs as root")
        }
        for name in ["umoci", "skopeo", "unshare", "chroot", "mount"] { _ = try tool(name) }
    }

    /// `name`'s path on $PATH (plus the sbin directories), or an error saying how to install it.
    static func tool(_ name: String) throws -> String {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"] {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw TestSupportError(
            "\(name) not found on \(path): the image tests need the Debian packages umoci and skopeo (apt-get install umoci skopeo; .ci/run installs them)")
    }
}
