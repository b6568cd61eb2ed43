import Glibc
import MeshPosix
import Testing

/// Every errno other than EINTR/EAGAIN reaches the caller as `SystemError(errno:call:)` naming the call that
/// failed. EBADF and EFAULT trap in `Posix.check` (our bug, not the peer's), so no test passes a dead
/// descriptor or a bad pointer.
@Suite struct ErrorMappingTests {
    /// Runs `body`, returning the `SystemError` it throws (nil when it does not throw).
    func systemError(_ body: () throws -> Void) -> SystemError? {
        do {
            try body()
            return nil
        } catch let error as SystemError {
            return error
        } catch {
            Issue.record("not a SystemError: \(error)")
            return nil
        }
    }

    /// A refused loopback connect surfaces as ECONNREFUSED either from connect itself or, when the
    /// non-blocking connect was still in progress, from `socketError` once the socket is writable.
    @Test func refusedConnectIsECONNREFUSED() throws {
        let closed = try Fixture.boundNotListening()
        defer { Posix.close(closed.fd) }
        let fd = try Sockets.stream(family: AF_INET)
        defer { Posix.close(fd) }
        do {
            switch try Posix.connect(fd, closed.address) {
            case .processed:
                Issue.record("connect to a port nobody listens on succeeded")
            case .wouldBlock:
                #expect(Fixture.poll(fd, Int16(POLLOUT)) != 0)
                #expect(Posix.socketError(fd) == ECONNREFUSED)
            }
        } catch {
            #expect(error == SystemError(errno: ECONNREFUSED, call: "connect"))
        }
    }

    @Test func bindToABoundPortIsEADDRINUSE() throws {
        let first = try Sockets.listener(SocketAddress(numericHost: "127.0.0.1", port: 0)!, reusePort: false)
        defer { Posix.close(first) }
        let address = try #require(Posix.localAddress(first))
        let error = systemError { Posix.close(try Sockets.listener(address, reusePort: false)) }
        #expect(error == SystemError(errno: EADDRINUSE, call: "bind"))
    }

    /// The contrast to EADDRINUSE above: with SO_REUSEPORT on both, per-worker listeners share one port.
    @Test func reusePortListenersShareAPort() throws {
        let first = try Sockets.listener(SocketAddress(numericHost: "127.0.0.1", port: 0)!, reusePort: true)
        defer { Posix.close(first) }
        let address = try #require(Posix.localAddress(first))
        let second = try Sockets.listener(address, reusePort: true)
        defer { Posix.close(second) }
        #expect(Posix.localAddress(second) == address)
    }

    /// writev(2) has no MSG_NOSIGNAL: without `ignoreSIGPIPE` this write would kill the process instead of
    /// failing with EPIPE.
    @Test func writevToAPipeWithoutReaderIsEPIPE() throws {
        Posix.ignoreSIGPIPE()
        let pipe = try Fixture.pipe()
        Glibc.close(pipe.read)
        defer { Glibc.close(pipe.write) }
        let error = systemError { _ = try funnelWritev(pipe.write, [1, 2, 3], segments: 1) }
        #expect(error == SystemError(errno: EPIPE, call: "writev"))
    }

