import Glibc
import MeshPosix

/// Listening sockets this process did not open: systemd's socket activation (`LISTEN_FDS`/`LISTEN_PID`,
/// descriptors from 3) or the previous process of a binary upgrade (`MESHGATE_UPGRADE_FDS`, same layout, plus
/// `MESHGATE_UPGRADE_CHANNEL`, the descriptor to report readiness on). SPEC §12.
///
/// A listener whose configured address equals an inherited socket's bound address (getsockname) takes that
/// socket instead of binding; what no listener claims is closed at the end of start-up, and logged. Main
/// thread only (start-up).
final class InheritedSockets {
    struct Entry {
        let fd: Int32
        let address: SocketAddress
    }

    /// Where the sockets came from, for logs: "LISTEN_FDS" or "binary upgrade".
    let source: String
    private var entries: [Entry]
    /// Sockets listeners took (copies made for extra workers not counted).
    private(set) var claimed = 0
    /// Problems found while reading the environment, logged once logging is set up.
    private(set) var problems: [String]
    /// A binary upgrade's channel to the previous process (its end of a socket pair), nil otherwise.
    let upgradeChannel: Int32?

    static let upgradeFDsVariable = "MESHGATE_UPGRADE_FDS"
    static let upgradeChannelVariable = "MESHGATE_UPGRADE_CHANNEL"
    /// More inherited descriptors than this is a broken environment, not a configuration.
    static let maxDescriptors = 4096

    private init(source: String, entries: [Entry], problems: [String], upgradeChannel: Int32?) {
        self.source = source
        self.entries = entries
        self.problems = problems
        self.upgradeChannel = upgradeChannel
    }

    static var none: InheritedSockets { InheritedSockets(source: "", entries: [], problems: [], upgradeChannel: nil) }

    var isEmpty: Bool { entries.isEmpty }

    /// Reads and clears the environment (so the sidecar app and a later upgrade never see stale values).
    static func fromEnvironment() -> InheritedSockets {
        defer {
            for name in ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", upgradeFDsVariable, upgradeChannelVariable] {
                unsetenv(name)
            }
        }
        if let count = variable(upgradeFDsVariable).flatMap(Int.init) {
            let channel = variable(upgradeChannelVariable).flatMap(Int32.init)
            return adopt(count: count, source: "binary upgrade", channel: channel)
        }
        guard let listenFDs = variable("LISTEN_FDS") else { return .none }
        // sd_listen_fds(3): the variables are for the process whose pid they name, not for its children.
        guard variable("LISTEN_PID").flatMap(pid_t.init) == getpid() else {
            return InheritedSockets(
                source: "LISTEN_FDS", entries: [],
                problems: ["LISTEN_FDS is set but LISTEN_PID is not this process; the descriptors are ignored"],
                upgradeChannel: nil)
        }
        return adopt(count: Int(listenFDs) ?? -1, source: "LISTEN_FDS", channel: nil)
    }

    private static func variable(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// Takes descriptors 3 ..< 3 + count: close-on-exec and non-blocking from now on; what is not a listening
    /// stream socket is closed at once.
    private static func adopt(count: Int, source: String, channel: Int32?) -> InheritedSockets {
        var problems: [String] = []
        guard count >= 0 && count <= maxDescriptors else {
            return InheritedSockets(
                source: source, entries: [], problems: ["\(source): bad count \(count)"], upgradeChannel: nil)
        }
        if let channel { Descriptors.setCloseOnExec(channel, true) }
        var entries: [Entry] = []
        for fd in Int32(3)..<Int32(3 + count) where Descriptors.isOpen(fd) {
            Descriptors.setCloseOnExec(fd, true)
            guard Descriptors.isListeningStream(fd), let address = Posix.localAddress(fd),
                address.family == AF_INET || address.family == AF_INET6,
                (try? Descriptors.setNonBlocking(fd)) != nil
            else {
                problems.append("\(source): descriptor \(fd) is not a listening TCP socket; closed")
                Posix.close(fd)
                continue
            }
            entries.append(Entry(fd: fd, address: address))
        }
        return InheritedSockets(source: source, entries: entries, problems: problems, upgradeChannel: channel)
    }

    /// Up to `count` sockets bound to `address`, removed from the pool. Fewer inherited sockets than `count`
    /// (systemd passes one per address, workers want one each) are shared: the rest are copies of them, so the
    /// workers accept from the same queue. Empty when none matches.
    func take(_ address: SocketAddress, count: Int) throws(SystemError) -> [Int32] {
        let matching = entries.filter { $0.address == address }.map(\.fd)
        guard !matching.isEmpty else { return [] }
        let taken = Array(matching.prefix(count))
        entries.removeAll { taken.contains($0.fd) }
        claimed += taken.count
        var result = taken
        while result.count < count { result.append(try Descriptors.duplicate(taken[result.count % taken.count])) }
        return result
    }

    /// Closes every socket no listener claimed and logs each (a stale socket unit, a listener the new config
    /// removed), plus the problems found in the environment.
    func closeUnclaimed() {
        for problem in problems { EventLog.warn("inherited descriptors", ["error": problem]) }
        problems = []
        for entry in entries {
            EventLog.warn(
                "inherited socket matches no listener; closed",
                ["source": source, "fd": "\(entry.fd)", "address": entry.address.description])
            Posix.close(entry.fd)
        }
        entries = []
    }
}
