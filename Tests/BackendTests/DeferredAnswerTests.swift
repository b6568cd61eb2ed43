import Foundation
import Glibc
import MeshTestSupport
import Testing

/// ServiceKit's deferred answers (`Router.addDeferred` + `Responder`), seen from outside: relationship-service's
/// profile lookup goes to a peer that accepts the connection and never answers, so the list waits for the
/// lookup's own deadline (3.5 s). Meanwhile the service's single event loop keeps serving other connections,
/// and a request pipelined behind the waiting one is answered after it, in order (issue 16).
@Suite struct DeferredAnswerTests {
    /// A listening socket nobody accepts from: the kernel completes connections into the backlog, and nothing
    /// is ever read or written.
    final class SilentPeer {
        let fd: Int32
        let port: UInt16

        init() throws {
            port = try TestSocket.freePort()
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard bound, listen(fd, 16) == 0 else { throw TestSupportError("silent peer: errno \(errno)") }
        }

        deinit { close(fd) }
    }

    @Test func aListWaitingOnItsLookupBlocksNeitherTheLoopNorItsPipeline() throws {
        let peer = try SilentPeer()
        let service = try ServiceProcess(
            "relationship-service", arguments: ["--profiles-grpc", "127.0.0.1:\(peer.port)"])
        _ = try HTTPClient.request(port: service.port, "PUT", "/follows/bob", headers: [("x-user-id", "alice")])

        let started = Date()
        let port = service.port
        let outcome = PipelineOutcome()
        let thread = Thread {
            let requests =
                "GET /followers/bob HTTP/1.1\r\nhost: x\r\n\r\n"
                + "GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
            let result = Result { try HTTPClient.raw(port: port, Array(requests.utf8), expect: 2) }
            outcome.set(result)
        }
        thread.start()
        usleep(300_000)
        // The loop is free while the list waits: another connection is answered at once.
        let health = try HTTPClient.request(port: service.port, "GET", "/healthz")
        let healthDone = Date()
        #expect(health.status == 200)
        while outcome.get() == nil && Date().timeIntervalSince(started) < 15 { usleep(20_000) }
        let (result, pipelinedDone) = try #require(outcome.get())
        let pipelined = try result.get()
        #expect(healthDone < pipelinedDone, "the other connection was answered before the waiting list")
        #expect(pipelinedDone.timeIntervalSince(started) >= 3, "the list waited for the lookup's deadline")
        // In order: the list (degraded, never an error), then the request pipelined behind it.
        #expect(pipelined.count == 2)
        #expect(pipelined.first?.status == 200)
        #expect(pipelined.first?.json?["profiles_degraded"]?.boolValue == true, "\(pipelined.first?.text ?? "")")
        #expect(pipelined.last?.json?["status"]?.stringValue == "ok")
        #expect(service.log().contains("deadline_exceeded"), "the warning names the lookup's failure")
    }

    /// A client that sends its requests and shuts down its side at once still gets every answer, the deferred
    /// one and the one behind it, then the connection closes.
    @Test func aClientThatShutsDownItsSideStillGetsEveryAnswer() throws {
        let peer = try SilentPeer()
        let service = try ServiceProcess(
            "relationship-service", arguments: ["--profiles-grpc", "127.0.0.1:\(peer.port)"])
        _ = try HTTPClient.request(port: service.port, "PUT", "/follows/bob", headers: [("x-user-id", "alice")])
        let client = try RawClient(port: service.port, timeoutMs: HTTPClient.timeoutMs)
        try client.send("GET /followers/bob HTTP/1.1\r\nhost: x\r\n\r\n" + "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        client.shutdownWrite()
        let replies = try [client.readResponse(), client.readResponse()].map(HTTPReply.init)
        #expect(client.serverClosed())
        #expect(replies.map(\.status) == [200, 200])
        #expect(replies.first?.json?["profiles_degraded"]?.boolValue == true)
        #expect(replies.last?.json?["status"]?.stringValue == "ok")
    }
}

/// What the pipelining thread got, and when.
private final class PipelineOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (Result<[HTTPReply], any Error>, Date)?

    func set(_ result: Result<[HTTPReply], any Error>) {
        lock.withLock { value = (result, Date()) }
    }

    func get() -> (Result<[HTTPReply], any Error>, Date)? {
        lock.withLock { value }
    }
}
