/// What the admin listener asks the running gateway for, as closures, so it needs none of its internals.
///
/// Every closure runs on the admin thread, one request at a time; they must be thread-safe with respect to the
/// workers (read atomics or immutable snapshots). `reload` may block the admin thread while it runs.
public struct AdminHooks: Sendable {
    /// `GET /metrics`: the Prometheus 0.0.4 exposition.
    public var metrics: @Sendable () -> String
    /// `GET /config`: the effective configuration as JSON (secrets redacted), plus the last reload errors.
    public var config: @Sendable () -> String
    /// `GET /upstreams`: SPEC §6's JSON (see `UpstreamsView`).
    public var upstreams: @Sendable () -> String
    /// `GET /readyz`: true when listeners are bound, config loaded, (sidecar) app healthy, and not draining.
    public var ready: @Sendable () -> Bool
    /// `POST /reload`: reloads the file now; `errors` are the validation errors when `ok` is false.
    public var reload: @Sendable () -> (ok: Bool, errors: [String])

    /// Creates hooks; see each property for its contract.
    public init(
        metrics: @escaping @Sendable () -> String, config: @escaping @Sendable () -> String,
        upstreams: @escaping @Sendable () -> String, ready: @escaping @Sendable () -> Bool,
        reload: @escaping @Sendable () -> (ok: Bool, errors: [String])
    ) {
        self.metrics = metrics
        self.config = config
        self.upstreams = upstreams
        self.ready = ready
        self.reload = reload
    }
}
