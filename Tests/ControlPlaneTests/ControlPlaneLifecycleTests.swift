import Glibc
import MeshConfig
import MeshControl
import MeshGateway
import MeshTestSupport
import Testing

@Suite("ControlPlane lifecycle and reload")
struct ControlPlaneLifecycleTests {
    @Test func readyWithoutProvidersAndStopIsIdempotent() throws {
        let config = try makeConfig()
        let control = try ControlPlane(config: config, endpoints: EndpointRegistry().states(for: config))
        #expect(control.isReady)
        try control.start()
        try control.start()
        #expect(control.waitUntilReady(timeoutMs: 0))
        control.stop()
        control.stop()
        // After stop nothing is scheduled any more, and asking is harmless.
        #expect(control.fetchCount(provider: "p") == 0)
        #expect(control.activeHealthChecks().isEmpty)
    }

    @Test func fileProvidersAreReadyBeforeStart() throws {
        let key = TestKey(kid: "k")
        let block = provider("p", jwks: #"{"inline": \#(TestKey.jwks([key]))}"#)
        let config = try makeConfig(providers: "{\(block)}")
        let control = try ControlPlane(config: config, endpoints: [])
        #expect(control.isReady)
        #expect(control.fetchCount(provider: "p") == 0)
        // No jwks.url: an unknown kid has nothing to refetch.
        #expect(!control.requestRefetch(provider: "p", now: 2_000_000_000))
    }

    @Test func reloadKeepsTheRefresherOfUnchangedKeysAndStartsNewOnes() throws {
        let first = try KeySetServer([TestKey(kid: "a")])
        let second = try KeySetServer([TestKey(kid: "b")])
        defer {
            first.server.shutdown()
            second.server.shutdown()
        }
        let log = RefreshLog()
        let p = provider("p", jwks: #"{"url": "\#(first.url)"}"#)
        let one = try makeConfig(providers: "{\(p)}")
        let control = try ControlPlane(config: one, endpoints: [], callbacks: log.callbacks)
        try control.start()
        defer { control.stop() }
        #expect(control.waitUntilReady(timeoutMs: 5000))
        let keys = try #require(control.providers.runtime(named: "p")?.keys)

        // p unchanged except its leeway, q new with another URL: p keeps its keys and is not fetched again; q
        // is fetched once, and the control plane is not ready until it has keys.
        let changed = provider("p", jwks: #"{"url": "\#(first.url)"}"#, extra: #""leeway_s": 1"#)
        let q = provider("q", jwks: #"{"url": "\#(second.url)"}"#)
        let two = try makeConfig(providers: "{\(changed), \(q)}")
        control.reconfigure(config: two, endpoints: [])
        #expect(control.providers.runtime(named: "p")?.keys === keys)
        #expect(control.waitUntilReady(timeoutMs: 5000))
        #expect(waitUntil { second.fetches == 1 })
        #expect(first.fetches == 1)
        #expect(control.fetchCount(provider: "p") == 1)
        #expect(control.fetchCount(provider: "q") == 1)
        #expect(log.entries.withLock { $0.map(\.provider) }.sorted() == ["p", "q"])
    }
}
