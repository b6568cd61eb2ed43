import MeshTranscode

/// A route's `grpc_transcode` (issue 16, Envoy's `grpc_json_transcoder`): REST requests become gRPC calls to
/// an `h2`/`h2c` upstream, described by a descriptor set loaded when the configuration is (a reload loads it
/// again: the generation that routes a request owns the transcoders it uses).
public struct TranscodeConfig: Sendable {
    /// As written in the file (like `cert_file`, relative to the working directory).
    public let descriptorSet: String
    /// `method`, `body` and `response_body` as written (nil: absent); kept for `meshgate config`.
    public let method: String?
    public let body: String?
    public let responseBody: String?
    /// The method named by `method` (with the route's own binding), or every method of the set with a
    /// `google.api.http` rule.
    public let table: TranscoderTable

    public init(
        descriptorSet: String, method: String? = nil, body: String? = nil, responseBody: String? = nil,
        table: TranscoderTable
    ) {
        self.descriptorSet = descriptorSet
        self.method = method
        self.body = body
        self.responseBody = responseBody
        self.table = table
    }
}
