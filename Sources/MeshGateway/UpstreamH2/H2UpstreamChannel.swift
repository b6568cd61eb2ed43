import Glibc
import MeshEventLoop
import MeshHTTP1
import MeshHTTP2
import MeshPosix
import MeshProxy

/// What an exchange holds as its "connection" to an h2c endpoint: one end of a socket pair whose other end this
/// channel reads. Each HTTP/1.1 request the exchange writes becomes one stream on the pool's `H2UpstreamSession`;
/// the stream's answer comes back as HTTP/1.1 (chunked, trailers in the trailer section). Requests follow one
/// another on the pair like keep-alive requests, so the pool parks and reuses channels as it does TCP connections.
///
/// A stream that fails before its answer is complete closes the pair: the exchange sees the connection reset, and
/// retries, counts and answers exactly as for an HTTP/1 upstream that reset.
final class H2UpstreamChannel: EventHandler {
    private let session: H2UpstreamSession
    private var registration = Registration.none
    private var loop: EventLoop { session.worker.loop }

    /// Request bytes read from the exchange and not yet turned into frames.
    private var inbound: [UInt8] = []
    private var parser: RequestParser
    /// The translated head while the stream waits for a slot.
    private var pendingHead: HTTP2HeaderList?
    private var pendingEnd = false
    private var streamID: UInt32?
    private var requestBody = BodyCursor()
    private var requestEnded = true
    /// Decoded request body waiting for window.
    private var requestData: [UInt8] = []
    private var headRequest = false

    /// Response bytes for the exchange not yet written to the pair, and the DATA octets among them to hand back to
    /// the upstream's window once written.
    private var outbound: [UInt8] = []
    private var unconsumed = 0
    /// The stream those octets came on (the connection window is credited even after the stream ended).
    private var creditStreamID: UInt32 = 0
    private var responseFraming = H2UpstreamTranslation.BodyFraming.none
    private var responseStarted = false
    private var responseEnded = true

    private var readable = false
    private var writable = true
    private var closed = false

    /// The last stream failed without the upstream processing it (RFC 9113 §8.7: REFUSED_STREAM, or above a
    /// GOAWAY's last-stream-id; or never opened): the exchange retries it as a connect failure (SPEC §10).
    private(set) var unprocessed = false

    /// A new channel on `session`; returns the exchange's end of the pair (connected, non-blocking) and the channel.
    static func open(on session: H2UpstreamSession) throws(SystemError) -> (fd: Int32, channel: H2UpstreamChannel) {
        let (outer, inner) = try Posix.socketPair()
        let channel = H2UpstreamChannel(session: session)
        do {
            channel.registration = try session.worker.loop.register(fd: outer, handler: channel)
        } catch {
            Posix.close(outer)
            Posix.close(inner)
            throw error
        }
        return (inner, channel)
    }

    private init(session: H2UpstreamSession) {
        self.session = session
        parser = RequestParser(limits: HTTPLimits(maxHeaderBytes: 1 << 20, maxHeaderCount: 256, maxURIBytes: 1 << 20))
    }

    func handleEvents(_ events: IOEvents) {
        if !events.intersection([.readable, .readHangup, .hangup, .error]).isEmpty { readable = true }
        if events.contains(.writable) || events.contains(.error) { writable = true }
        pump()
    }

    func handleTimer(nowMs: Int64) {}

    /// Moves everything that can move: response bytes to the exchange, request bytes from it, body to the stream.
    func pump() {
        guard !closed else { return }
        writeResponse()
        while !closed {
            sendBody()
            if closed || streamID == nil && pendingHead != nil { break }
            if streamID == nil && !inbound.isEmpty && responseEnded && startRequest() { continue }
            // A head that cannot go as HTTP/2 closed the channel: its descriptor is gone.
            if closed { break }
            // Read more only when what was read is passed on (back-pressure on the exchange's writes).
            guard readable, requestData.isEmpty, inbound.count < 64 * 1024, readRequest() else { break }
        }
        session.flush()
    }

    // MARK: - Request: exchange → stream

    /// Reads once from the pair; false when nothing more is there now.
    private func readRequest() -> Bool {
        let scratch = session.channelScratch
        let result = try? Posix.receive(registration.fd, scratch.baseAddress!, scratch.count)
        switch result {
        case .processed(0), nil:
            // The exchange let go of the connection (answered, timed out, client gone): a stream still open is
            // of no use to anyone.
            close(reset: true)
            return false
        case .processed(let n):
            inbound.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
            return true
        case .wouldBlock:
            readable = false
            return false
        }
    }

    /// Parses the next request head and opens its stream; false while the head is incomplete.
    private func startRequest() -> Bool {
        let parsed = inbound.withUnsafeBytes { parser.parse($0, headers: session.headerScratch) }
        switch parsed {
        case .incomplete: return false
        case .invalid:
            close(reset: false)
            return false
        case .complete(let head):
            guard
                let fields = inbound.withUnsafeBytes({
                    H2UpstreamTranslation.requestHead(
                        $0, head: head, headers: session.headerScratch, secure: session.pool.tls != nil)
                })
            else {
                close(reset: false)
                return false
            }
            inbound.removeSubrange(0..<head.headLength)
            requestBody.begin(head.framing)
            requestEnded = requestBody.done
            headRequest = head.method == .head
            responseStarted = false
            responseEnded = false
            unprocessed = false
            pendingHead = fields
            pendingEnd = requestEnded
            retryOpen()
            return true
        }
    }

