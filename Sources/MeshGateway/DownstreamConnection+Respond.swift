import CLinux
import MeshEventLoop
import MeshHTTP1
import MeshOTLP
import MeshProxy
import MeshTrace

extension DownstreamConnection {
    // MARK: - The gateway's own responses

    /// Answers with a gateway error (SPEC §4's table, JSON body). The connection closes afterwards when
    /// `close` is set or when request bytes that were never read would otherwise be taken for the next request.
    func respond(_ error: GatewayError, close: Bool, extraHeader: String? = nil) {
        if exchange.reported || exchange.startNs == 0 {
            exchange.reset(startNs: clinux_monotonic_ns())
            requestID.removeAll(keepingCapacity: true)
        }
        if requestID.isEmpty { worker.appendRequestID(into: &requestID) }
        abandonAttempt()
        toUpstream.reset(pool: worker.pool)
        client.out.reset(pool: worker.pool)
        let closing = close || closesAfterLocalAnswer
        var w = HeadWriter(client.out.headSpace(from: worker.pool))
        let id = String(decoding: requestID, as: UTF8.self)
        var status = error.status
        if exchange.machine.grpc && !exchange.machine.transcoded {
            // SPEC §10: a gRPC caller reads its error from a Trailers-Only answer, not from a JSON body.
            error.writeGRPCResponse(into: &w, requestID: id, persistence: persistence(closing: closing))
            status = 200
            exchange.grpcStatus = error.grpcStatus
        } else {
            error.writeResponse(
                into: &w, requestID: id, persistence: persistence(closing: closing), extraHeader: extraHeader,
                body: exchange.method != .head)
        }
        client.out.commitHead(w.count)
        exchange.error = error
        sendLocalAnswer(status: status, bodyBytes: exchange.bytesOut, closing: closing)
    }

    /// The gateway answers instead of an upstream (an error, a fallback, an ACME challenge, a transcoded
    /// reply): the client connection cannot be kept when request bytes were never read, or the client or the
    /// worker is going away.
    var closesAfterLocalAnswer: Bool {
        !exchange.machine.request.done || !exchange.clientKeepAlive || client.peerClosed || worker.draining
    }

    /// Sends the answer queued in `client.out` as the exchange's response. A closing answer is counted at
    /// once and gets 5 s to leave; otherwise it is pumped like a proxied response and the connection goes on.
    func sendLocalAnswer(status: Int, bodyBytes: Int, closing: Bool) {
        exchange.status = status
        exchange.bytesOut = bodyBytes
        exchange.machine.answered(now: worker.loop.nowMs)
        exchange.closeAfter = closing
        if closing {
            report()
            phase = .closing
            setDeadline(worker.loop.nowMs + 5000)
            flushAndClose()
        } else {
            phase = .proxying
            syncTimer()
            pumpResponse()
        }
    }

    /// How the client connection continues after a response the gateway writes itself.
    func persistence(closing: Bool) -> ResponseHeadBuilder.Persistence {
        closing ? .close : exchange.clientVersion == .http10 ? .keepAliveHTTP10 : .keepAlive
    }

    // MARK: - Telemetry

    /// Hands the finished exchange to telemetry, once; also releases its share of the retry budget.
    func report() {
        guard !exchange.reported, exchange.startNs != 0 else { return }
        exchange.reported = true
        if exchange.countedInFlight {
            exchange.target?.budget.endRequest()
            exchange.countedInFlight = false
        }
        if let slot = exchange.inFlightSlot {
            exchange.inFlightSlot = nil
            slot.release(latencyNs: exchange.headLatencyNs, now: clinux_monotonic_ns())
        }
        var record = RequestRecord()
        record.listener = listener.listenerIndex
        record.route = exchange.route?.index ?? -1
        record.method = exchange.method
        record.protocolName = bridged ? "HTTP/2" : exchange.clientVersion == .http10 ? "HTTP/1.0" : "HTTP/1.1"
        // 499: the client went away before an answer (nginx's convention).
        record.status = exchange.status == 0 ? 499 : exchange.status
        record.startNs = exchange.startNs
        record.endNs = clinux_monotonic_ns()
        record.upstream = exchange.endpointIndex >= 0 ? exchange.target?.index ?? -1 : -1
        record.endpoint = exchange.endpointIndex
        record.attempts = exchange.machine.attempts
        record.bytesIn = exchange.bytesIn
        record.bytesOut = exchange.bytesOut
        record.error = exchange.error
        record.rateLimited = exchange.error == .rateLimited
        record.sampled = exchange.sampled
        record.trace = exchange.traceID
        record.span = exchange.spanID
        record.parentSpan = exchange.parentSpan
        record.host = exchange.host
        record.spanAttempts = exchange.attemptSpans
        if exchange.machine.grpc {
            if exchange.grpcStatus == nil, let trailers = exchange.machine.response.trailers {
                exchange.grpcStatus = GRPC.status(inTrailerSection: trailers)
            }
            record.grpcStatus = exchange.grpcStatus ?? -1
        }
        if telemetry.accessLogEnabled || telemetry.spanExportEnabled && exchange.sampled {
            record.path = exchange.path
            record.client = String(decoding: clientIP, as: UTF8.self)
            record.requestID = String(decoding: requestID, as: UTF8.self)
            if let tls = client.clientTLS {
                record.tlsVersion = tls.version
                record.peerIdentity = tls.identity?.uri
            }
        }
        telemetry.requestFinished(record)
    }
}
