import MeshHTTP2
import MeshTranscode

/// The h2c side of one `ServiceConnection` once the client sent the HTTP/2 preface: unary gRPC calls only
/// (SPEC §10's framing, PROTOCOL-HTTP2.md's messages). Each stream collects its request message, the server
/// answers it at once (handlers are synchronous), and the response goes out as HEADERS, DATA and trailing
/// HEADERS with `grpc-status` — or Trailers-Only when the call failed before any message.
///
/// Sans-IO in the same way as the codec: the connection feeds it bytes and writes what `takeOutput` returns.
final class GRPCSession {
    /// A stream whose request is arriving, or whose response is waiting for flow-control window.
    struct Call {
        var path: String
        var headers: [(name: String, value: String)]
        var decoder: GRPCFrameDecoder
        var messages: [[UInt8]] = []
        var startedNs: Int64
        /// Response bytes the window did not take yet, then the trailers.
        var unsent: [UInt8] = []
        var trailers: HTTP2HeaderList?
        var answered = false
    }

    unowned let server: ServiceServer
    private var codec: HTTP2ServerConnection
    private var calls: [UInt32: Call] = [:]
    private var events: [HTTP2Event] = []

    init(server: ServiceServer) {
        self.server = server
        var limits = HTTP2Limits()
        limits.maxHeaderBytes = server.limits.maxHeaderBytes
        codec = HTTP2ServerConnection(limits: limits)
    }

    /// The codec ended the connection (protocol error, or GOAWAY with an error): flush, then close.
    var isClosed: Bool { codec.isClosed }

    /// Bytes for the socket.
    func takeOutput() -> [UInt8] { codec.takeOutbound() }

    /// Bytes the client sent (the preface first).
    func received(_ bytes: UnsafeRawBufferPointer) {
        codec.feed(bytes, now: UInt64(max(0, WallClock.monotonicNanoseconds())), into: &events)
        let batch = events
        events.removeAll(keepingCapacity: true)
        for event in batch { handle(event) }
    }

    private func handle(_ event: HTTP2Event) {
        switch event {
        case .request(let id, let head, let endStream):
            open(id, head)
            if endStream { complete(id) }
        case .data(let id, let bytes, let endStream):
            codec.consumed(streamID: id, bytes: bytes.count)
            body(id, bytes)
            if endStream { complete(id) }
        case .trailers(let id, _):
            complete(id)
        case .headersTooLarge(let id):
            trailersOnly(id, httpStatus: 431, nil)
        case .streamReset(let id, _), .streamFailed(let id, _, _):
            calls.removeValue(forKey: id)
        case .windowOpened(let id):
            for key in id == 0 ? Array(calls.keys) : [id] { pump(key) }
        case .malformedRequest, .goAway, .connectionError:
            break
        }
    }

    private func open(_ id: UInt32, _ head: HTTP2RequestHead) {
        let regular = head.fields.pairs[head.regularFieldsStart...]
        let contentType = regular.first { $0.name == "content-type" }?.value ?? ""
        // PROTOCOL-HTTP2.md: a content-type that is not gRPC's gets HTTP 415 (it may not be a gRPC client at all).
        guard
            contentType == "application/grpc" || contentType.hasPrefix("application/grpc+")
                || contentType.hasPrefix("application/grpc;")
        else { return trailersOnly(id, httpStatus: 415, nil) }
        guard head.method.elementsEqual("POST".utf8) else { return trailersOnly(id, httpStatus: 405, nil) }
        let path = String(decoding: head.path ?? [], as: UTF8.self)
        let decoder = GRPCFrameDecoder(maxMessageLength: server.limits.maxBodyBytes)
        calls[id] = Call(
            path: path, headers: Array(regular), decoder: decoder, startedNs: WallClock.monotonicNanoseconds())
    }

    private func body(_ id: UInt32, _ bytes: [UInt8]) {
        guard var call = calls[id], !call.answered else { return }
        do {
            call.messages += try call.decoder.feed(bytes)
            calls[id] = call
        } catch {
            let code: GRPCStatusCode = if case .messageTooLarge = error { .resourceExhausted } else { .internal }
            finish(id, call, answer(call, failure: GRPCError(code, error.description)))
        }
    }

