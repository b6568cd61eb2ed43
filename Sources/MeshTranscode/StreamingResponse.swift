/// A server-streaming reply transcoded as it arrives: the JSON array `Transcoder.response` would build, in
/// pieces, so the gateway can forward each message when its DATA frame lands instead of holding the whole
/// stream. Sans-IO: feed the upstream's DATA bytes, write what comes back.
///
/// The array's `[` goes out with the first piece, so once anything is written the HTTP status is committed
/// (200): an error status in the trailers can only end the body early. `finish` tells the caller whether the
/// array was closed; on a non-OK grpc-status the caller should abort the response (reset the stream or close
/// the connection) so the client sees a truncated array rather than a complete-looking one.
public struct StreamingResponse: Sendable {
    public let transcoder: Transcoder
    public let binding: HTTPBinding
    private var decoder: GRPCFrameDecoder
    private var opened = false

    public init(transcoder: Transcoder, binding: HTTPBinding) {
        self.transcoder = transcoder
        self.binding = binding
        self.decoder = GRPCFrameDecoder(maxMessageLength: transcoder.maxMessageLength)
    }

    /// JSON for the messages completed by `bytes` (`[` before the first, `,` between); may be empty.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(TranscodeError) -> [UInt8] {
        let messages: [[UInt8]]
        do { messages = try decoder.feed(bytes) } catch {
            throw .invalidResponse("\(transcoder.method.path): \(error)")
        }
        var out: [UInt8] = []
        for m in messages {
            out.append(opened ? UInt8(ascii: ",") : UInt8(ascii: "["))
            opened = true
            out += try transcoder.responseJSON(binding, m)
        }
        return out
    }

    /// The end of the array (`]`, or `[]` when no message came) once the stream ended with grpc-status 0.
    /// - Throws: `.invalidResponse` when the stream stopped inside a message.
    public mutating func finish() throws(TranscodeError) -> [UInt8] {
        do { try decoder.finish() } catch { throw .invalidResponse("\(transcoder.method.path): \(error)") }
        defer { opened = true }
        return opened ? [UInt8(ascii: "]")] : [UInt8(ascii: "["), UInt8(ascii: "]")]
    }
}
