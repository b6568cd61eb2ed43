import Glibc
import MeshConfig
import MeshControl
import MeshGateway
import MeshJWT
import MeshSync
import MeshTestSupport
import Testing

/// A JWKS endpoint whose published keys the test controls.
final class KeySetServer: Sendable {
    let published: Shared<[TestKey]>
    let server: TestUpstream

    init(_ keys: [TestKey]) throws {
        let published = Shared(keys)
        self.published = published
        server = try TestUpstream(
            .byTarget { path in
                guard path == "/jwks" else { return .raw(httpResponse(status: 404, reason: "Not Found", body: "")) }
                return .raw(httpResponse(body: TestKey.jwks(published.value)))
            })
    }

    var fetches: Int { server.hits("/jwks") }
    var url: String { server.url("/jwks") }
    func rotate(to keys: [TestKey]) { published.value = keys }
}

/// Every `onRefresh` call, in order.
final class RefreshLog: Sendable {
    let entries = Locked<[(provider: String, success: Bool, error: String?)]>([])

    var callbacks: ControlPlane.Callbacks {
        ControlPlane.Callbacks(onRefresh: { provider, success, error in
            self.entries.withLock { $0.append((provider, success, error)) }
        })
    }

    var failures: [String] { entries.withLock { $0.filter { !$0.success }.compactMap(\.error) } }
    var successes: Int { entries.withLock { $0.filter(\.success).count } }
}

