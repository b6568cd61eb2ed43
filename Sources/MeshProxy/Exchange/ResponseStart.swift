import MeshHTTP1

/// Whether an upstream's response head is forwarded, decided from the head and the bytes read with it before
/// anything of it is queued for the client (SPEC §4): the plan, the body cursor moved past those bytes, and how
/// many of them are body and data. Everything that makes a response unforwardable while none of it has reached the client
/// is decided here: an unasked-for 101, or body bytes that break the framing. Bytes read later arrive only once
/// the head was written out, so a later framing error closes the client instead.
public struct ResponseStart {
    /// What the exchange knows of its request when the answer arrives.
    public struct Request: Sendable {
        /// The request asked for a tunnel the gateway allows (`TrustBoundary.allowsTunnel`).
        public var upgradeAsked: Bool
        public var clientVersion: HTTPVersion
        public var clientKeepAlive: Bool
        /// The client half-closed, or the worker is draining.
        public var clientLeaving: Bool
        /// The whole request body was read.
        public var requestDone: Bool
        /// The upstream answered before taking the whole body.
        public var requestAbandoned: Bool
        /// A gRPC call: a chunked answer without `grpc-status` in its head keeps its trailers, where the status is.
        public var grpc: Bool

        public init(
            upgradeAsked: Bool, clientVersion: HTTPVersion, clientKeepAlive: Bool, clientLeaving: Bool,
            requestDone: Bool, requestAbandoned: Bool, grpc: Bool
        ) {
            self.upgradeAsked = upgradeAsked
            self.clientVersion = clientVersion
            self.clientKeepAlive = clientKeepAlive
            self.clientLeaving = clientLeaving
            self.requestDone = requestDone
            self.requestAbandoned = requestAbandoned
            self.grpc = grpc
        }
    }

    public var plan: ResponsePlan
    /// Octets after the head that belong to the body.
    public var consumed: Int
    /// Octets of data for the client at the front of the bytes after the head (fewer than `consumed` when
    /// de-chunking).
    public var data: Int

    /// Nil when the response cannot be forwarded faithfully: the attempt ends as a `reset` (its connection closed,
    /// never reused), so the client gets a retry, the route's fallback or a 502, as for a malformed head.
    ///
    /// - Parameters:
    ///   - grpcStatus: the `grpc-status` of the head (a Trailers-Only answer), when the request is a gRPC call.
    ///   - afterHead: the bytes read after the head; de-chunked in place for an HTTP/1.0 client.
    ///   - cursor: begun for the response's body and moved past the bytes taken (the caller's, so the cursor is
    ///     not copied once more on the way: ~250 instructions a response).
    public init?(
        _ head: ResponseHead, grpcStatus: Int?, afterHead: UnsafeMutableRawBufferPointer, request: Request,
        cursor: inout BodyCursor
    ) {
        guard
            let plan = ResponsePlan(
                status: head.status, framing: head.framing, upstreamKeepAlive: head.keepAlive,
                upgradeAsked: request.upgradeAsked, clientVersion: request.clientVersion,
                clientKeepAlive: request.clientKeepAlive, clientLeaving: request.clientLeaving,
                requestDone: request.requestDone, requestAbandoned: request.requestAbandoned)
        else { return nil }
        cursor.begin(plan.switching ? .untilClose : head.framing)
        if request.grpc && grpcStatus == nil && head.framing == .chunked { cursor.trailers = [] }
        guard let body = cursor.forward(afterHead, dechunk: plan.dechunk) else { return nil }
        self.plan = plan
        consumed = body.consumed
        data = body.data
    }
}
