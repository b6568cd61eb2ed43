import CLinux
import Glibc
import MeshPosix
import Synchronization
import Testing

/// SIGUSR1 deliveries to the no-op handler. A lock-free atomic is the only state a handler may touch safely.
private let deliveries = Atomic<Int>(0)

/// Installs the counting SIGUSR1 handler without SA_RESTART, so the kernel ends an interrupted read(2)
/// with EINTR instead of restarting it. Never restored: putting SIG_DFL back while a signal is still
/// pending for a reader that failed to finish would kill the whole test process; nothing else in the
/// package sends SIGUSR1.
private let installHandler: Void = {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in deliveries.add(1, ordering: .relaxed) }
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    sigaction(SIGUSR1, &action, nil)
}()

/// One blocking read on its own pthread (a blocked Swift Testing worker would starve other tests). The
/// thread publishes its pthread_t for pthread_kill and its kernel id for /proc, then its outcome.
final class BlockedReader: Sendable {
    enum Outcome: Sendable, Equatable {
        case bytes([UInt8])
        case wouldBlock
        case failed(Int32)
    }

    let thread = Atomic<UInt>(0)
    let kernelTID = Atomic<Int>(0)
    let handle = Atomic<UInt>(0)
    private let result = Mutex<Outcome?>(nil)
    private let read: @Sendable () -> Outcome

    private init(_ read: @escaping @Sendable () -> Outcome) { self.read = read }

    var outcome: Outcome? { result.withLock { $0 } }

    static func start(_ read: @escaping @Sendable () -> Outcome) throws -> BlockedReader {
        let reader = BlockedReader(read)
        let context = Unmanaged.passRetained(reader).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { context in
            Unmanaged<BlockedReader>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<BlockedReader>.fromOpaque(context).release()
            throw SystemError(errno: rc, call: "pthread_create")
        }
        reader.handle.store(UInt(handle), ordering: .releasing)
        return reader
    }

    private func run() {
        // The creating thread's mask is inherited; whatever it is, this thread must take SIGUSR1.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGUSR1)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        if let stat = try? Posix.readFile("/proc/thread-self/stat"),
            let tid = Int(String(decoding: stat.prefix { $0 != UInt8(ascii: " ") }, as: UTF8.self))
        {
            kernelTID.store(tid, ordering: .relaxed)
        }
        thread.store(UInt(pthread_self()), ordering: .releasing)
        let outcome = read()
        result.withLock { $0 = outcome }
    }

    /// Whether the thread is parked in read(2) on `fd`, from /proc/self/task/TID/syscall ("NR 0xFD ...");
    /// nil when the kernel does not expose that file.
    func blockedInRead(fd: Int32) -> Bool? {
        let tid = kernelTID.load(ordering: .relaxed)
        guard tid > 0, let text = try? Posix.readFile("/proc/self/task/\(tid)/syscall") else { return nil }
        #if arch(x86_64)
            let readNumber = "0"
        #else
            let readNumber = "63"  // aarch64's generic syscall table
        #endif
        let fields = String(decoding: text, as: UTF8.self).split(separator: " ")
        return fields.count > 1 && fields[0] == readNumber && fields[1] == "0x" + String(fd, radix: 16)
    }

    /// Ends the read if it is still pending (one byte into the pipe) and joins, bounded: a reader that does
    /// not finish is detached and reported instead of hanging the run.
    func finish(unblocking writeEnd: Int32) {
        if outcome == nil {
            var byte: UInt8 = 0
            _ = Glibc.write(writeEnd, &byte, 1)
        }
        let handle = pthread_t(self.handle.load(ordering: .acquiring))
        if Fixture.waitUntil({ outcome != nil }) {
            pthread_join(handle, nil)
        } else {
            pthread_detach(handle)
            Issue.record("the reader thread did not finish within 3 s")
        }
    }
}

/// Serialized: both tests count deliveries of the same process-wide handler.
@Suite(.serialized) struct InterruptTests {
    /// Waits until the reader is parked in read(2) on `fd` (nothing can wake it but a signal: the pipe is
    /// empty and its write end open), sends SIGUSR1 to that thread and waits for the handler to have run.
    /// True when one interruption of the blocked read is proven.
    func interrupt(_ reader: BlockedReader, fd: Int32) -> Bool {
        guard Fixture.waitUntil({ reader.thread.load(ordering: .acquiring) != 0 }) else { return false }
        if reader.blockedInRead(fd: fd) == nil {
            // No /proc syscall file: the thread has nothing left to do but enter read, so after 50 ms it is
            // there in practice; only in this case is the interruption likely rather than proven.
            usleep(50_000)
        } else if !Fixture.waitUntil({ reader.blockedInRead(fd: fd) == true || reader.outcome != nil })
            || reader.outcome != nil
        {
            return false  // the read ended (a funnel that gave up on EINTR) or never got back into read(2)
        }
        let before = deliveries.load(ordering: .relaxed)
        guard pthread_kill(pthread_t(reader.thread.load(ordering: .acquiring)), SIGUSR1) == 0 else { return false }
        return Fixture.waitUntil { deliveries.load(ordering: .relaxed) > before }
    }

    /// The control: without the funnel, the same set-up makes read(2) fail with EINTR. Without this, the
    /// funnel test below would also pass if the signal never interrupted anything.
    @Test func rawReadIsInterruptedWithEINTR() throws {
        _ = installHandler
        let pipe = try Fixture.pipe()
        defer {
            Glibc.close(pipe.read)
            Glibc.close(pipe.write)
        }
        let reader = try BlockedReader.start {
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = buffer.withUnsafeMutableBytes { Glibc.read(pipe.read, $0.baseAddress, $0.count) }
            return n < 0 ? .failed(errno) : .bytes(Array(buffer[0..<n]))
        }
        defer { reader.finish(unblocking: pipe.write) }
        #expect(interrupt(reader, fd: pipe.read))
        #expect(Fixture.waitUntil { reader.outcome != nil })
        #expect(reader.outcome == .failed(EINTR))
    }

    /// `Posix.read` goes back into read(2) after each EINTR and returns the bytes written after the signals.
    @Test func funnelReadRetriesEINTR() throws {
        _ = installHandler
        let pipe = try Fixture.pipe()
        defer {
            Glibc.close(pipe.read)
            Glibc.close(pipe.write)
        }
        let reader = try BlockedReader.start {
            var buffer = [UInt8](repeating: 0, count: 64)
            do {
                let result = try buffer.withUnsafeMutableBytes { try Posix.read(pipe.read, $0.baseAddress!, $0.count) }
                guard case .processed(let n) = result else { return .wouldBlock }
                return .bytes(Array(buffer[0..<n]))
            } catch let error as SystemError {
                return .failed(error.errno)
            } catch {
                return .failed(-1)
            }
        }
        defer { reader.finish(unblocking: pipe.write) }
        // Each round waits to see the thread back in read(2) on the pipe: after an EINTR only a retry gets there.
        for round in 0..<5 {
            let interrupted = interrupt(reader, fd: pipe.read)
            #expect(interrupted, "interruption \(round); the read's outcome: \(String(describing: reader.outcome))")
            guard interrupted else { return }
        }
        #expect(reader.outcome == nil)
        let message = Array("after the signals".utf8)
        #expect(message.withUnsafeBytes { Glibc.write(pipe.write, $0.baseAddress, $0.count) } == message.count)
        #expect(Fixture.waitUntil { reader.outcome != nil })
        #expect(reader.outcome == .bytes(message))
    }
}
