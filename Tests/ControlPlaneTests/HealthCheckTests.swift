import Glibc
import MeshConfig
import MeshControl
import MeshGateway
import MeshTestSupport
import Testing

@Suite("HealthProbeState")
struct HealthProbeStateTests {
    /// Feeds `outcomes` (1 = success, 0 = failure) and returns the transitions, as "index:health".
    private func transitions(
        _ outcomes: [Int],
        from start: EndpointHealth = .unknown,
        healthy: Int,
        unhealthy: Int
    )
        -> [String]
    {
        var state = HealthProbeState(health: start, healthyThreshold: healthy, unhealthyThreshold: unhealthy)
        var result: [String] = []
        for (index, outcome) in outcomes.enumerated() {
            if let health = state.record(success: outcome == 1) { result.append("\(index):\(health.label)") }
        }
        return result
    }

    static let cases: [(outcomes: [Int], healthy: Int, unhealthy: Int, expected: [String])] = [
        ([1, 1], 2, 3, ["1:healthy"]),
        ([1], 2, 3, []),
        ([0, 0, 0], 2, 3, ["2:unhealthy"]),
        ([0, 0, 1, 0, 0], 2, 3, []),  // a success resets the failure count
        ([1, 1, 0, 0, 0, 1, 1], 2, 3, ["1:healthy", "4:unhealthy", "6:healthy"]),
        ([1, 0, 1, 0, 1, 0], 2, 2, []),  // flapping never reaches either threshold
        ([0], 1, 1, ["0:unhealthy"]),
        ([1, 1, 1, 1], 1, 1, ["0:healthy"]),  // no repeated transitions
    ]

    @Test(arguments: cases)
    func thresholds(_ c: (outcomes: [Int], healthy: Int, unhealthy: Int, expected: [String])) {
        #expect(transitions(c.outcomes, healthy: c.healthy, unhealthy: c.unhealthy) == c.expected)
    }

    @Test func continuesFromAKnownHealth() {
        #expect(transitions([0, 0], from: .healthy, healthy: 2, unhealthy: 2) == ["1:unhealthy"])
        #expect(transitions([1, 1], from: .healthy, healthy: 2, unhealthy: 2) == [])
        #expect(transitions([1, 1], from: .unhealthy, healthy: 2, unhealthy: 2) == ["1:healthy"])
    }
}

/// A health endpoint whose status the test flips; counts the probes answered with each status.
final class FlippingHealthServer: Sendable {
    let status = Shared(200)
    let answered = Shared<[Int: Int]>([:])
    let server: TestUpstream

    init() throws {
        let status = self.status
        let answered = self.answered
        server = try TestUpstream(
            .byTarget { _ in
                let code = status.value
                answered.value[code, default: 0] += 1
                return .raw(httpResponse(status: code, reason: code == 200 ? "OK" : "Unavailable", body: ""))
            })
    }

    func count(_ code: Int) -> Int { answered.value[code] ?? 0 }
}

/// Every `onHealthChange` call, with how many 503s the server had answered at that moment.
final class HealthLog: Sendable {
    let changes = Shared<[(endpoint: String, health: EndpointHealth, failuresServed: Int)]>([])
}

@Suite("Active health checks")
struct HealthCheckTests {
    @Test func thresholdsMoveAnEndpointBetweenHealthyAndUnhealthy() throws {
        let backend = try FlippingHealthServer()
        let log = HealthLog()
        let upstreams = """
            {"app": {"endpoints": ["127.0.0.1:\(backend.server.port)"],
                     "health_check": {"path": "/healthz", "interval_ms": 100, "timeout_ms": 100,
                                      "unhealthy_threshold": 3, "healthy_threshold": 2}}}
            """
        let config = try makeConfig(upstreams: upstreams)
        let endpoints = EndpointRegistry().states(for: config)
        let state = endpoints[0][0]
        #expect(state.health == .unknown)
        let callbacks = ControlPlane.Callbacks(onHealthChange: { _, endpoint, health in
            log.changes.value.append(("\(endpoint)", health, backend.count(503)))
        })
        let control = try ControlPlane(config: config, endpoints: endpoints, callbacks: callbacks)
        try control.start()
        defer {
            control.stop()
            backend.server.shutdown()
        }

        #expect(waitUntil { state.health == .healthy })
        #expect(backend.count(200) >= 2)
        #expect(backend.server.hits("/healthz") >= 2)

        backend.status.value = 503
        #expect(waitUntil { state.health == .unhealthy })
        #expect(!state.isHealthy)

        backend.status.value = 200
        #expect(waitUntil { state.health == .healthy })

        let changes = log.changes.value
        #expect(changes.map(\.health) == [.healthy, .unhealthy, .healthy])
        #expect(changes.allSatisfy { $0.endpoint == "127.0.0.1:\(backend.server.port)" })
        // It took at least `unhealthy_threshold` failed probes to go unhealthy.
        #expect(changes[1].failuresServed >= 3)
    }

    @Test func refusedAndTimedOutProbesAreFailures() throws {
        let hanging = try TestUpstream(.byTarget { _ in .neverAnswer })
        let refused = try TestUpstream(.byTarget { _ in .neverAnswer })
        refused.stopListening()
        defer {
            hanging.shutdown()
            refused.shutdown()
        }
        let upstreams = """
            {"app": {"endpoints": ["127.0.0.1:\(hanging.port)", "127.0.0.1:\(refused.port)"],
                     "health_check": {"interval_ms": 30, "timeout_ms": 20, "unhealthy_threshold": 2}}}
            """
        let config = try makeConfig(upstreams: upstreams)
        let endpoints = EndpointRegistry().states(for: config)
        let control = try ControlPlane(config: config, endpoints: endpoints)
        try control.start()
        defer { control.stop() }
        #expect(waitUntil { endpoints[0].allSatisfy { $0.health == .unhealthy } })
        // Default path is /healthz.
        #expect(hanging.hits("/healthz") >= 2)
    }

    @Test func reloadKeepsAnUnchangedCheckerAndForgetsARemovedOne() throws {
        let backend = try FlippingHealthServer()
        backend.status.value = 503
        defer { backend.server.shutdown() }
        let check = #""health_check": {"interval_ms": 30, "timeout_ms": 30, "unhealthy_threshold": 1}"#
        let withCheck = """
            {"app": {"endpoints": ["127.0.0.1:\(backend.server.port)"], \(check)}}
            """
        let registry = EndpointRegistry()
        let config = try makeConfig(upstreams: withCheck)
        let control = try ControlPlane(config: config, endpoints: registry.states(for: config))
        try control.start()
        defer { control.stop() }
        let state = registry.states(for: config)[0][0]
        #expect(waitUntil { state.health == .unhealthy })

        // Same config again: the same checker keeps running (its probe count continues) and the endpoint keeps
        // its verdict (no reset to unknown).
        let before = try #require(control.activeHealthChecks()["app"])
        let same = try makeConfig(upstreams: withCheck)
        control.reconfigure(config: same, endpoints: registry.states(for: same))
        #expect(registry.states(for: same)[0][0] === state)
        #expect(try #require(control.activeHealthChecks()["app"]) >= before)
        #expect(state.health == .unhealthy)

        // Checks removed: the checker stops, and since nobody would ever mark the endpoint healthy again, its
        // health is forgotten.
        let without = try makeConfig(upstreams: #"{"app": {"endpoints": ["127.0.0.1:\#(backend.server.port)"]}}"#)
        control.reconfigure(config: without, endpoints: registry.states(for: without))
        #expect(control.activeHealthChecks().isEmpty)
        #expect(state.health == .unknown)
    }
}
