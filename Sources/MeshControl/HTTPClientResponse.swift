import MeshHTTP1

/// A complete response received by `HTTPClient`: status, header fields in order, and the de-chunked body (the
/// shared `HTTPResponseMessage`, also the blocking client's).
public typealias HTTPClientResponse = HTTPResponseMessage

extension HTTPResponseMessage {
    /// True for 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }
}
