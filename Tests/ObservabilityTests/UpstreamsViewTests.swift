import Glibc
import MeshControl
import MeshGateway
import MeshJSON
import Testing

struct UpstreamsViewTests {
    @Test func shapeStatesAndConnectionCounts() throws {
        let config = testConfig()
        let states = EndpointRegistry().states(for: config.source)
        let telemetry = Telemetry(config: config, workers: 2, endpoints: states, output: open("/dev/null", O_WRONLY))
        defer { telemetry.stop() }
        states[0][0].setHealth(.healthy)
        states[0][1].setHealth(.unhealthy)
        let breaker = states[1][0].breaker
        for _ in 0..<breaker.settings.consecutiveFailures {
            if let ticket = breaker.allow(nowMs: 1000) { _ = breaker.record(ticket, success: false, nowMs: 1000) }
        }
        telemetry.worker(0).upstreamConnections(upstream: 0, endpoint: 1, activeDelta: 2, idleDelta: 0)
        telemetry.worker(1).upstreamConnections(upstream: 0, endpoint: 1, activeDelta: 1, idleDelta: 0)
        telemetry.worker(1).upstreamConnections(upstream: 0, endpoint: 1, activeDelta: -1, idleDelta: 1)

        let text = UpstreamsView.render(
            config: config.source, states: states, poolCounts: telemetry.connections, nowMs: 1001)
        let root = try JSONReader.parse(text)
        let upstreams = try #require(root["upstreams"]?.arrayValue)
        #expect(upstreams.map { $0["name"]?.stringValue } == ["profile", "graph"])
        let profile = try #require(upstreams[0]["endpoints"]?.arrayValue)
        #expect(profile.map { $0["address"]?.stringValue } == ["127.0.0.1:9102", "127.0.0.1:9103"])
        #expect(profile.map { $0["health"]?.stringValue } == ["healthy", "unhealthy"])
        #expect(profile.map { $0["breaker"]?.stringValue } == ["closed", "closed"])
        #expect(profile.map { $0["active"]?.int64Value } == [0, 2])
        #expect(profile.map { $0["idle"]?.int64Value } == [0, 1])
        let graph = try #require(upstreams[1]["endpoints"]?.arrayValue?.first)
        #expect(graph["breaker"]?.stringValue == "open")
        #expect(graph["health"]?.stringValue == "unknown")
        // After open_ms the breaker reads half-open.
        let later = try JSONReader.parse(
            UpstreamsView.render(
                config: config.source, states: states, poolCounts: nil, nowMs: 1000 + breaker.settings.openMs))
        #expect(later["upstreams"]?.arrayValue?[1]["endpoints"]?.arrayValue?[0]["breaker"]?.stringValue == "half_open")
        #expect(later["upstreams"]?.arrayValue?[0]["endpoints"]?.arrayValue?[1]["active"]?.int64Value == 0)
    }

    @Test func telemetryServesTheSameDocument() throws {
        let telemetry = Telemetry(config: testConfig(), workers: 1, output: open("/dev/null", O_WRONLY))
        defer { telemetry.stop() }
        let root = try JSONReader.parse(telemetry.upstreamsJSON())
        #expect(root["upstreams"]?.arrayValue?.count == 2)
    }
}
