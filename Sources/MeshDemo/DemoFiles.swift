import Glibc
import MeshBlockingHTTP
import MeshPosix

/// File and socket helpers of `meshgate demo` (blocking; the demo runs no event loop; HTTP through
/// MeshBlockingHTTP).
enum DemoFiles {
    /// The whole file, or nil.
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return n == 0 ? out : nil }
            out += chunk[0..<n]
        }
    }

    /// The running executable (`/proc/self/exe`), the `meshgate` binary.
    static func executablePath() -> String? { readLink("/proc/self/exe") }

    /// The directory of the running executable, where `swift build` puts every product.
    static func executableDirectory() -> String? {
        guard let path = executablePath(), let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }

    /// The target of a symbolic link (a /proc link: `socket:[123]`, an executable's path), or nil.
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The names in a directory (without `.` and `..`); empty when it cannot be read. The directory's own
    /// descriptor is closed before this returns.
    static func list(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The current directory, or nil.
    static func currentDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Replaces `path` with `text` (mode 0600); false when it cannot be opened.
    static func write(_ path: String, _ text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        Console.write(text, to: fd)
        return true
    }

    /// `mkdir -p` with mode 0700.
    static func makeDirectories(_ path: String) -> Bool {
        var built = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            built += "/" + component
            if mkdir(built, 0o700) != 0 && errno != EEXIST { return false }
        }
        return true
    }

    /// One `GET path` to `host:port` with a 1 s budget; the status code, or nil when nothing answered.
    static func probe(host: String, port: UInt16, path: String) -> Int? {
        let request = BlockingHTTPRequest(method: "GET", host: host, port: port, target: path)
        return try? BlockingHTTPClient.send(request, timeoutMs: 1000, maxBodyBytes: 64 * 1024).status
    }

    /// Whether something accepts TCP connections on `host:port` within 1 s (a listener that speaks no HTTP yet
    /// at the root, like the demo's HTTPS gateway).
    static func accepts(host: String, port: UInt16) -> Bool {
        guard let socket = try? DeadlineSocket.connect(host: host, port: port, timeoutMs: 1000) else { return false }
        socket.close()
        return true
    }
}
