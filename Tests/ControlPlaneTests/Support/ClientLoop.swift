import Glibc
import MeshEventLoop
import MeshControl
import MeshGateway

/// An `EventLoop` running on its own thread with an `HTTPClient`, for driving the client from async tests.
final class ClientLoop: @unchecked Sendable {
    let loop: EventLoop
    // Touched only on the loop's thread after `init` (which runs before the thread starts).
    private let client: HTTPClient
    private var thread = pthread_t()

    init(resolver: BlockingResolver? = nil) throws {
        loop = try EventLoop()
        client = try HTTPClient(loop: loop, resolver: resolver)
        let unmanaged = Unmanaged.passRetained(self)
        pthread_create(
            &thread,
            nil,
            { arg in
                let runner = Unmanaged<ClientLoop>.fromOpaque(arg!).takeRetainedValue()
                runner.loop.run()
                return nil
            },
            unmanaged.toOpaque()
        )
    }

    /// `client.get(url:…)` on the loop's thread; returns its result.
    func get(
        _ url: String,
        timeoutMs: Int = 2000,
        maxBodyBytes: Int = 1 << 20
    ) async
        -> Result<HTTPClientResponse, HTTPClientError>
    {
        await withCheckedContinuation { continuation in
            loop.execute {
                self.client.get(url: url, timeoutMs: timeoutMs, maxBodyBytes: maxBodyBytes) {
                    continuation.resume(returning: $0)
                }
            }
        }
    }

    /// Requests the client still tracks (asked on the loop's thread).
    func inFlight() async -> Int {
        await withCheckedContinuation { continuation in
            loop.execute { continuation.resume(returning: self.client.inFlight) }
        }
    }

    func stop() {
        loop.execute { self.client.shutdown() }
        loop.stop()
        pthread_join(thread, nil)
    }
}
