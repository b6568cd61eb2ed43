import Glibc
import MeshTestSupport

/// A config directory that is rewritten the ways real deployments rewrite it (SPEC §7): an editor's
/// write-to-temp-then-rename, or a Kubernetes ConfigMap volume, where `routes.json` is a symlink to
/// `..data/routes.json`, `..data` is a symlink to a timestamped directory, and an update writes a new
/// directory and renames a temporary symlink over `..data` (what the kubelet's AtomicWriter does).
final class ConfigDirectory {
    /// How `write` replaces the file.
    enum Style: String, Sendable, CustomStringConvertible {
        /// Write `.routes.json.tmp`, then rename it over `routes.json`.
        case rename
        /// Kubernetes `..data` symlink swap.
        case kubernetes

        var description: String { rawValue }
    }

    /// The directory (owned: removed with the gateway's directory by the caller).
    let directory: String
    let style: Style
    private var version = 0
    private var currentDataDirectory: String?

    /// The path the gateway is started with.
    var path: String { directory + "/routes.json" }

    /// Lays out `directory` for `style` with `initial` as the first content.
    init(directory: String, style: Style, initial: String) throws {
        self.directory = directory
        self.style = style
        if style == .kubernetes {
            try writeDataDirectory(initial)
            try ConfigDirectory.symlink("..data/routes.json", at: path)
        } else {
            try write(initial)
        }
    }

    /// Replaces the config atomically with `text`.
    func write(_ text: String) throws {
        switch style {
        case .rename:
            let temp = directory + "/.routes.json.tmp"
            try ChildProcess.writeFile(temp, text)
            guard rename(temp, path) == 0 else { throw TestSupportError.system("rename \(temp)") }
        case .kubernetes:
            try writeDataDirectory(text)
        }
    }

    /// New `..2026_…` directory, `..data_tmp` → it, rename over `..data`, remove the old directory.
    private func writeDataDirectory(_ text: String) throws {
        version += 1
        let name = "..2026_11_25_08_00_00.\(version)"
        guard mkdir(directory + "/" + name, 0o755) == 0 else { throw TestSupportError.system("mkdir \(name)") }
        try ChildProcess.writeFile(directory + "/" + name + "/routes.json", text)
        let temp = directory + "/..data_tmp"
        try ConfigDirectory.symlink(name, at: temp)
        guard rename(temp, directory + "/..data") == 0 else { throw TestSupportError.system("rename ..data_tmp") }
        if let old = currentDataDirectory {
            unlink(directory + "/" + old + "/routes.json")
            rmdir(directory + "/" + old)
        }
        currentDataDirectory = name
    }

    private static func symlink(_ target: String, at path: String) throws {
        guard Glibc.symlink(target, path) == 0 else { throw TestSupportError.system("symlink \(path)") }
    }
}
