import CLinux
import Glibc
import MeshConfig
import MeshControl
import Synchronization

extension Gateway {
    /// Starts or stops watching the config file and the TLS files it names as `watch_config` says (a reload
    /// may change either).
    func updateWatcher(_ config: GatewayConfig) {
        let directories = ConfigWatcher.directories(of: [options.configPath] + ListenerTLSStore.files(of: config))
        watcherLock.withLock { watcher in
            if config.watchConfig && watcher?.directories != directories {
                watcher?.stopSoon()
                watcher = ConfigWatcher(directories: directories, gateway: self)
            } else if !config.watchConfig, let running = watcher {
                watcher = nil
                running.stopSoon()
            }
        }
    }
}

/// Reloads when the config file or a TLS file it names changes (SPEC §7, §9): inotify on the files'
/// DIRECTORIES, so an editor's write-to-temp-then-rename and a Kubernetes Secret's or ConfigMap's `..data`
/// symlink swap are seen too. Events are debounced; a reload that would change nothing is skipped
/// (`Gateway.reload`).
final class ConfigWatcher: @unchecked Sendable {
    private let stopped = StopFlag()
    private var thread: WorkerThread?
    private let fd: Int32
    /// The directories watched, sorted.
    let directories: [String]

    init?(directories: [String], gateway: Gateway) {
        self.directories = directories
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { return nil }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB)
        for directory in directories where inotify_add_watch(fd, directory, mask) < 0 {
            EventLog.warn(
                "cannot watch a directory; reload with SIGHUP or POST /reload",
                ["directory": directory, "error": String(cString: strerror(errno))])
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

    /// The distinct directories of `paths`, sorted.
    static func directories(of paths: [String]) -> [String] { Set(paths.map(directory(of:))).sorted() }

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
