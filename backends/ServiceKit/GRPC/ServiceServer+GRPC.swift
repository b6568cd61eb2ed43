import MeshTranscode

/// Dispatch of unary gRPC calls (`GRPCSession` collects them): method lookup, deadlines, the handler, error
/// mapping, `grpc_server_*` metrics and the log line, as `respond(to:startedNs:)` does for HTTP/1.
extension ServiceServer {
    /// Answers one call: the response message, or the status it failed with. With `failure` (the request
    /// itself was broken: framing, message count) the handler does not run, but the call is counted and logged.
    func answerGRPC(
        path: String,
        headers: [(name: String, value: String)],
        message: [UInt8],
        startedNs: Int64,
        failure: GRPCError? = nil
    ) -> Result<[UInt8], GRPCError> {
        let header = { (name: String) in headers.first { $0.name == name }?.value }
        let trace = TraceContext(header: header("traceparent"))
        let method = grpcMethods[path]
        let key =
            method.map { ServiceMetrics.GRPCKey(service: $0.service, method: $0.method) }
            ?? ServiceMetrics.unknownGRPC
        let outcome: Result<[UInt8], GRPCError>
        if let failure {
            outcome = .failure(failure)
        } else if let expired = Self.grpcDeadlineError(header, startedNs: startedNs) {
            outcome = .failure(expired)
        } else if let method {
            let request = GRPCRequest(
                service: method.service, method: method.method, headers: headers, message: message)
            outcome = run(method.handler, request)
        } else {
            outcome = .failure(GRPCError(.unimplemented, "unknown method \(path)"))
        }
        let seconds = Double(WallClock.monotonicNanoseconds() - startedNs) / 1e9
        let code: GRPCStatusCode = if case .failure(let error) = outcome { error.code } else { .ok }
        metrics.recordGRPC(key, code: code, seconds: seconds)
        logGRPC(path: path, header: header, key: key, code: code, trace: trace, seconds: seconds)
        return outcome
    }

    private func run(_ handler: GRPCHandler, _ request: GRPCRequest) -> Result<[UInt8], GRPCError> {
        do {
            return .success(try handler(request))
        } catch let error as GRPCError {
            return .failure(error)
        } catch {
            log.error("handler failed", ["detail": .string("\(error)")])
            return .failure(GRPCError(.internal, "internal error"))
        }
    }

    /// The gateway's `x-meshgate-deadline-ms` (SPEC §3) or the caller's `grpc-timeout`, whichever is sooner; an
    /// unparsable `grpc-timeout` is ignored (SPEC §10), an unparsable deadline header is INVALID_ARGUMENT.
    static func grpcDeadlineError(_ header: (String) -> String?, startedNs: Int64) -> GRPCError? {
        let expired = GRPCError(.deadlineExceeded, "the caller's deadline has passed")
        if let timeout = header("grpc-timeout"), let ns = GRPCTimeout.nanoseconds(timeout),
            WallClock.monotonicNanoseconds() >= startedNs &+ ns
        {
            return expired
        }
        switch deadlineError(header("x-meshgate-deadline-ms"), startedNs: startedNs) {
        case .none: return nil
        case .some(let error) where error.status == 504: return expired
        case .some(let error): return GRPCError(.invalidArgument, error.detail)
        }
    }

    private func logGRPC(
        path: String,
        header: (String) -> String?,
        key: ServiceMetrics.GRPCKey,
        code: GRPCStatusCode,
        trace: TraceContext,
        seconds: Double
    ) {
        var fields: [(String, ServiceLog.Field)] = [
            ("trace_id", .string(trace.traceID)), ("span_id", .string(trace.spanID)),
        ]
        if let parent = trace.parentID { fields.append(("parent_span_id", .string(parent))) }
        if let id = header("x-request-id"), id.utf8.count <= 128 { fields.append(("request_id", .string(id))) }
        fields += [
            ("protocol", .string("HTTP/2")), ("method", .string("POST")), ("path", .string(String(path.prefix(256)))),
            ("route", .string("grpc")), ("grpc_service", .string(key.service)), ("grpc_method", .string(key.method)),
            ("grpc_status", .int(code.rawValue)), ("status", .int(200)),
            ("duration_ms", .double((seconds * 1e6).rounded() / 1e3)),
        ]
        // Server-side faults are errors; a caller's mistake (NOT_FOUND, INVALID_ARGUMENT) is not.
        let level = [.unknown, .internal, .dataLoss].contains(code) ? "error" : "info"
        log.write(level, "request", fields)
    }
}

/// `grpc-timeout` (PROTOCOL-HTTP2.md): 1–8 digits and a unit, H M S m u n.
enum GRPCTimeout {
    static func nanoseconds(_ text: String) -> Int64? {
        guard let unit = text.last, text.count >= 2, text.count <= 9, let value = Int64(text.dropLast()),
            value >= 0
        else { return nil }
        let scale: Int64
        switch unit {
        case "H": scale = 3_600_000_000_000
        case "M": scale = 60_000_000_000
        case "S": scale = 1_000_000_000
        case "m": scale = 1_000_000
        case "u": scale = 1_000
        case "n": scale = 1
        default: return nil
        }
        let (ns, overflow) = value.multipliedReportingOverflow(by: scale)
        return overflow ? .max : ns
    }
}