    /// The request is complete: answer it.
    private func complete(_ id: UInt32) {
        guard let call = calls[id], !call.answered else { return }
        var failure: GRPCError?
        do {
            try call.decoder.finish()
            // A unary call carries exactly one message (grpc-go answers INTERNAL otherwise, as here).
            if call.messages.count != 1 {
                failure = GRPCError(.internal, "a unary call needs one request message, got \(call.messages.count)")
            }
        } catch {
            failure = GRPCError(.internal, error.description)
        }
        finish(id, call, answer(call, failure: failure))
    }

    /// The server's answer (or, for a broken request, its failure counted and logged there too).
    private func answer(_ call: Call, failure: GRPCError?) -> Result<[UInt8], GRPCError> {
        server.answerGRPC(
            path: call.path, headers: call.headers, message: call.messages.first ?? [], startedNs: call.startedNs,
            failure: failure)
    }

    /// Queues the answer: HEADERS, DATA, trailers; Trailers-Only for a failure.
    private func finish(_ id: UInt32, _ call: Call, _ outcome: Result<[UInt8], GRPCError>) {
        var call = call
        call.answered = true
        switch outcome {
        case .failure(let error):
            calls.removeValue(forKey: id)
            trailersOnly(id, httpStatus: 200, error)
        case .success(let message):
            var head = HTTP2HeaderList()
            head.append("content-type", "application/grpc")
            do {
                try codec.writeResponseHead(streamID: id, status: 200, headers: head, endStream: false)
            } catch {
                calls.removeValue(forKey: id)
                return
            }
            call.unsent = GRPCFrames.encode(message)
            call.trailers = HTTP2HeaderList([("grpc-status", "0")])
            calls[id] = call
            pump(id)
        }
    }

    /// Writes what the windows allow of a stream's answer; the trailers once all of it went.
    private func pump(_ id: UInt32) {
        guard var call = calls[id], call.answered, let trailers = call.trailers else { return }
        if !call.unsent.isEmpty {
            guard let taken = try? codec.writeData(streamID: id, call.unsent, endStream: false) else {
                calls.removeValue(forKey: id)
                return
            }
            call.unsent.removeFirst(taken)
        }
        if call.unsent.isEmpty {
            try? codec.writeTrailers(streamID: id, trailers)
            calls.removeValue(forKey: id)
        } else {
            calls[id] = call
        }
    }

    /// One HEADERS frame that ends the stream: gRPC's Trailers-Only form for `error`, or a bare HTTP status for
    /// what is not a gRPC call at all.
    private func trailersOnly(_ id: UInt32, httpStatus: Int, _ error: GRPCError?) {
        var fields = HTTP2HeaderList()
        if let error {
            fields.append("content-type", "application/grpc")
            fields.append("grpc-status", String(error.code.rawValue))
            fields.append("grpc-message", GRPCMessageText.encode(error.message))
        }
        try? codec.writeResponseHead(streamID: id, status: httpStatus, headers: fields, endStream: true)
    }
}

/// `grpc-message` is percent-encoded on the wire (PROTOCOL-HTTP2.md): everything outside printable ASCII,
/// and `%` itself.
enum GRPCMessageText {
    static func encode(_ text: String) -> String {
        var out = ""
        let hex = Array("0123456789ABCDEF")
        for byte in text.utf8 {
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%") {
                out.append(Character(Unicode.Scalar(byte)))
            } else {
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
            }
        }
        return out
    }

    /// The inverse; a broken escape is kept as received (the spec says not to fail the call over it).
    static func decode(_ text: String) -> String {
        PercentDecoding.decode(Substring(text), plusIsSpace: false)
    }
}

/// The client connection preface, for telling h2c from HTTP/1 on the first bytes of a connection.
enum GRPCSessionPreface {
    static let bytes = HTTP2ServerConnection.preface
}
