import Glibc
import MeshConfig
import MeshControl
import MeshGateway
import MeshPosix
import Testing

@Suite("ResolvedAddresses")
struct ResolvedAddressesTests {
    static let a = SocketAddress(numericHost: "10.0.0.1", port: 80)!
    static let b = SocketAddress(numericHost: "10.0.0.2", port: 80)!
    static let endpoint = HostPort(host: "svc.local", port: 80)

    @Test func generationMovesOnlyWhenSomethingChanged() {
        let table = ResolvedAddresses()
        #expect(table.generation == 0)
        #expect(table.publish(upstreams: ["app": [[Self.a]]], endpoints: ["app": [Self.endpoint]]) == 1)
        #expect(table.generation == 1)
        // Same content: no new generation, workers need not look.
        #expect(table.publish(upstreams: ["app": [[Self.a]]], endpoints: ["app": [Self.endpoint]]) == nil)
        #expect(table.generation == 1)
        #expect(table.publish(upstreams: ["app": [[Self.a, Self.b]]], endpoints: ["app": [Self.endpoint]]) == 2)
        let snapshot = table.snapshot()
        #expect(snapshot.generation == 2)
        #expect(snapshot.addresses(upstream: "app", endpoint: Self.endpoint) == [Self.a, Self.b])
        #expect(snapshot.addresses(upstream: "other", endpoint: Self.endpoint).isEmpty)
    }

    @Test func firstAddressesFollowTheGivenOrder() {
        let table = ResolvedAddresses()
        let other = HostPort(host: "10.0.0.2", port: 80)
        table.publish(
            upstreams: ["app": [[Self.a, Self.b]], "db": [[Self.b]]],
            endpoints: ["app": [Self.endpoint], "db": [other]]
        )
        #expect(table.snapshot().firstAddresses(order: ["db", "app"]) == [[Self.b], [Self.a]])
        #expect(table.snapshot().firstAddresses(order: ["missing"]) == nil)
        table.publish(upstreams: ["app": [[]]], endpoints: ["app": [Self.endpoint]])
        #expect(table.snapshot().firstAddresses(order: ["app"]) == nil)
    }

    @Test func modifyIsAtomicAndSkipsNoOps() {
        let table = ResolvedAddresses()
        table.publish(upstreams: ["app": [[Self.a]]], endpoints: ["app": [Self.endpoint]])
        #expect(table.modify { _, _ in } == nil)
        #expect(table.modify { rows, _ in rows["app"]![0] = [Self.b] } == 2)
        #expect(table.snapshot().addresses(upstream: "app", endpoint: Self.endpoint) == [Self.b])
    }
}

@Suite("DNS resolution in the control plane")
struct DNSTests {
    @Test func startResolvesEveryEndpointBeforeTheLoopRuns() throws {
        let upstreams = #"{"app": {"endpoints": ["127.0.0.1:3000", "localhost:3001"], "dns_refresh_ms": 20}}"#
        let config = try makeConfig(upstreams: upstreams)
        let control = try ControlPlane(config: config, endpoints: EndpointRegistry().states(for: config))
        #expect(control.addresses.generation == 0)
        try control.start()
        defer { control.stop() }
        let snapshot = control.addresses.snapshot()
        #expect(snapshot.generation == 1)
        #expect(snapshot.endpoints["app"] == config.upstreams["app"]!.endpoints)
        let literal = snapshot.addresses(upstream: "app", endpoint: HostPort(host: "127.0.0.1", port: 3000))
        #expect(literal == [SocketAddress(numericHost: "127.0.0.1", port: 3000)!])
        let named = snapshot.addresses(upstream: "app", endpoint: HostPort(host: "localhost", port: 3001))
        #expect(!named.isEmpty)
        #expect(named.allSatisfy { $0.port == 3001 })
        #expect(snapshot.firstAddresses(order: config.upstreamOrder)?.count == 1)
    }

