import MeshProtobuf

/// Every method of a descriptor set that has a `google.api.http` rule, ready to route REST requests: what a
/// gateway route naming a descriptor set (and no single method) serves. Built once per configuration.
public struct TranscoderTable: Sendable {
    /// Transcoders by gRPC path (`/pkg.Service/Method`).
    public let transcoders: [String: Transcoder]
    /// Methods with an HTTP rule that are not served, with the reason (client streaming is not transcoded).
    public let skipped: [(path: String, reason: String)]
    /// `transcoders` in gRPC path order: the order `match` breaks ties in, sorted once.
    private let ordered: [Transcoder]

    /// - Throws: `.invalidBinding` for the first rule (in gRPC path order) that does not fit its method: a
    ///   broken descriptor set should fail the configuration check, not one request at a time.
    public init(pool: DescriptorPool, jsonOptions: ProtoJSON.Options = .init()) throws(TranscodeError) {
        var transcoders: [String: Transcoder] = [:]
        var skipped: [(path: String, reason: String)] = []
        for path in pool.methods.keys.sorted() {
            guard let method = pool.methods[path], method.http != nil else { continue }
            if method.clientStreaming {
                skipped.append((path, "client streaming is not transcoded"))
                continue
            }
            transcoders[path] = try Transcoder(pool: pool, method: method, jsonOptions: jsonOptions)
        }
        self.transcoders = transcoders
        self.skipped = skipped
        ordered = transcoders.keys.sorted().map { transcoders[$0]! }
    }

    /// A table of one method (a route that names its method and binding).
    public init(single transcoder: Transcoder) {
        transcoders = [transcoder.method.path: transcoder]
        skipped = []
        ordered = [transcoder]
    }

    /// The method and binding for a request; nil means no route (the gateway answers 404). Among several
    /// matches the template with more literal segments wins, then the method earlier in gRPC path order, then
    /// the earlier binding.
    public func match(httpMethod: String, path: String) -> (transcoder: Transcoder, matched: MatchedBinding)? {
        var best: (transcoder: Transcoder, matched: MatchedBinding)?
        for t in ordered {
            guard let m = t.bindings.match(httpMethod: httpMethod, path: path) else { continue }
            if let b = best, b.matched.binding.template.literalCount >= m.binding.template.literalCount { continue }
            best = (t, m)
        }
        return best
    }
}
