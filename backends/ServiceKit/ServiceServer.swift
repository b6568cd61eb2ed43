import Glibc
import MeshEventLoop
import MeshPosix
import MeshTrace

/// A small HTTP/1.1 server for the backends on meshgate's own event loop and codec: one loop on the calling
/// thread, keep-alive and pipelining, Content-Length and chunked bodies (bounded), a router, `/healthz`,
/// `/metrics`, JSON request logs with trace ids, and `x-meshgate-deadline-ms` (SPEC §3 deadline propagation).
///
/// Lifecycle: `init` with the service's routes, then `run(listen:)` blocks until SIGTERM or SIGINT and
/// returns normally (the caller exits 0). Handlers run on the loop thread, one at a time, so a handler may use
/// the service's single SQLite connection without locking.
public final class ServiceServer {
    /// Bounds a client cannot exceed.
    public struct Limits: Sendable {
        /// Largest request body after de-chunking; over it: 413 JSON and the connection closes.
        public var maxBodyBytes = 1 << 20
        /// Largest request head (RFC 9112 fields included); over it: 431.
        public var maxHeaderBytes = 65536
        /// A connection with no complete request for this long is closed.
        public var idleTimeoutMs: Int64 = 60_000

        /// The defaults above.
        public init() {}
    }

    /// The `service` field of log lines.
    public let service: String
    /// The limits every connection enforces.
    public let limits: Limits
    /// The logger (stdout JSON lines).
    public let log: ServiceLog
    let loop: EventLoop
    private var router: Router
    let metrics: ServiceMetrics
    /// The unary gRPC methods by `:path`.
    let grpcMethods: [String: GRPCMethod]
    var connections = 0
    /// One read buffer shared by every connection: the loop is single-threaded and a read's bytes are copied
    /// into the connection's pending bytes before the next read.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)

