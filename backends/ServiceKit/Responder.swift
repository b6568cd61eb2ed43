/// "Answer later": a deferred handler (`Router.addDeferred`) gets one of these and calls `send` once, on the
/// loop thread, when its answer is ready — after an outbound call, say — instead of blocking the loop.
///
/// The connection holds the request's place meanwhile (pipelined requests behind it wait, so answers keep
/// their order). A second `send` is ignored; so is a `send` after the client went away. A responder that is
/// dropped without `send` leaves the client waiting until its idle timeout: every path must answer.
public final class Responder {
    private var deliver: ((Response) -> Void)?
    /// The server the request came to (its loop runs outbound calls made for this request).
    unowned let server: ServiceServer
    /// The request's `traceparent` as received (nil when none).
    public let traceparent: String?
    /// The trace id of the request's log line (the caller's, or a new one).
    public let traceID: String
    /// This service's span id on the request's log line.
    public let spanID: String

    /// The `traceparent` for outbound calls made for this request (W3C Trace Context): the same trace, with this
    /// service's span as the parent — so a trace started at the edge reaches every service the request touches.
    public var outboundTraceparent: String { "00-\(traceID)-\(spanID)-01" }

    init(server: ServiceServer, trace: TraceContext, traceparent: String?, deliver: @escaping (Response) -> Void) {
        self.server = server
        self.traceID = trace.traceID
        self.spanID = trace.spanID
        self.traceparent = traceparent
        self.deliver = deliver
    }

    /// Whether `send` was called.
    public var answered: Bool { deliver == nil }

    /// Answers the request (once).
    public func send(_ response: Response) {
        guard let deliver else { return }
        self.deliver = nil
        deliver(response)
    }

    /// The service's logger.
    public var log: ServiceLog { server.log }
}

/// A handler that answers through a `Responder`, now or later. A thrown error is answered at once.
public typealias DeferredHandler = (Request, Responder) throws -> Void