    /// Asks the session for a stream (again, after waiting for a slot).
    func retryOpen() {
        guard let head = pendingHead, !closed else { return }
        if !session.open(self, head: head, endStream: pendingEnd) { streamFailed(unprocessed: true) }
    }

    func streamOpened(_ id: UInt32) {
        streamID = id
        pendingHead = nil
        pump()
    }

    /// Decodes request body from `inbound` and sends what the windows take.
    private func sendBody() {
        guard let id = streamID, !requestEnded || !requestData.isEmpty else { return }
        if requestData.isEmpty && !inbound.isEmpty && !requestBody.done {
            let taken: Result<(Int, Int), HTTPParseError> = inbound.withUnsafeMutableBytes { bytes in
                if case .chunked = requestBody.mode { return requestBody.takeDechunked(bytes) }
                return requestBody.take(UnsafeRawBufferPointer(bytes)).map { ($0, $0) }
            }
            guard case .success(let (consumed, data)) = taken else { return close(reset: true) }
            requestData.append(contentsOf: inbound[0..<data])
            inbound.removeSubrange(0..<consumed)
        }
        let last = requestBody.done
        guard !requestData.isEmpty || last else { return }
        do {
            let sent = try requestData.withUnsafeBytes { try session.codec.writeData(streamID: id, $0, endStream: last) }
            requestData.removeSubrange(0..<sent)
            if last && requestData.isEmpty { requestEnded = true }
            // Left over with window to spare: the codec's output is full, and only a flush makes room.
            if !requestData.isEmpty, session.codec.sendWindow(streamID: id) ?? 0 > 0 { session.waitForRoom(self) }
        } catch {
            // The stream is no longer writable (answered early, or reset): the rest of the body has nowhere to go.
            requestData.removeAll()
            requestEnded = true
        }
    }

    // MARK: - Response: stream → exchange

    func response(_ head: HTTP2ResponseHead, endStream: Bool) {
        let (bytes, framing) = H2UpstreamTranslation.responseHead(head, endStream: endStream, headRequest: headRequest)
        outbound.append(contentsOf: bytes)
        responseStarted = true
        responseFraming = framing
        if endStream || framing == .none { responseFinished() }
        pump()
    }

    func data(_ bytes: [UInt8], endStream: Bool) {
        if responseFraming == .chunked && !bytes.isEmpty {
            outbound.append(contentsOf: H2UpstreamTranslation.chunkStart(bytes.count))
            outbound.append(contentsOf: bytes)
            outbound.append(contentsOf: H2UpstreamTranslation.chunkEnd)
        } else if responseFraming == .raw {
            outbound.append(contentsOf: bytes)
        }
        unconsumed += bytes.count
        if let streamID { creditStreamID = streamID }
        if endStream {
            if responseFraming == .chunked { outbound.append(contentsOf: H2UpstreamTranslation.lastChunk(trailers: nil)) }
            responseFinished()
        }
        pump()
    }

    func trailers(_ fields: HTTP2HeaderList) {
        if responseFraming == .chunked { outbound.append(contentsOf: H2UpstreamTranslation.lastChunk(trailers: fields)) }
        responseFinished()
        pump()
    }

    /// The stream's answer is complete: the next request on the pair opens a new stream.
    private func responseFinished() {
        responseEnded = true
        let id = streamID
        streamID = nil
        // An answer before the whole body went (RFC 9113 §8.1): the rest is not sent.
        let early = !requestEnded
        requestEnded = true
        requestData.removeAll()
        session.release(self, streamID: id, reset: early)
    }

    /// Writes response bytes to the pair; the DATA octets written go back to the upstream's window.
    private func writeResponse() {
        guard writable, !outbound.isEmpty else { return }
        let result = outbound.withUnsafeBytes { try? Posix.write(registration.fd, $0.baseAddress!, $0.count) }
        switch result {
        case .processed(let n):
            outbound.removeSubrange(0..<n)
            if outbound.isEmpty { creditWindow() }
        case .wouldBlock: writable = false
        case nil: close(reset: true)
        }
    }

    private func creditWindow() {
        guard unconsumed > 0 else { return }
        session.codec.consumed(streamID: creditStreamID, bytes: unconsumed)
        unconsumed = 0
    }

    // MARK: - Ending

    /// The stream or the connection failed: the exchange sees its connection reset (its rules decide a retry).
    func streamFailed(unprocessed: Bool) {
        self.unprocessed = unprocessed
        streamID = nil
        pendingHead = nil
        close(reset: false)
    }

    private func close(reset: Bool) {
        guard !closed else { return }
        closed = true
        // What was received and will never be written still counts against the connection's window.
        creditWindow()
        let id = streamID
        streamID = nil
        session.release(self, streamID: id, reset: reset && !responseEnded)
        loop.close(registration)
        registration = .none
    }
}