    /// Creates a server for `service` answering `router`'s routes plus `GET /healthz` and `GET /metrics`.
    public init(service: String, router: Router, limits: Limits = Limits()) throws(SystemError) {
        self.service = service
        self.limits = limits
        log = ServiceLog(service: service)
        loop = try EventLoop()
        var router = router
        router.add("GET", "/healthz", name: "healthz") { _ in
            .json(200) { w in
                w.beginObject()
                w.key("status")
                w.string("ok")
                w.endObject()
            }
        }
        let metrics = ServiceMetrics(
            routeNames: router.routeNames + ["metrics"],
            grpcMethods: router.grpcMethods.map { ServiceMetrics.GRPCKey(service: $0.service, method: $0.method) },
            counters: router.counters
        )
        grpcMethods = Dictionary(router.grpcMethods.map { ($0.path, $0) }) { first, _ in first }
        router.add("GET", "/metrics", name: "metrics") { _ in
            .text(200, metrics.exposition(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        self.router = router
        self.metrics = metrics
    }

    deinit { readBuffer.deallocate() }

    /// Binds `address`, serves until SIGTERM/SIGINT, then closes the listener and returns.
    ///
    /// - Throws: `SystemError` when the address cannot be bound (the caller reports it and exits non-zero).
    public func run(listen address: SocketAddress) throws(SystemError) {
        Posix.ignoreSIGPIPE()
        let stopper = SignalWatcher.start { [loop] in loop.stop() }
        let fd = try Sockets.listener(address, reusePort: false, backlog: 1024)
        let listener = ServiceListener(server: self)
        try listener.register(fd: fd)
        let bound = Posix.localAddress(fd)?.description ?? address.description
        log.info("listening", ["address": .string(bound), "pid": .int(Int(getpid()))])
        loop.run()
        listener.close()
        log.info("stopped", ["signal": .int(Int(stopper.received))])
    }

    // MARK: - Dispatch

    /// Answers one complete request: deadline check, route, handler, error mapping, metrics, log line. `reply`
    /// gets the response, at once or — for a deferred route — when its handler's `Responder` is answered.
    func respond(to request: Request, startedNs: Int64, reply: @escaping (Response) -> Void) {
        var request = request
        let trace = TraceContext(header: request.header("traceparent"))
        var routeName = ServiceMetrics.unmatched
        let complete = { [self] (response: Response) in
            let seconds = Double(WallClock.monotonicNanoseconds() - startedNs) / 1e9
            metrics.record(route: routeName, status: response.status, seconds: seconds)
            logRequest(request, route: routeName, response: response, trace: trace, seconds: seconds)
            reply(response)
        }
        if let expired = Self.deadlineError(request.header("x-meshgate-deadline-ms"), startedNs: startedNs) {
            return complete(.error(expired))
        }
        switch router.match(method: request.method, path: Substring(request.path)) {
        case .found(let route, let parameters):
            routeName = route.name
            request.parameters = parameters
            switch route.handler {
            case .now(let handler): complete(run(handler, request))
            case .later(let handler):
                let responder = Responder(
                    server: self, trace: trace, traceparent: request.header("traceparent"), deliver: complete)
                do {
                    try handler(request, responder)
                } catch {
                    responder.send(failure(error))
                }
            }
        case .methodNotAllowed(let allowed):
            var answer = Response.error(
                HTTPError(
                    status: 405,
                    code: "method_not_allowed",
                    detail: "\(request.method) is not allowed on \(request.path)"
                )
            )
            answer.headers.append(("allow", allowed.joined(separator: ", ")))
            complete(answer)
        case .notFound:
            complete(.error(.notFound("no route for \(request.path)")))
        }
    }

    /// Runs a handler; every thrown error becomes a JSON response (a 500 for anything that is not an HTTPError).
    private func run(_ handler: Handler, _ request: Request) -> Response {
        do {
            return try handler(request)
        } catch {
            return failure(error)
        }
    }

    private func failure(_ error: any Error) -> Response {
        if let error = error as? HTTPError {
            if error.status >= 500 { log.error("handler failed", ["detail": .string(error.detail)]) }
            return .error(error)
        }
        log.error("handler failed", ["detail": .string("\(error)")])
        return .error(.internalError("internal error"))
    }

    /// SPEC §3: the gateway sends the milliseconds left; if none are left when we start, do not do the work.
    static func deadlineError(_ header: String?, startedNs: Int64) -> HTTPError? {
        guard let header else { return nil }
        guard let remaining = Int64(header.trimmingCharacters(in: " \t")) else {
            return .badRequest("x-meshgate-deadline-ms must be an integer")
        }
        let deadlineNs = startedNs &+ remaining.multipliedReportingOverflow(by: 1_000_000).partialValue
        if remaining <= 0 || WallClock.monotonicNanoseconds() >= deadlineNs {
            return HTTPError(status: 504, code: "deadline_exceeded", detail: "the caller's deadline has passed")
        }
        return nil
    }

    private func logRequest(
        _ request: Request,
        route: String,
        response: Response,
        trace: TraceContext,
        seconds: Double
    ) {
        var fields: [(String, ServiceLog.Field)] = [
            ("trace_id", .string(trace.traceID)), ("span_id", .string(trace.spanID)),
        ]
        if let parent = trace.parentID { fields.append(("parent_span_id", .string(parent))) }
        if let id = request.header("x-request-id"), id.utf8.count <= 128 { fields.append(("request_id", .string(id))) }
        fields += [
            ("method", .string(request.method)), ("path", .string(request.path)), ("route", .string(route)),
            ("status", .int(response.status)), ("duration_ms", .double((seconds * 1e6).rounded() / 1e3)),
        ]
        let level = response.status >= 500 ? "error" : "info"
        log.write(level, "request", fields)
    }

    /// A response for a request that could not be parsed (no route, counted as `unmatched`).
    func rejected(_ error: HTTPError) -> Response {
        metrics.record(route: ServiceMetrics.unmatched, status: error.status, seconds: 0)
        log.warn("rejected request", ["status": .int(error.status), "detail": .string(error.detail)])
        return .error(error)
    }
}

extension String {
    /// Drops leading and trailing characters in `set` (no Foundation on this path).
    func trimmingCharacters(in set: String) -> Substring {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s.removeFirst() }
        while let l = s.last, chars.contains(l) { s.removeLast() }
        return s
    }
}
