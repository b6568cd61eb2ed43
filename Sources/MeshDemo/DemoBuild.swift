import Glibc
import MeshPosix

/// `swift run meshgate demo` on a fresh clone builds only `meshgate`: build the service binaries it needs
/// too, with the same configuration, so the README's one command brings the whole stack up.
enum DemoBuild {
    /// Builds each missing service binary when `binaries` is a SwiftPM build folder; true when all exist.
    static func ensure(_ names: [String], in binaries: String) -> Bool {
        let missing = names.filter { access("\(binaries)/\($0)", X_OK) != 0 }
        if missing.isEmpty { return true }
        let parts = binaries.split(separator: "/", omittingEmptySubsequences: false)
        guard let marker = parts.firstIndex(of: ".build") else { return false }
        let root = parts[..<marker].joined(separator: "/")
        let configuration = binaries.hasSuffix("/release") ? "release" : "debug"
        for name in missing {
            Demo.say("building \(name) (swift build -c \(configuration) --product \(name))…")
            let arguments = ["swift", "build", "--package-path", root, "-c", configuration, "--product", name]
            guard run(arguments) == 0 else {
                Console.error("meshgate demo: building \(name) failed; run `swift build` in \(root) to see why\n")
                return false
            }
        }
        return true
    }

    /// Runs a command with the demo's own stdout/stderr and waits for it; its exit status.
    private static func run(_ arguments: [String]) -> Int32 {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, arguments[0], nil, nil, &argv, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }
}
