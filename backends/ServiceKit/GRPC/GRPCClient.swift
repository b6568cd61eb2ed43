import MeshPosix
import MeshTranscode

/// A small unary gRPC client over h2c (prior knowledge) for a service's outbound calls, on the service's own
/// event loop: one connection to `target`, opened on first use and again after it fails, every call a stream
/// on it. Calls never block the loop; the completion runs on the loop thread when the answer, a failure, or
/// the call's deadline comes.
///
/// Meant to talk to the service's meshgate sidecar, which owns retries, breakers and the upstream choice; so
/// this client retries nothing. Every failure is a `GRPCError`: a refused or lost connection is UNAVAILABLE,
/// the deadline DEADLINE_EXCEEDED, a non-gRPC answer follows gRPC's HTTP-to-status table.
public final class GRPCClient {
    /// Where calls go (`host:port` of the sidecar's h2c listener).
    public let target: SocketAddress
    /// `:authority` of every call.
    public let authority: String
    private var connection: GRPCClientConnection?

    public init(target: SocketAddress, authority: String? = nil) {
        self.target = target
        self.authority = authority ?? target.description
    }

    /// Starts a unary call of `path` (`/package.Service/Method`) with one request `message` and `metadata`
    /// (lowercase names; `traceparent` among them carries the trace on), bounded by `timeoutMs` (also sent as
    /// `grpc-timeout`). `responder` ties the call to the request it is made for and to the server's loop.
    public func unary(
        path: String,
        message: [UInt8],
        metadata: [(String, String)],
        timeoutMs: Int,
        for responder: Responder,
        completion: @escaping (Result<[UInt8], GRPCError>) -> Void
    ) {
        let loop = responder.server.loop
        if connection == nil || connection!.isFinished {
            do {
                connection = try GRPCClientConnection(loop: loop, target: target)
            } catch {
                return completion(.failure(GRPCError(.unavailable, "cannot connect to \(target): \(error)")))
            }
        }
        let call = GRPCClientConnection.Call(
            path: path, authority: authority, message: message, metadata: metadata,
            deadlineMs: loop.nowMs + Int64(max(1, timeoutMs)), timeoutMs: timeoutMs, completion: completion)
        connection!.start(call)
    }
}

/// gRPC's mapping of an HTTP status that is not 200 on a gRPC call (grpc/doc/http-grpc-status-mapping.md).
enum GRPCHTTPStatus {
    static func code(_ status: Int) -> GRPCStatusCode {
        switch status {
        case 400: .internal
        case 401: .unauthenticated
        case 403: .permissionDenied
        case 404: .unimplemented
        case 429, 502, 503, 504: .unavailable
        default: .unknown
        }
    }
}
