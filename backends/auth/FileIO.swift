import Glibc
import MeshPosix

/// Small durable file helpers for the key directory (Glibc `open/read/write`, close-on-exec everywhere).
enum FileIO {
    /// The whole file, or nil when it cannot be read.
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return out }
            out += chunk[0..<n]
        }
    }

    /// Writes `bytes` to `path` atomically and durably with `mode`: a temporary file written and fsynced, renamed
    /// over `path`, then the directory fsynced so the rename itself survives a crash.
    static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(SystemError) {
        let temporary = path + ".tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError(errno: errno, call: "open \(temporary)") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let error = SystemError(errno: errno, call: "write \(temporary)")
                Glibc.close(fd)
                throw error
            }
            offset += n
        }
        let synced = fsync(fd) == 0
        Glibc.close(fd)
        guard synced else { throw SystemError(errno: errno, call: "fsync \(temporary)") }
        guard rename(temporary, path) == 0 else { throw SystemError(errno: errno, call: "rename \(path)") }
        syncDirectory(of: path)
    }

    /// fsync of the directory holding `path` (makes a rename or create durable).
    static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        Glibc.close(fd)
    }

    /// Names in `directory` (no `.`/`..`), or nil when it cannot be listed.
    static func list(_ directory: String) -> [String]? {
        guard let dir = opendir(directory) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
