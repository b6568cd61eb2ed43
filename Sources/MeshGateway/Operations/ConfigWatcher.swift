import CLinux
import Glibc
import MeshConfig
import Synchronization

extension Gateway {
    /// Starts or stops watching the config file as `watch_config` says (a reload may change it).
    func updateWatcher(_ config: GatewayConfig) {
        watcherLock.withLock { watcher in
            if config.watchConfig && watcher == nil {
                watcher = ConfigWatcher(path: options.configPath, gateway: self)
            } else if !config.watchConfig, let running = watcher {
                watcher = nil
                running.stopSoon()
            }
        }
    }
}

/// Reloads when the config file changes (SPEC §7): inotify on the file's DIRECTORY, so an editor's
/// write-to-temp-then-rename and a Kubernetes ConfigMap's `..data` symlink swap are seen too. Events are
/// debounced; a reload whose bytes equal the running config's is skipped.
final class ConfigWatcher: @unchecked Sendable {
    private let stopped = StopFlag()
    private var thread: WorkerThread?
    private let fd: Int32

    init?(path: String, gateway: Gateway) {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { return nil }
        let directory = ConfigWatcher.directory(of: path)
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB)
        guard inotify_add_watch(fd, directory, mask) >= 0 else {
            EventLog.warn(
                "cannot watch the config directory; reload with SIGHUP or POST /reload",
                [
                    "directory": directory, "error": String(cString: strerror(errno)),
                ])
            Glibc.close(fd)
            return nil
        }
        let fd = self.fd
        let stopped = self.stopped
        thread = WorkerThread(name: "meshgate-watch") {
            ConfigWatcher.watch(fd: fd, stopped: stopped) { gateway.reload(.file) }
            Glibc.close(fd)
        }
    }

    func stop() {
        stopped.set()
        thread?.join()
    }

    /// Stops without waiting (called from a reload, which may run on the watcher's own thread).
    func stopSoon() {
        stopped.set()
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    /// Polls with a short timeout (so `stop` is seen), drains events, waits for 50 ms of quiet, reloads.
    private static func watch(fd: Int32, stopped: StopFlag, reload: () -> Void) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stopped.isSet {
            guard waitReadable(fd, ms: 200) else { continue }
            drainEvents(fd, &buffer)
            // Debounce: an editor or kubelet often makes several changes in a row.
            while !stopped.isSet && waitReadable(fd, ms: 50) { drainEvents(fd, &buffer) }
            reload()
        }
    }

    private static func waitReadable(_ fd: Int32, ms: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, ms) > 0
    }

    private static func drainEvents(_ fd: Int32, _ buffer: inout [UInt8]) {
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}

/// A one-way flag another thread can read (atomics cannot be captured by value).
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
