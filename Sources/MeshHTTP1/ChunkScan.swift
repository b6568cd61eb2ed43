/// The outcome of feeding bytes to a `ChunkedDecoder`.
public enum ChunkScan: Equatable, Sendable {
    /// Every byte given was consumed; the body is not finished.
    case needMore
    /// The body (last-chunk, trailers and final CRLF included) ends after `consumed` bytes of this buffer; the
    /// bytes after it belong to the next message.
    case done(consumed: Int)
    /// The body is malformed; the decoder stays failed until `reset()`.
    case invalid(HTTPParseError)
}
