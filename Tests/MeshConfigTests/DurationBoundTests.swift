import Testing

@testable import MeshConfig

/// Every duration key is bounded above (issue 10): a value the runtime would overflow in `now + duration`
/// is a configuration error naming its JSON path, never a crash at reload.
@Suite struct DurationBoundTests {
    /// (where the key goes, its JSON path) for every `_ms` key of the schema.
    static var keys: [(document: (String) -> String, path: String)] {
        [
            (
                { document(route: #"{"match": {"path": "/"}, "upstream": "app", "timeout_ms": \#($0)}"#) },
                "listeners[0].routes[0].timeout_ms"
            ),
            (
                {
                    document(
                        route:
                            #"{"match": {"path": "/"}, "upstream": "app", "timeout_ms": 2147483647, "per_try_timeout_ms": \#($0)}"#
                    )
                },
                "listeners[0].routes[0].per_try_timeout_ms"
            ),
            (
                {
                    document(
                        route: #"{"match": {"path": "/"}, "upstream": "app", "retry": {"backoff_max_ms": \#($0)}}"#)
                },
                "listeners[0].routes[0].retry.backoff_max_ms"
            ),
            (
                { document(upstreams: #"{"app": {"endpoints": ["127.0.0.1:3000"], "connect_timeout_ms": \#($0)}}"#) },
                "upstreams.app.connect_timeout_ms"
            ),
            (
                { document(upstreams: #"{"app": {"endpoints": ["127.0.0.1:3000"], "dns_refresh_ms": \#($0)}}"#) },
                "upstreams.app.dns_refresh_ms"
            ),
            (
                {
                    document(
                        upstreams: #"{"app": {"endpoints": ["127.0.0.1:3000"], "pool": {"idle_timeout_ms": \#($0)}}}"#)
                },
                "upstreams.app.pool.idle_timeout_ms"
            ),
            (
                {
                    document(
                        upstreams:
                            #"{"app": {"endpoints": ["127.0.0.1:3000"], "circuit_breaker": {"open_ms": \#($0)}}}"#)
                },
                "upstreams.app.circuit_breaker.open_ms"
            ),
            ({ document(extra: #""limits": {"header_timeout_ms": \#($0)}"#) }, "limits.header_timeout_ms"),
            ({ document(extra: #""limits": {"idle_timeout_ms": \#($0)}"#) }, "limits.idle_timeout_ms"),
            ({ document(extra: #""limits": {"drain_grace_ms": \#($0)}"#) }, "limits.drain_grace_ms"),
            ({ document(extra: #""limits": {"drain_timeout_ms": \#($0)}"#) }, "limits.drain_timeout_ms"),
        ]
    }

    // Regression: issue 10 — `"idle_timeout_ms": 9223372036854775807` passed `meshgate check` and trapped a
    // reload on `nowMs + ms`.
    @Test(arguments: 0..<11, ["9223372036854775807", "2147483648", "100000000000"])
    func hugeDurationsAreErrorsWithTheirPath(key: Int, value: String) {
        let (make, path) = Self.keys[key]
        let errors = loadErrors(make(value))
        #expect(errors.map(\.path) == [path], "\(errors)")
        #expect(errors.first?.message.contains("must be at most 2147483647 milliseconds") == true, "\(errors)")
    }

    @Test(arguments: 0..<11)
    func theLargestDurationIsAccepted(key: Int) throws {
        let (make, _) = Self.keys[key]
        _ = try loadValid(make("\(Defaults.maxDurationMs)"))
    }
}
