import MeshTranscode

/// One unary gRPC call as a handler sees it: the request message (bytes, still protobuf) and the request's
/// metadata (lowercase names, pseudo-headers excluded).
public struct GRPCRequest: Sendable {
    /// `profile.v1.Profiles`.
    public var service: String
    /// `GetProfiles`.
    public var method: String
    /// The request metadata in order.
    public var headers: [(name: String, value: String)]
    /// The one request message (unary calls carry exactly one).
    public var message: [UInt8]

    /// The first value of metadata `name` (lowercase), or nil.
    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }
}

/// A failed call: the status and message a handler throws (the trailers `grpc-status` and `grpc-message`).
public struct GRPCError: Error, Sendable, Equatable {
    public var code: GRPCStatusCode
    public var message: String

    public init(_ code: GRPCStatusCode, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// A unary handler: runs on the loop thread, returns the response message's bytes or throws a `GRPCError`
/// (anything else becomes INTERNAL).
public typealias GRPCHandler = (GRPCRequest) throws -> [UInt8]

/// A registered method.
struct GRPCMethod {
    let service: String
    let method: String
    let handler: GRPCHandler

    /// The HTTP/2 `:path` of the method (gRPC's PROTOCOL-HTTP2.md: `/<service>/<method>`).
    var path: String { "/\(service)/\(method)" }
}

extension GRPCStatusCode {
    /// The code's canonical name (`NOT_FOUND`), as `grpc_server_handled_total` labels it (go-grpc-prometheus).
    var metricName: String { name.uppercased() }
}

extension Router {
    /// Registers a unary gRPC method, served over h2c on the service's port (see `ServiceConnection`).
    public mutating func addGRPC(service: String, method: String, _ handler: @escaping GRPCHandler) {
        grpcMethods.append(GRPCMethod(service: service, method: method, handler: handler))
    }

    /// Registers a counter the service increments itself; `GET /metrics` exports it.
    public mutating func addCounter(_ counter: ServiceCounter) {
        counters.append(counter)
    }
}
