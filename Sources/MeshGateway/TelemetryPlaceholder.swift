import MeshConfig
import MeshProxy
import MeshResilience

// Stand-in until the observability branch lands (same API); removed at that merge.
final class Telemetry: @unchecked Sendable {
    private let workers: [WorkerTelemetry]
    init(config: CompiledConfig, workers: Int, previous: Telemetry? = nil) {
        self.workers = (0..<workers).map { _ in WorkerTelemetry() }
    }
    func worker(_ index: Int) -> WorkerTelemetry { workers[index] }
    func configReloaded(success: Bool, generation: Int) {}
    func stop() {}
}

final class WorkerTelemetry {
    var accessLogEnabled: Bool { false }
    func requestFinished(_ r: borrowing RequestRecord) {}
    func attemptFinished(upstream: Int, endpoint: Int, outcome: AttemptOutcome, durationSeconds: Double) {}
    func retried(listener: Int, route: Int) {}
    func fallbackServed(listener: Int, route: Int, reason: FallbackOn) {}
    func jwtValidated(provider: String, result: String) {}
    func connectionOpened(listener: Int) {}
    func connectionClosed(listener: Int) {}
    func upstreamConnections(upstream: Int, activeDelta: Int, idleDelta: Int) {}
    func breakerTransition(upstream: Int, endpoint: Int, _ transition: CircuitBreaker.Transition) {}
}
