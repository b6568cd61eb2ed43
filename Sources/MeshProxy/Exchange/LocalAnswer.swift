import MeshHTTP1

/// An answer the gateway writes itself in place of an upstream's: a SPEC §4 error, a route's fallback, an ACME
/// challenge's key authorization, a transcoded call's JSON. One writer for all of them, so each states the
/// request id and how the connection goes on, and none is ever sent in part.
public enum LocalAnswer {
    /// SPEC §4's JSON error; to a gRPC caller a Trailers-Only answer (SPEC §10). `extraHeader` is a whole
    /// `name: value` line without CRLF (`www-authenticate`, `location`, the rate-limit fields).
    case error(GatewayError, grpc: Bool, extraHeader: String?)
    /// The route's configured fallback; its body is sent from the route's storage.
    case fallback(CompiledFallback)
    /// `200 text/plain` with a body small enough to share the head's block (an ACME key authorization).
    case text([UInt8])
    /// A transcoded call's answer; the body from storage the exchange keeps until it is written.
    case json(status: Int, body: StableBytes, route: CompiledRoute?)

    /// What a written answer is to the exchange.
    public struct Written {
        /// The status the client reads (200 for a gRPC error: its status is in `grpc-status`).
        public var status: Int
        /// Body octets counted in `bytes_out`. A gateway error's own JSON is not counted (it never was).
        public var bodyBytes: Int
        /// A body to queue after the head, valid until the answer is written; nil when there is none or it went
        /// into the head's block.
        public var body: UnsafeRawBufferPointer?
    }

    /// Writes the head (and a body that shares its block) into `w`. Nil when it did not fit: the caller commits
    /// nothing. `withBody` is false for a response to HEAD, which states the length and carries no body.
    public func write(
        into w: inout HeadWriter, requestID: UnsafeRawBufferPointer, persistence: ResponseHeadBuilder.Persistence,
        withBody: Bool
    ) -> Written? {
        var written: Written
        switch self {
        case .error(let error, let grpc, let extraHeader):
            let id = String(decoding: requestID, as: UTF8.self)
            if grpc {
                error.writeGRPCResponse(into: &w, requestID: id, persistence: persistence)
                written = Written(status: 200, bodyBytes: 0)
            } else {
                error.writeResponse(
                    into: &w, requestID: id, persistence: persistence, extraHeader: extraHeader, body: withBody)
                written = Written(status: error.status, bodyBytes: 0)
            }
        case .fallback(let fallback):
            fallback.head.withUnsafeBytes { w.write($0) }
            Self.writeTail(requestID: requestID, persistence: persistence, into: &w)
            let count = withBody ? fallback.body.count : 0
            written = Written(status: fallback.status, bodyBytes: count, body: count > 0 ? fallback.body.bytes : nil)
        case .text(let body):
            w.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ")
            w.writeDecimal(body.count)
            w.write("\r\n")
            Self.writeTail(requestID: requestID, persistence: persistence, into: &w)
            if withBody { body.withUnsafeBytes { w.write($0) } }
            written = Written(status: 200, bodyBytes: withBody ? body.count : 0)
        case .json(let status, let body, let route):
            w.write("HTTP/1.1 ")
            w.writeDecimal(status)
            w.write(status == 200 ? " OK\r\n" : " \r\n")
            w.write("content-type: application/json\r\ncontent-length: ")
            w.writeDecimal(body.count)
            w.write("\r\n")
            Self.writeRequestID(requestID, into: &w)
            if let route { ResponseHeadBuilder.writeAdditions(route, into: &w) }
            ResponseHeadBuilder.writePersistence(persistence, into: &w)
            let count = withBody ? body.count : 0
            written = Written(status: status, bodyBytes: count, body: count > 0 ? body.bytes : nil)
        }
        return w.overflowed ? nil : written
    }

    /// `x-request-id`, the connection's persistence and the blank line.
    private static func writeTail(
        requestID: UnsafeRawBufferPointer, persistence: ResponseHeadBuilder.Persistence, into w: inout HeadWriter
    ) {
        writeRequestID(requestID, into: &w)
        ResponseHeadBuilder.writePersistence(persistence, into: &w)
    }

    private static func writeRequestID(_ requestID: UnsafeRawBufferPointer, into w: inout HeadWriter) {
        w.write("x-request-id: ")
        w.write(requestID)
        w.write("\r\n")
    }
}

extension LocalAnswer.Written {
    init(status: Int, bodyBytes: Int) {
        self.init(status: status, bodyBytes: bodyBytes, body: nil)
    }
}