@Suite("JWKS refresh through the control plane")
struct JWKSRefreshTests {
    private func start(_ jwks: KeySetServer, log: RefreshLog, refreshMs: Int = 300_000) throws -> ControlPlane {
        let block = provider("p", jwks: #"{"url": "\#(jwks.url)", "refresh_ms": \#(refreshMs)}"#)
        let config = try makeConfig(providers: "{\(block)}")
        let control = try ControlPlane(
            config: config,
            endpoints: EndpointRegistry().states(for: config),
            callbacks: log.callbacks
        )
        try control.start()
        return control
    }

    private func authenticate(_ control: ControlPlane, _ token: String, now: Int64) -> Authenticator.Outcome {
        var cache = VerifiedTokenCache(capacity: 8)
        return control.providers.runtime(named: "p")!.authenticator.authenticate(
            header: bearer(token),
            cache: &cache,
            now: now
        )
    }

    @Test func initialFetchMakesTheGatewayReady() throws {
        let first = TestKey(kid: "k1")
        let jwks = try KeySetServer([first])
        let log = RefreshLog()
        let control = try start(jwks, log: log)
        defer {
            control.stop()
            jwks.server.shutdown()
        }
        #expect(control.waitUntilReady(timeoutMs: 5000))
        #expect(control.isReady)
        #expect(jwks.fetches == 1)
        #expect(log.successes == 1)
        #expect(authenticate(control, first.token(), now: Int64(time(nil))).result.map(\.kid) == .success("k1"))
    }

    @Test func notReadyWhileTheIssuerIsDown() throws {
        let jwks = try KeySetServer([TestKey(kid: "k1")])
        jwks.server.stopListening()
        let log = RefreshLog()
        let control = try start(jwks, log: log)
        defer {
            control.stop()
            jwks.server.shutdown()
        }
        #expect(waitUntil { !log.failures.isEmpty })
        #expect(!control.isReady)
        #expect(!control.waitUntilReady(timeoutMs: 20))
        #expect(log.failures.first?.contains("cannot connect to 127.0.0.1:\(jwks.server.port)") == true)
    }

    @Test func rotatedKeyVerifiesAfterTheUnknownKidRefetch() throws {
        let old = TestKey(kid: "old")
        let new = TestKey(kid: "new")
        let jwks = try KeySetServer([old])
        let log = RefreshLog()
        let control = try start(jwks, log: log)
        defer {
            control.stop()
            jwks.server.shutdown()
        }
        #expect(control.waitUntilReady(timeoutMs: 5000))
        jwks.rotate(to: [old, new])
        let now = Int64(time(nil))

        // The new kid is unknown until the keys are fetched again; this request wins the refetch slot.
        let first = authenticate(control, new.token(), now: now)
        #expect(first.result.map(\.kid) == .failure(.unknownKid))
        #expect(first.refetchKeys)
        control.refetchClaimed(provider: "p")
        #expect(waitUntil { jwks.fetches == 2 && log.successes == 2 })
        #expect(authenticate(control, new.token(), now: now).result.map(\.kid) == .success("new"))
        #expect(authenticate(control, old.token(), now: now).result.map(\.kid) == .success("old"))
    }

    @Test func refetchesAreLimitedToOnePer30Seconds() throws {
        let jwks = try KeySetServer([TestKey(kid: "k1")])
        let log = RefreshLog()
        let control = try start(jwks, log: log)
        defer {
            control.stop()
            jwks.server.shutdown()
        }
        #expect(control.waitUntilReady(timeoutMs: 5000))
        let t0: Int64 = 2_000_000_000
        #expect(control.requestRefetch(provider: "p", now: t0))
        #expect(waitUntil { log.successes == 2 })
        // Within 30 s of the granted one: refused, and no fetch happens.
        #expect(!control.requestRefetch(provider: "p", now: t0 + 1))
        #expect(!control.requestRefetch(provider: "p", now: t0 + 29))
        #expect(control.fetchCount(provider: "p") == 2)
        #expect(jwks.fetches == 2)
        // 30 s later it is granted again.
        #expect(control.requestRefetch(provider: "p", now: t0 + 30))
        #expect(waitUntil { log.successes == 3 })
        #expect(jwks.fetches == 3)
        // Unknown provider, or a provider without jwks.url: nothing to fetch.
        #expect(!control.requestRefetch(provider: "nope", now: t0 + 100))
    }

    @Test func issuerDownKeepsTheLastGoodKeysAndReportsFailures() throws {
        let key = TestKey(kid: "k1")
        let jwks = try KeySetServer([key])
        let log = RefreshLog()
        let control = try start(jwks, log: log)
        defer {
            control.stop()
            jwks.server.shutdown()
        }
        #expect(control.waitUntilReady(timeoutMs: 5000))
        jwks.server.stopListening()
        #expect(control.requestRefetch(provider: "p", now: 2_000_000_000))
        #expect(waitUntil { log.failures.count == 1 })
        #expect(log.failures[0].contains("cannot connect"))
        let store = control.providers.runtime(named: "p")!.store
        #expect(store.snapshot().consecutiveFailures == 1)
        #expect(control.isReady)
        #expect(authenticate(control, key.token(), now: Int64(time(nil))).result.map(\.kid) == .success("k1"))
    }

    @Test func failedFetchIsRetriedWithBackoff() throws {
        // Serves garbage first, then a key set: the retry (1 s back-off) must pick it up without any refetch.
        let key = TestKey(kid: "k1")
        let healthy = Shared(false)
        let server = try TestUpstream(
            .byTarget { _ in healthy.value ? .raw(httpResponse(body: TestKey.jwks([key]))) : .raw(Array("junk".utf8)) })
        let log = RefreshLog()
        let block = provider("p", jwks: #"{"url": "\#(server.url("/jwks"))", "refresh_ms": 300000}"#)
        let config = try makeConfig(providers: "{\(block)}")
        let control = try ControlPlane(config: config, endpoints: [], callbacks: log.callbacks)
        try control.start()
        defer {
            control.stop()
            server.shutdown()
        }
        #expect(waitUntil { log.failures.count == 1 })
        #expect(log.failures[0].contains("bad HTTP response"))
        healthy.value = true
        #expect(control.waitUntilReady(timeoutMs: 10_000))
        #expect(server.hits("/jwks") == 2)
    }

    // Regression: issue 10 — a jwks.url with credentials was logged verbatim in refresh failures.
    @Test(arguments: ["http://user:SECRET@127.0.0.1:PORT/jwks", "http://127.0.0.1:PORT/missing?access_token=SECRET"])
    func refreshFailuresNeverCarryTheURLsCredentials(template: String) throws {
        let server = try TestUpstream(.byTarget { _ in .raw(httpResponse(status: 404, reason: "Not Found", body: "")) })
        let url = template.split(separator: "PORT").joined(separator: "\(server.port)")
        let log = RefreshLog()
        let block = provider("p", jwks: #"{"url": "\#(url)", "refresh_ms": 300000}"#)
        let config = try makeConfig(providers: "{\(block)}")
        let control = try ControlPlane(config: config, endpoints: [], callbacks: log.callbacks)
        try control.start()
        defer {
            control.stop()
            server.shutdown()
        }
        #expect(waitUntil { log.failures.count >= 1 })
        for failure in log.failures {
            #expect(!failure.contains("SECRET"), "\(failure)")
            #expect(failure.contains("127.0.0.1:\(server.port)"), "\(failure)")
        }
    }
}