    @Test func unresolvableNamesAreReportedAndKeepNoAddresses() throws {
        let failures = Shared<[String]>([])
        let upstreams = #"{"app": {"endpoints": ["no-such-host.invalid:80"], "dns_refresh_ms": 20}}"#
        let config = try makeConfig(upstreams: upstreams)
        let callbacks = ControlPlane.Callbacks(onResolveFailure: { upstream, endpoint, _ in
            failures.value.append("\(upstream)/\(endpoint)")
        })
        let control = try ControlPlane(
            config: config,
            endpoints: EndpointRegistry().states(for: config),
            callbacks: callbacks
        )
        try control.start()
        defer { control.stop() }
        #expect(failures.value.first == "app/no-such-host.invalid:80")
        #expect(
            control.addresses.snapshot().addresses(
                upstream: "app",
                endpoint: HostPort(host: "no-such-host.invalid", port: 80)
            )
            .isEmpty
        )
        // The refresher keeps trying on its own thread, every dns_refresh_ms.
        #expect(waitUntil(timeoutMs: 10_000) { failures.value.count >= 3 })
    }

    @Test func reconfigureResolvesNewEndpointsBeforeReturning() throws {
        let registry = EndpointRegistry()
        let first = try makeConfig(upstreams: #"{"app": {"endpoints": ["127.0.0.1:3000"]}}"#)
        let control = try ControlPlane(config: first, endpoints: registry.states(for: first))
        try control.start()
        defer { control.stop() }
        let second = try makeConfig(upstreams: #"{"app": {"endpoints": ["127.0.0.1:3000", "127.0.0.2:3000"]}}"#)
        control.reconfigure(config: second, endpoints: registry.states(for: second))
        let snapshot = control.addresses.snapshot()
        #expect(snapshot.generation == 2)
        #expect(
            snapshot.firstAddresses(order: ["app"]) == [
                [
                    SocketAddress(numericHost: "127.0.0.1", port: 3000)!,
                    SocketAddress(numericHost: "127.0.0.2", port: 3000)!,
                ]
            ]
        )
    }
}

/// A DNS the test controls: `svc.test` answers with whatever `answer` holds.
final class FakeDNS: Sendable {
    let answer = Shared<[SocketAddress]>([SocketAddress(numericHost: "10.0.0.1", port: 80)!])
    let lookups = Shared(0)
    let hosts = Shared<Set<String>>([])

    var lookup: BlockingResolver.Lookup {
        { host, _ in
            self.lookups.value += 1
            self.hosts.value.insert(host)
            guard host == "svc.test" else { return .failure(SystemError(errno: EHOSTUNREACH, call: "fake dns")) }
            return .success(self.answer.value)
        }
    }
}

@Suite("DNS refresh")
struct DNSRefreshTests {
    @Test func changedAnswersArePublishedWithANewGeneration() throws {
        let dns = FakeDNS()
        let upstreams = #"{"app": {"endpoints": ["svc.test:80", "127.0.0.1:81"], "dns_refresh_ms": 20}}"#
        let config = try makeConfig(upstreams: upstreams)
        let control = try ControlPlane(
            config: config,
            endpoints: EndpointRegistry().states(for: config),
            lookup: dns.lookup
        )
        try control.start()
        defer { control.stop() }
        let endpoint = HostPort(host: "svc.test", port: 80)
        #expect(control.addresses.generation == 1)
        #expect(
            control.addresses.snapshot().addresses(upstream: "app", endpoint: endpoint)
                == [SocketAddress(numericHost: "10.0.0.1", port: 80)!]
        )

        // Same answer on every refresh: lookups happen, the generation does not move.
        #expect(waitUntil { dns.lookups.value >= 3 })
        #expect(control.addresses.generation == 1)

        // The service scaled out: the next refresh publishes both addresses.
        let scaled = [
            SocketAddress(numericHost: "10.0.0.1", port: 80)!, SocketAddress(numericHost: "10.0.0.2", port: 80)!,
        ]
        dns.answer.value = scaled
        #expect(waitUntil { control.addresses.generation == 2 })
        let snapshot = control.addresses.snapshot()
        #expect(snapshot.addresses(upstream: "app", endpoint: endpoint) == scaled)
        // The literal endpoint is untouched and never looked up.
        #expect(
            snapshot.addresses(upstream: "app", endpoint: HostPort(host: "127.0.0.1", port: 81))
                == [SocketAddress(numericHost: "127.0.0.1", port: 81)!]
        )

        #expect(dns.hosts.value == ["svc.test"])

        // An empty answer (a DNS blip) keeps the last addresses.
        dns.answer.value = []
        let lookups = dns.lookups.value
        #expect(waitUntil { dns.lookups.value >= lookups + 2 })
        #expect(control.addresses.generation == 2)
        #expect(control.addresses.snapshot().addresses(upstream: "app", endpoint: endpoint) == scaled)
    }
}