    /// `Posix.write` is send(2) with MSG_NOSIGNAL: a closed peer is EPIPE and no SIGPIPE is raised at all,
    /// which `ignoreSIGPIPE` (process-wide, set by other tests) would otherwise hide. SIGPIPE is blocked on
    /// this thread so a raised one stays pending where sigpending sees it (Linux keeps a blocked signal even
    /// while its action is SIG_IGN); writev, which has no such flag, shows that the check sees one.
    @Test func writeToAClosedPeerIsEPIPEWithoutSIGPIPE() throws {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        defer {
            var now = timespec()
            while sigtimedwait(&pipeSignal, nil, &now) == SIGPIPE {}
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        func sigpipePending() -> Bool {
            var pending = sigset_t()
            sigpending(&pending)
            return sigismember(&pending, SIGPIPE) == 1
        }
        #expect(!sigpipePending())

        let (a, b) = try Fixture.socketPair()
        Glibc.close(b)
        defer { Glibc.close(a) }
        #expect(systemError { _ = try Posix.write(a, "x", 1) } == SystemError(errno: EPIPE, call: "write"))
        #expect(!sigpipePending())

        let pipe = try Fixture.pipe()
        Glibc.close(pipe.read)
        defer { Glibc.close(pipe.write) }
        let error = systemError { _ = try funnelWritev(pipe.write, [1], segments: 1) }
        #expect(error == SystemError(errno: EPIPE, call: "writev"))
        #expect(sigpipePending())
    }

    /// An errno that is neither EINTR nor EAGAIN, from a read: the funnel throws it under the name "read".
    @Test func readFromAListenerIsENOTCONN() throws {
        let fd = try Sockets.listener(SocketAddress(numericHost: "127.0.0.1", port: 0)!, reusePort: false)
        defer { Posix.close(fd) }
        let error = systemError { _ = try funnelRead(fd) }
        #expect(error == SystemError(errno: ENOTCONN, call: "read"))
    }

    @Test func unknownSocketOptionIsENOPROTOOPT() throws {
        let fd = try Sockets.stream(family: AF_INET)
        defer { Posix.close(fd) }
        let error = systemError { try Posix.setOption(fd, SOL_SOCKET, 0x7fff, 1) }
        #expect(error == SystemError(errno: ENOPROTOOPT, call: "setsockopt"))
    }

    @Test func listenerOnAnAddressNotOwnedIsEADDRNOTAVAIL() throws {
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a local interface.
        let address = SocketAddress(numericHost: "192.0.2.1", port: 0)!
        let error = systemError { Posix.close(try Sockets.listener(address, reusePort: false)) }
        #expect(error == SystemError(errno: EADDRNOTAVAIL, call: "bind"))
    }

    /// The text that lands in logs: the call, strerror's words and the number.
    @Test func descriptionNamesTheCallAndTheError() {
        let error = SystemError(errno: ECONNREFUSED, call: "connect")
        let text = String(cString: strerror(ECONNREFUSED))
        #expect(!text.isEmpty)
        #expect(error.description == "connect: \(text) (errno \(ECONNREFUSED))")
        #expect(SystemError(errno: ENOENT, call: "open").description.hasPrefix("open: "))
        #expect(SystemError(errno: ENOENT, call: "open") != SystemError(errno: ENOENT, call: "read"))
    }

    /// `accept` is `.wouldBlock` on an empty backlog; an accepted descriptor is non-blocking and close-on-exec
    /// (accept4's flags), and carries its peer's address.
    @Test func acceptGivesANonBlockingCloseOnExecSocket() throws {
        let listener = try Sockets.listener(SocketAddress(numericHost: "127.0.0.1", port: 0)!, reusePort: false)
        defer { Posix.close(listener) }
        let address = try #require(Posix.localAddress(listener))
        #expect(try Posix.accept(listener, nil).isWouldBlock)

        let client = try Sockets.stream(family: AF_INET)
        defer { Posix.close(client) }
        _ = try Posix.connect(client, address)
        #expect(Fixture.poll(listener, Int16(POLLIN)) != 0)
        var peer = sockaddr_storage()
        let accepted = try #require(try Posix.accept(listener, &peer).value)
        defer { Posix.close(accepted) }
        #expect(fcntl(accepted, F_GETFL) & O_NONBLOCK != 0)
        #expect(fcntl(accepted, F_GETFD) & FD_CLOEXEC != 0)
        let peerAddress = SocketAddress(storage: peer, length: socklen_t(MemoryLayout<sockaddr_in>.size))
        #expect(peerAddress == Posix.localAddress(client))
        #expect(Posix.socketError(client) == 0)
    }
}
