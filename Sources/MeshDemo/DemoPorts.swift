import Glibc
import MeshConfig
import MeshPosix

/// The check `meshgate demo` makes before it starts anything: every port it needs must be free.
///
/// Without it, a port held by something else (often a stack leaked by an earlier demo) shows up late and
/// confusingly: a backend exits "cannot listen" after others started, or worse, the readiness probe gets a 200
/// from the old process and the demo runs against it. Also finds who holds a port (from /proc), for the message
/// and to stop a backend the user restarted by hand.
enum DemoPorts {
    /// One address the demo will bind, and what for (`auth-service`, `the gateway's listener 'edge'`).
    struct Need {
        let address: HostPort
        let purpose: String
    }

    /// A process with a listening socket on a port.
    struct Holder {
        let pid: pid_t
        /// The executable's path when readable (our user's processes), else nil.
        let executable: String?
        /// The executable's file name, or the kernel's 15-character `comm`.
        let name: String
    }

    /// The first problem found, as one message for the user; nil when every port is free.
    static func problem(_ needs: [Need], configPath: String) -> String? {
        for (index, need) in needs.enumerated() {
            if let other = needs[..<index].first(where: { clash($0.address, need.address) }) {
                return "port \(need.address.port) is configured twice, for \(other.purpose) (\(other.address)) "
                    + "and for \(need.purpose) (\(need.address)): give each its own port in \(configPath)"
            }
        }
        for need in needs where inUse(need.address) {
            let holder = holders(port: need.address.port).first.map { " by pid \($0.pid) (\($0.name))" } ?? ""
            return "port \(need.address.port) (\(need.address), for \(need.purpose)) is already in use\(holder); "
                + "stop that process or choose another port in \(configPath). Nothing was started."
        }
        return nil
    }

    /// Two binds that cannot both succeed: the same port on the same host, or on a wildcard address.
    static func clash(_ a: HostPort, _ b: HostPort) -> Bool {
        let wildcards: Set<String> = ["0.0.0.0", "::", ""]
        return a.port == b.port && (a.host == b.host || wildcards.contains(a.host) || wildcards.contains(b.host))
    }

    /// Whether binding and listening on `address` fails with EADDRINUSE. Other failures (an address not on this
    /// machine, a privileged port) are left for the service itself to report.
    static func inUse(_ address: HostPort) -> Bool {
        guard let resolved = (try? SocketAddress.resolve(host: address.host, port: address.port))?.first else {
            return false
        }
        // Bound and listening as the services do (SO_REUSEADDR: a port in TIME_WAIT from the previous run is
        // free; only a live listening socket holds it).
        do {
            Posix.close(try Sockets.listener(resolved, reusePort: false, backlog: 1))
            return false
        } catch {
            return error.errno == EADDRINUSE
        }
    }

    /// The processes holding a listening TCP socket on `port` (any address): its inodes from /proc/net/tcp{,6},
    /// found among /proc/PID/fd links. Processes of other users cannot be read and are not found.
    static func holders(port: UInt16) -> [Holder] {
        let inodes = listeningSockets(port: port)
        guard !inodes.isEmpty else { return [] }
        var found: [Holder] = []
        for entry in DemoFiles.list("/proc") {
            guard let pid = pid_t(entry) else { continue }
            let holds = DemoFiles.list("/proc/\(pid)/fd").contains { fd in
                DemoFiles.readLink("/proc/\(pid)/fd/\(fd)").map(inodes.contains) == true
            }
            guard holds else { continue }
            let executable = DemoFiles.readLink("/proc/\(pid)/exe")
            let comm = DemoFiles.read("/proc/\(pid)/comm").map { String(decoding: $0, as: UTF8.self) } ?? "?"
            let name =
                executable.flatMap { $0.split(separator: "/").last.map(String.init) }
                ?? comm.trimmingTrailingNewline()
            found.append(Holder(pid: pid, executable: executable, name: name))
        }
        return found
    }

    /// `socket:[INODE]` for each socket in state LISTEN (`0A`) on `port`, as /proc/PID/fd links name them.
    static func listeningSockets(port: UInt16) -> Set<String> {
        let hexPort = String(port, radix: 16, uppercase: true)
        let suffix = ":" + String(repeating: "0", count: 4 - hexPort.count) + hexPort
        var inodes: Set<String> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let bytes = DemoFiles.read(table) else { continue }
            for line in bytes.split(separator: 0x0A).dropFirst() {
                // sl, local_address, rem_address, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode
                let columns = String(decoding: line, as: UTF8.self).split(separator: " ")
                guard columns.count > 9, columns[1].hasSuffix(suffix), columns[3] == "0A" else { continue }
                inodes.insert("socket:[\(columns[9])]")
            }
        }
        return inodes
    }
}

extension String {
    fileprivate func trimmingTrailingNewline() -> String {
        hasSuffix("\n") ? String(dropLast()) : self
    }
}
