import MeshEventLoop
import MeshPosix
import MeshTLS

/// A small HTTP/1.1 client on an `EventLoop`, for the control plane: JWKS fetches and health probes.
///
/// One connection per request (`Connection: close`), `GET` only, plain `http://` only. Bodies framed by
/// Content-Length, chunked or connection close are read with MeshHTTP1's parsers. Every failure is an
/// `HTTPClientError`; the completion runs exactly once, on the loop's thread, and may run before `get`
/// returns (bad URL, connection refused at once). Not for the request path: it allocates freely.
///
/// Confined to the loop's thread: create it and call it there (or before the loop runs).
public final class HTTPClient {
    /// The completion of one request.
    public typealias Completion = (Result<HTTPClientResponse, HTTPClientError>) -> Void

    let loop: EventLoop
    let timers: LoopTimers
    /// Staging blocks for TLS exchanges (a request head, ciphertext the socket refused).
    let pool = BufferPool(bufferSize: 17 * 1024, maxFree: 4)
    /// The system trust store's context, made on the first `https://` request that names no CA.
    private var systemTLS: TLSClientContext?
    private let resolver: BlockingResolver?
    private var active: [ObjectIdentifier: HTTPClientExchange] = [:]

    /// Creates a client. Without a `resolver`, only IP-literal hosts work (names fail with `.resolveFailed`),
    /// because resolving on the loop's thread would block it.
    public init(loop: EventLoop, resolver: BlockingResolver? = nil) throws(SystemError) {
        self.loop = loop
        self.resolver = resolver
        timers = try LoopTimers(loop: loop)
    }

    /// Requests in flight.
    public var inFlight: Int { active.count }

    /// `GET url`. `timeoutMs` bounds the whole request (resolve, connect, response); a body over `maxBodyBytes`
    /// fails with `.bodyTooLarge`.
    public func get(
        url: String, timeoutMs: Int, maxBodyBytes: Int, tls: TLSClientContext? = nil,
        completion: @escaping Completion
    ) {
        let target: HTTPTarget
        switch HTTPTarget.parse(url) {
        case .failure(let error): return completion(.failure(error))
        case .success(let parsed): target = parsed
        }
        var context: TLSClientContext?
        if target.secure {
            do {
                context = try tls ?? systemContext()
            } catch {
                return completion(.failure(.connectFailed(address: target.hostHeader, reason: "TLS: \(error)")))
            }
        }
        if let literal = SocketAddress(numericHost: target.host, port: target.port) {
            get(
                address: literal,
                target: target,
                timeoutMs: timeoutMs,
                maxBodyBytes: maxBodyBytes,
                tls: context,
                completion: completion
            )
            return
        }
        guard let resolver else {
            let reason = "no resolver thread on this client; use an IP address"
            return completion(.failure(.resolveFailed(host: target.host, reason: reason)))
        }
        let exchange = start(
            target: target,
            label: target.hostHeader,
            timeoutMs: timeoutMs,
            maxBodyBytes: maxBodyBytes,
            tls: context,
            completion: completion
        )
        let handoff = LoopBound((self, exchange))
        let loop = self.loop
        resolver.resolve(host: target.host, port: target.port) { result in
            loop.execute {
                let (client, exchange) = handoff.value
                guard client.active[ObjectIdentifier(exchange)] != nil else { return }  // timed out meanwhile
                switch result {
                case .success(let addresses) where !addresses.isEmpty:
                    exchange.connect(to: addresses[0])
                case .success:
                    exchange.fail(.resolveFailed(host: target.host, reason: "no addresses"))
                case .failure(let error):
                    exchange.fail(.resolveFailed(host: target.host, reason: error.description))
                }
            }
        }
    }

    /// `GET target.path` from `address`, with `Host: target.hostHeader` (health probes use the configured
    /// endpoint's name while connecting to the address it resolved to).
    public func get(
        address: SocketAddress,
        target: HTTPTarget,
        timeoutMs: Int,
        maxBodyBytes: Int,
        tls: TLSClientContext? = nil,
        completion: @escaping Completion
    ) {
        let exchange = start(
            target: target,
            label: address.description,
            timeoutMs: timeoutMs,
            maxBodyBytes: maxBodyBytes,
            tls: tls,
            completion: completion
        )
        exchange.connect(to: address)
    }

    /// Fails every request in flight with `.cancelled` and releases the client's timer registration.
    private func systemContext() throws -> TLSClientContext {
        if let systemTLS { return systemTLS }
        let made = try TLSClientContext()
        systemTLS = made
        return made
    }

    public func shutdown() {
        for exchange in Array(active.values) { exchange.fail(.cancelled) }
        timers.close()
    }

    private func start(
        target: HTTPTarget,
        label: String,
        timeoutMs: Int,
        maxBodyBytes: Int,
        tls: TLSClientContext?,
        completion: @escaping Completion
    ) -> HTTPClientExchange {
        let exchange = HTTPClientExchange(
            client: self,
            target: target,
            label: label,
            maxBodyBytes: maxBodyBytes,
            tls: tls,
            completion: completion
        )
        active[ObjectIdentifier(exchange)] = exchange
        exchange.deadline = timers.schedule(afterMs: Int64(timeoutMs)) { [weak exchange] in
            exchange?.fail(.timeout(address: label, afterMs: timeoutMs))
        }
        return exchange
    }

    /// Called by an exchange when it has completed, whichever way.
    func finished(_ exchange: HTTPClientExchange) {
        active[ObjectIdentifier(exchange)] = nil
        timers.cancel(exchange.deadline)
    }
}
