import Glibc
import Testing

@testable import MeshGateway

/// Issue 10, item 6: which socket errors are ours (descriptors, memory, local ports) and which are the
/// endpoint's, and how the accept loop reacts to each `accept4` error. Pure tables, no sockets.
@Suite struct LocalFailureTests {
    // Regression: issue 10 — EMFILE from socket() counted as a connect failure against the endpoint's shared
    // breaker: a descriptor shortage in one process opened the circuit for every worker.
    @Test(arguments: [EMFILE, ENFILE, ENOBUFS, ENOMEM, EADDRNOTAVAIL, EAGAIN, ENOSPC])
    func resourceShortagesAreLocalFailures(errno: Int32) {
        #expect(EndpointPool.isLocalFailure(errno))
    }

    @Test(arguments: [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, ETIMEDOUT, ECONNRESET])
    func networkErrorsAreTheEndpoints(errno: Int32) {
        #expect(!EndpointPool.isLocalFailure(errno))
    }

    // Regression: issue 10 — any accept4 error returned from the edge-triggered accept loop, leaving the
    // backlog unserved until another client happened to connect.
    @Test(arguments: [
        (EMFILE, Listener.AcceptReaction.pause), (ENFILE, .pause), (ENOBUFS, .pause), (ENOMEM, .pause),
        (ECONNABORTED, .skip), (EPROTO, .skip), (EPERM, .skip), (ENETDOWN, .skip), (EHOSTUNREACH, .skip),
        (EBADF, .stop), (EINVAL, .stop), (ENOTSOCK, .stop),
    ])
    func acceptErrorsNeverStallTheBacklog(errno: Int32, reaction: Listener.AcceptReaction) {
        #expect(Listener.reaction(to: errno) == reaction)
    }

    @Test func deadlinesSaturateInsteadOfTrapping() {
        #expect(Int64.deadline(1_000, plusMs: 500) == 1_500)
        #expect(Int64.deadline(1_000, plusMs: Int.max) == .max)
        #expect(Int64.deadline(.max - 10, plusMs: 11) == .max)
    }
}
