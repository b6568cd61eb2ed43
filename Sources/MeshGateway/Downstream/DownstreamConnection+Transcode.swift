import Glibc
import MeshConfig
import MeshHTTP1
import MeshProxy
import MeshTranscode

/// REST → gRPC (`grpc_transcode`, issue 16). The REST request is read whole and replaced *in the client
/// buffer* by its gRPC call — an HTTP/1.1 `POST /pkg.Service/Method` head and one length-prefixed message —
/// which then goes upstream like any request: the strict parser reads the rewritten head again, retries replay
/// it from the buffer, and limits, breaker, deadlines and trace context apply unchanged. The reply is collected
/// whole (bounded) and answered as JSON.
extension DownstreamConnection {
    /// `admit` for a transcode route before its rewrite: waits for the body, builds the call, rewrites the
    /// buffer and admits the call; or answers (404 no binding, 400 a body or parameter that does not fit).
    func transcodeRequest(_ head: RequestHead, view: RequestView, pathLength: Int, _ config: TranscodeConfig) {
        guard let (body, bodyEnd) = wholeBody(head) else { return }
        let path = String(decoding: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(worker.pathScratch)[0..<pathLength]), as: UTF8.self)
        let method = String(decoding: view.method, as: UTF8.self)
        guard let (transcoder, matched) = config.table.match(httpMethod: method, path: path) else {
            consumeRESTBody(upTo: bodyEnd)
            respond(.noRoute, close: false)
            return
        }
        exchange.transcode = TranscodeState(transcoder: transcoder, binding: matched.binding)
        let call: [UInt8]
        do {
            // The parser's query starts at its `?`.
            let query = view.query.first == UInt8(ascii: "?") ? UnsafeRawBufferPointer(rebasing: view.query.dropFirst()) : view.query
            call = try transcoder.request(matched, query: String(decoding: query, as: UTF8.self), body: body)
        } catch {
            consumeRESTBody(upTo: bodyEnd)
            answerTranscoded(error.transcodedError)
            return
        }
        guard
            let at = TranscodeState.rewriteAsCall(
                view, grpcPath: transcoder.method.path, message: call, buffer: &client.buffer,
                headOffset: exchange.headOffset, bodyEnd: bodyEnd)
        else {
            consumeRESTBody(upTo: bodyEnd)
            respond(.payloadTooLarge, close: true)
            return
        }
        exchange.headOffset = at
        guard let (newHead, newView, newPathLength) = bufferedHead() else {
            consumeRESTBody(upTo: bodyEnd)
            respond(.payloadTooLarge, close: true)
            return
        }
        client.buffer.start = exchange.headOffset + newHead.headLength
        exchange.machine.requestRewritten(framing: newHead.framing)
        exchange.machine.transcodedCall()
        admit(newHead, view: newView, pathLength: newPathLength)
    }

    /// The REST body and where it ends in the buffer, when all of it is there; otherwise nil, with the
    /// exchange parked until more arrives (`readTranscodedBody`) or answered (413, 400).
    private func wholeBody(_ head: RequestHead) -> (body: [UInt8], end: Int)? {
        let limit = min(worker.config.source.limits.maxBodyBytes, client.buffer.capacity / 2)
        switch TranscodeState.wholeBody(head.framing, in: client.buffer.readable, limit: limit) {
        case .complete(let body, let end):
            return (body, client.buffer.start + end)
        case .invalid:
            respond(.badRequest, close: true)
            return nil
        case .tooLarge:
            respond(.payloadTooLarge, close: true)
            return nil
        case .incomplete:
            guard client.buffer.end - exchange.headOffset < client.buffer.capacity else {
                respond(.payloadTooLarge, close: true)
                return nil
            }
        }
        // RFC 9110 §10.1.1: a client waiting for 100 Continue sends nothing more without it.
        if head.expectContinue && client.buffer.isEmpty { writeContinue() }
        // The head stays readable so reading more never compacts it away; it is parsed again on resume.
        client.buffer.start = exchange.headOffset
        exchange.machine.awaitBody(now: worker.loop.nowMs)
        syncTimer()
        _ = flushClient()
        // Bytes the socket already signalled (read while an earlier request was proxied) bring no new event.
        if client.readable { worker.loop.post(registration, .readable) }
        return nil
    }

    /// Reads more of a parked transcoded request, then tries again (routing and admission already passed).
    func readTranscodedBody() {
        // A 100 Continue the socket did not take at once goes out when it is writable again.
        guard flushClient(), client.readable else { return }
        switch readClient() {
        case .data: break
        case .drained: return
        case .eof, .failed:
            close()
            return
        }
        // `readClient` may have moved the buffered bytes to the front; the head leads them.
        exchange.headOffset = client.buffer.start
        exchange.machine.bodyArrived()
        guard let (head, view, pathLength) = bufferedHead() else {
            respond(.badRequest, close: true)
            return
        }
        client.buffer.start = exchange.headOffset + head.headLength
        admit(head, view: view, pathLength: pathLength)
    }

    /// Answering without a call: the REST body is read, so the connection can serve the next request.
    private func consumeRESTBody(upTo end: Int) {
        client.buffer.start = end
        exchange.machine.requestRewritten(framing: .none)
    }

    // MARK: - The reply

    /// The call's response head: Trailers-Only and non-200 answers are answered at once; otherwise the
    /// messages are collected (`collectReply`). False when the exchange went elsewhere (retry, fallback, error).
    func startTranscodedReply(_ head: ResponseHead, _ up: UpstreamConnection) -> Bool {
        let headBytes = up.buffer.readable
        let grpcStatus =
            head.status == 200 ? GRPC.status(inHead: headBytes, headers: worker.headers, count: head.headerCount) : nil
        guard responseHeadArrived(status: head.status, grpcStatus: grpcStatus) else { return false }
        exchange.machine.responseStarted(framing: head.framing, switching: false, now: worker.loop.nowMs)
        exchange.upstreamKeepAlive = head.keepAlive && head.framing != .untilClose
        switch TranscodeState.replyStart(status: head.status, grpcStatus: grpcStatus) {
        case .fail(let error):
            answerTranscoded(error)
            return false
        case .ended(let grpcStatus):
            let message = GRPC.value(named: GRPC.messageName, inHead: headBytes, headers: worker.headers, count: head.headerCount)
            exchange.grpcStatus = grpcStatus
            // The pooled channel is let go rather than checked for leftovers.
            finishTranscodedReply(status: grpcStatus, message: message.map { String(decoding: $0, as: UTF8.self) }, fromReply: false)
            return false
        case .collect:
            break
        }
        var cursor = BodyCursor()
        cursor.begin(head.framing)
        if head.framing == .chunked { cursor.trailers = [] }
        exchange.machine.response = cursor
        syncTimer()
        up.buffer.start += head.headLength
        return collectReply(up)
    }

    /// Takes the reply's body bytes from the upstream buffer; answers once the body (and its trailers) ended.
    func collectReply(_ up: UpstreamConnection) -> Bool {
        let bytes = UnsafeMutableRawBufferPointer(mutating: up.buffer.readable)
        guard let taken = exchange.machine.response.forward(bytes, dechunk: true),
            exchange.transcode!.reply.count + taken.data <= TranscodeState.maxReplyBytes
        else {
            respond(.badGateway, close: false)
            return false
        }
        exchange.transcode!.reply += UnsafeRawBufferPointer(rebasing: bytes[0..<taken.data])
        up.buffer.start += taken.consumed
        guard exchange.machine.response.done else { return true }
        let trailers = exchange.machine.response.trailers ?? []
        let status = GRPC.status(inTrailerSection: trailers)
        exchange.grpcStatus = status
        let message = GRPC.value(named: GRPC.messageName, inTrailerSection: trailers)
        finishTranscodedReply(status: status, message: message.map { String(decoding: $0, as: UTF8.self) }, fromReply: true)
        return true
    }

    /// The call ended with `status` (nil: no grpc-status, which gRPC reads as UNKNOWN).
    private func finishTranscodedReply(status: Int?, message: String?, fromReply: Bool) {
        guard let answer = exchange.transcode?.answer(status: status, message: message) else { return }
        answerHTTP(answer.status, answer.body, fromReply: fromReply)
    }

    /// A failed call as its HTTP status and `{"code","message","error"}` body.
    func answerTranscoded(_ error: TranscodedError, fromReply: Bool = false) {
        answerHTTP(error.httpStatus, error.body, fromReply: fromReply)
    }

    /// Queues the JSON answer. `fromReply`: the upstream's reply was read to its end inside `pumpResponse`,
    /// which completes the exchange (and may reuse the connection); otherwise any attempt's connection is let
    /// go and the answer is sent as the gateway's own.
    private func answerHTTP(_ status: Int, _ body: [UInt8], fromReply: Bool) {
        let stable = StableBytes(body)
        let answer = LocalAnswer.json(status: status, body: stable, route: exchange.route)
        guard let queued = queueAnswer(answer, close: false, endingAttempt: !fromReply) else {
            respond(.badGateway, close: false)
            return
        }
        // The queue holds the body's address: the exchange keeps its storage until it is written.
        exchange.transcode?.answer = stable
        guard fromReply else { return sendLocalAnswer(queued) }
        exchange.status = queued.written.status
        exchange.bytesOut = queued.written.bodyBytes
        exchange.closeAfter = queued.closing
    }
}
