import CLinux
import MeshConfig
import MeshControl
import MeshJSON
import MeshResilience

/// Builds the `GET /upstreams` document (SPEC §6):
/// `{"upstreams":[{"name","endpoints":[{"address","health","breaker","active","idle"}]}]}`.
public enum UpstreamsView {
    /// Renders upstreams in config order. `states[u][e]` and `poolCounts` use the config's indexes (as
    /// `EndpointRegistry.states(for:)` returns them); a missing state reads `unknown`/`closed`, a nil table 0/0.
    /// `nowMs` is CLOCK_MONOTONIC_COARSE milliseconds, the clock the breakers run on.
    public static func render(
        config: GatewayConfig, states: [[EndpointState]], poolCounts: ConnectionTable?,
        nowMs: Int64 = clinux_monotonic_coarse_ms()
    ) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.key("upstreams")
        w.beginArray()
        for (u, name) in config.upstreamOrder.enumerated() {
            guard let upstream = config.upstreams[name] else { continue }
            w.beginObject()
            w.key("name")
            w.string(name)
            w.key("endpoints")
            w.beginArray()
            for (e, address) in upstream.endpoints.enumerated() {
                let state = u < states.count && e < states[u].count ? states[u][e] : nil
                let counts = poolCounts?.counts(upstream: u, endpoint: e) ?? (active: 0, idle: 0)
                w.beginObject()
                w.key("address")
                w.string(address.description)
                w.key("health")
                w.string(state?.health.label ?? EndpointHealth.unknown.label)
                w.key("breaker")
                w.string(label(state?.breaker.peek(nowMs: nowMs) ?? .closed))
                w.key("active")
                w.number(counts.active)
                w.key("idle")
                w.number(counts.idle)
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.text
    }

    /// `closed|open|half_open`, the spelling of SPEC §6 and of the transitions counter's `to` label.
    public static func label(_ state: BreakerState) -> String {
        switch state {
        case .closed: "closed"
        case .open: "open"
        case .halfOpen: "half_open"
        }
    }
}
