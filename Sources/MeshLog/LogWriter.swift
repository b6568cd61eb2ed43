import Glibc
import MeshSync
import Synchronization

/// Moves log lines from per-worker rings to one file descriptor (stdout) on a dedicated background thread.
///
/// Workers never wait: each has its own `LogRing` (no lock per line); a line that does not fit is dropped and
/// counted. Only the writer thread touches the descriptor, and it may block there (a pipe nobody reads) while
/// the workers go on. It wakes every `idleMs` when idle, so a line shows up within about that long.
/// Events from any thread go through a shared ring guarded by a mutex (events are rare).
///
/// Lifecycle: `init` starts the thread; `stop()` writes what is left (giving up after `stopTimeoutMs` of a blocked
/// descriptor) and joins it. Lines pushed after `stop()` are dropped.
public final class LogWriter: @unchecked Sendable {
    /// Longest accepted line; longer ones are dropped (a head is at most 64 KiB, a path 8 KiB: this never
    /// happens for a well-formed request line).
    public static let maxLineBytes = 32 * 1024

    private let fd: Int32
    private let rings: [LogRing]
    private let shared: Locked<LogRing>
    private let idleMs: Int32
    /// Largest write: PIPE_BUF for a pipe (writes that size are atomic, so a sidecar app sharing our stdout
    /// never splits a line of ours), 64 KiB for a file or terminal (16× fewer writes).
    private let chunkLimit: Int
    private let stopTimeoutMs: Int
    private let stopping = Atomic<Bool>(false)
    private let written = Atomic<UInt64>(0)
    private var thread = pthread_t()
    private var joined = false

    /// Starts the writer for `producers` worker rings of `ringBytes` each, writing to `fd` (not closed at stop).
    public init(fd: Int32 = 1, producers: Int, ringBytes: Int = 1 << 20, idleMs: Int = 20, stopTimeoutMs: Int = 1000) {
        self.fd = fd
        rings = (0..<max(0, producers)).map { _ in LogRing(capacity: ringBytes) }
        shared = Locked(LogRing(capacity: 256 * 1024))
        self.idleMs = Int32(max(1, idleMs))
        var status = stat()
        let isPipe = fstat(fd, &status) == 0 && (status.st_mode & S_IFMT) == S_IFIFO
        chunkLimit = isPipe ? Int(PIPE_BUF) : 64 * 1024
        self.stopTimeoutMs = stopTimeoutMs
        let unmanaged = Unmanaged.passRetained(self)
        let rc = pthread_create(
            &thread, nil,
            { arg in
                let this = Unmanaged<LogWriter>.fromOpaque(arg!).takeRetainedValue()
                this.run()
                return nil
            }, unmanaged.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// The ring of worker `index` (0..<producers): push to it only from that worker's thread.
    public func ring(_ index: Int) -> LogRing { rings[index] }

    /// Number of worker rings.
    public var producerCount: Int { rings.count }

    /// Queues a complete line (ending in `\n`) from any thread. Drops and counts it when the shared ring is full.
    public func submitShared(_ line: [UInt8]) {
        guard !stopping.load(ordering: .relaxed), line.count <= Self.maxLineBytes else {
            shared.withLock { $0.countDrop() }
            return
        }
        shared.withLock { ring in _ = line.withUnsafeBufferPointer { ring.push($0) } }
    }

    /// Lines dropped so far: full rings, oversize lines, lines after `stop()`.
    public var droppedLines: UInt64 {
        rings.reduce(shared.withLock { $0.droppedLines }) { $0 &+ $1.droppedLines }
    }

    /// Bytes written to the descriptor so far.
    public var writtenBytes: UInt64 { written.load(ordering: .relaxed) }

    /// Writes what is queued (bounded by `stopTimeoutMs` if the descriptor stays blocked) and joins the thread.
    /// Idempotent; call from one thread.
    public func stop() {
        guard !joined else { return }
        joined = true
        stopping.store(true, ordering: .releasing)
        pthread_join(thread, nil)
    }

    // MARK: - Writer thread

    private func run() {
        var staging: [UInt8] = []
        staging.reserveCapacity(128 * 1024)
        while true {
            let finishing = stopping.load(ordering: .acquiring)
            staging.removeAll(keepingCapacity: true)
            collect(into: &staging)
            if staging.isEmpty {
                if finishing { return }
                _ = poll(nil, 0, idleMs)
                continue
            }
            if !writeAll(staging) { return }
        }
    }

    /// Takes whole lines from every ring, the shared one first, up to ~64 KiB per ring.
    private func collect(into staging: inout [UInt8]) {
        _ = shared.withLock { $0.pop(into: &staging, max: 64 * 1024) }
        for ring in rings { _ = ring.pop(into: &staging, max: 64 * 1024) }
    }

    /// Writes everything, waiting for writability with `poll` so that a stop request is noticed even while the
    /// descriptor is blocked. Chunks end at a newline and stay ≤ PIPE_BUF when lines allow it, so our lines are
    /// not interleaved with other writers of the same pipe (POSIX: writes ≤ PIPE_BUF to a pipe are atomic).
    /// Returns false when it gave up (stopping and blocked for `stopTimeoutMs`, or the descriptor failed).
    private func writeAll(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        var blockedMs = 0
        while offset < bytes.count {
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&pfd, 1, 50)
            if ready == 0 || (ready < 0 && errno == EINTR) {
                if stopping.load(ordering: .relaxed) {
                    blockedMs += 50
                    if blockedMs >= stopTimeoutMs { return false }
                }
                continue
            }
            if ready < 0 || pfd.revents & Int16(POLLERR | POLLNVAL) != 0 { return false }
            let chunk = Self.chunkLength(bytes, from: offset, limit: chunkLimit)
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, chunk) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return false
            }
            offset += n
            blockedMs = 0
            written.store(written.load(ordering: .relaxed) &+ UInt64(n), ordering: .relaxed)
        }
        return true
    }

    /// Bytes to write next: up to the last newline within `limit` bytes (PIPE_BUF for a pipe), or one whole
    /// longer line.
    static func chunkLength(_ bytes: [UInt8], from offset: Int, limit chunkLimit: Int = 4096) -> Int {
        let limit = min(bytes.count - offset, chunkLimit)
        var end = limit
        while end > 0, bytes[offset + end - 1] != UInt8(ascii: "\n") { end -= 1 }
        if end > 0 { return end }
        var next = offset + limit
        while next < bytes.count, bytes[next] != UInt8(ascii: "\n") { next += 1 }
        return min(bytes.count, next + 1) - offset
    }
}
