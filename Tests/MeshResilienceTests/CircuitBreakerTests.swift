import Testing

@testable import MeshResilience

@Suite struct CircuitBreakerTests {
    let settings = CircuitBreakerSettings(consecutiveFailures: 3, openMs: 1_000, halfOpenRequests: 2)

    /// Opens a breaker at `nowMs` by recording `consecutiveFailures` failures.
    func opened(at nowMs: Int64) -> CircuitBreaker {
        var breaker = CircuitBreaker(settings: settings)
        for _ in 0..<settings.consecutiveFailures {
            let ticket = breaker.allow(nowMs: nowMs)!
            _ = breaker.record(ticket, success: false, nowMs: nowMs)
        }
        return breaker
    }

    @Test func closedOpensAfterConsecutiveFailures() {
        var breaker = CircuitBreaker(settings: settings)
        for i in 0..<2 {
            let ticket = breaker.allow(nowMs: Int64(i))!
            #expect(breaker.record(ticket, success: false, nowMs: Int64(i)) == nil)
            #expect(breaker.state(nowMs: Int64(i)) == .closed)
        }
        let ticket = breaker.allow(nowMs: 5)!
        #expect(breaker.record(ticket, success: false, nowMs: 5) == .init(from: .closed, to: .open))
        #expect(breaker.state(nowMs: 5) == .open)
        #expect(breaker.allow(nowMs: 5) == nil)
    }

    /// Regression (ReloadChurnTests, TSan phase): a balancer picked a half-open endpoint whose probes were taken
    /// by other requests, `admit` refused it, and the request got 503 although the other endpoint was healthy.
    /// `wouldAdmit` says in advance what `admit` will say, and changes nothing.
    @Test func wouldAdmitAgreesWithAdmitWithoutChangingState() {
        var breaker = CircuitBreaker(settings: settings)
        #expect(breaker.wouldAdmit(nowMs: 0))
        breaker = opened(at: 0)
        #expect(!breaker.wouldAdmit(nowMs: 999))
        #expect(breaker.wouldAdmit(nowMs: 1_000))  // past openMs: the first probe would be admitted
        #expect(breaker.peek(nowMs: 1_000) == .halfOpen)
        let first = breaker.allow(nowMs: 1_000)
        #expect(first != nil && breaker.wouldAdmit(nowMs: 1_000))  // a second probe slot is free
        let second = breaker.allow(nowMs: 1_000)
        #expect(second != nil)
        #expect(!breaker.wouldAdmit(nowMs: 1_000))  // both probes taken
        #expect(breaker.allow(nowMs: 1_000) == nil)
        breaker.abandon(second!)
        #expect(breaker.wouldAdmit(nowMs: 1_000))
        #expect(breaker.allow(nowMs: 1_000) != nil)
    }

    @Test func successResetsTheFailureCount() {
        var breaker = CircuitBreaker(settings: settings)
        for success in [false, false, true, false, false] {
            let ticket = breaker.allow(nowMs: 0)!
            #expect(breaker.record(ticket, success: success, nowMs: 0) == nil)
        }
        #expect(breaker.state(nowMs: 0) == .closed)
        #expect(breaker.consecutiveFailures == 2)
    }

    @Test func openRejectsUntilOpenMsThenHalfOpensLazily() {
        var breaker = opened(at: 100)
        #expect(breaker.allow(nowMs: 100) == nil)
        #expect(breaker.allow(nowMs: 1_099) == nil)
        #expect(breaker.storedState == .open)
        let admission = breaker.admit(nowMs: 1_100)
        #expect(admission.transition == .init(from: .open, to: .halfOpen))
        #expect(admission.ticket?.isProbe == true)
        #expect(breaker.storedState == .halfOpen)
    }

    @Test func stateQueryAlsoHalfOpens() {
        var breaker = opened(at: 0)
        #expect(breaker.state(nowMs: 999) == .open)
        #expect(breaker.state(nowMs: 1_000) == .halfOpen)
        #expect(breaker.refresh(nowMs: 2_000) == nil)
    }

    @Test func halfOpenAdmitsAtMostHalfOpenRequestsProbes() {
        var breaker = opened(at: 0)
        let first = breaker.allow(nowMs: 1_000)
        let second = breaker.allow(nowMs: 1_000)
        #expect(first != nil && second != nil)
        #expect(breaker.allow(nowMs: 1_001) == nil)
        #expect(breaker.probesInFlight == 2)
        // An abandoned probe frees its slot.
        breaker.abandon(first!)
        #expect(breaker.allow(nowMs: 1_002) != nil)
        #expect(breaker.allow(nowMs: 1_002) == nil)
    }

    @Test func halfOpenSuccessCloses() {
        var breaker = opened(at: 0)
        let probe = breaker.allow(nowMs: 1_000)!
        #expect(breaker.record(probe, success: true, nowMs: 1_010) == .init(from: .halfOpen, to: .closed))
        #expect(breaker.state(nowMs: 1_010) == .closed)
        #expect(breaker.allow(nowMs: 1_010)?.isProbe == false)
    }

    @Test func halfOpenFailureReopensForAnotherOpenPeriod() {
        var breaker = opened(at: 0)
        let probe = breaker.allow(nowMs: 1_500)!
        #expect(breaker.record(probe, success: false, nowMs: 1_600) == .init(from: .halfOpen, to: .open))
        #expect(breaker.state(nowMs: 2_599) == .open)
        #expect(breaker.state(nowMs: 2_600) == .halfOpen)
    }

    @Test func lateResultFromAnOldGenerationIsIgnored() {
        var breaker = CircuitBreaker(settings: settings)
        let slow = breaker.allow(nowMs: 0)!
        breaker = {
            var b = breaker
            for _ in 0..<3 { _ = b.record(b.allow(nowMs: 0)!, success: false, nowMs: 0) }
            return b
        }()
        #expect(breaker.storedState == .open)
        // The slow request admitted while closed answers after the breaker half-opened: ignored.
        let probe = breaker.allow(nowMs: 1_000)!
        #expect(breaker.record(slow, success: true, nowMs: 1_001) == nil)
        #expect(breaker.storedState == .halfOpen)
        #expect(breaker.probesInFlight == 1)
        // A second probe's late failure after the first probe closed the breaker is ignored too.
        let probe2 = breaker.allow(nowMs: 1_002)!
        #expect(breaker.record(probe, success: true, nowMs: 1_003) == .init(from: .halfOpen, to: .closed))
        #expect(breaker.record(probe2, success: false, nowMs: 1_004) == nil)
        #expect(breaker.consecutiveFailures == 0)
        #expect(breaker.storedState == .closed)
    }

    @Test func generationBumpsOnEveryTransition() {
        var breaker = opened(at: 0)
        #expect(breaker.generation == 1)
        _ = breaker.state(nowMs: 1_000)
        #expect(breaker.generation == 2)
        _ = breaker.record(breaker.allow(nowMs: 1_000)!, success: true, nowMs: 1_000)
        #expect(breaker.generation == 3)
    }

    @Test func hugeOpenMsDoesNotWrap() {
        var breaker = CircuitBreaker(settings: .init(consecutiveFailures: 1, openMs: .max, halfOpenRequests: 1))
        _ = breaker.record(breaker.allow(nowMs: 10)!, success: false, nowMs: 10)
        #expect(breaker.state(nowMs: .max - 1) == .open)
    }

    @Test func settingsAreNormalised() {
        let s = CircuitBreakerSettings(consecutiveFailures: 0, openMs: -5, halfOpenRequests: 0)
        #expect(s == CircuitBreakerSettings(consecutiveFailures: 1, openMs: 0, halfOpenRequests: 1))
        #expect(CircuitBreakerSettings() == .init(consecutiveFailures: 5, openMs: 30_000, halfOpenRequests: 1))
    }

    @Test(arguments: [(BreakerState.closed, 0, "closed"), (.open, 1, "open"), (.halfOpen, 2, "half_open")])
    func metricValuesAndLabels(state: BreakerState, value: Int, label: String) {
        #expect(state.metricValue == value)
        #expect(state.label == label)
    }

    @Test func sharedBreakerMirrorsTheStruct() {
        let shared = SharedCircuitBreaker(settings: .init(consecutiveFailures: 2, openMs: 50, halfOpenRequests: 1))
        let a = shared.allow(nowMs: 0)!
        let b = shared.allow(nowMs: 0)!
        #expect(shared.record(a, success: false, nowMs: 1) == nil)
        #expect(shared.record(b, success: false, nowMs: 2) == .init(from: .closed, to: .open))
        #expect(shared.allow(nowMs: 51) == nil)
        #expect(shared.refresh(nowMs: 52) == .init(from: .open, to: .halfOpen))
        let probe = shared.admit(nowMs: 52)
        #expect(probe.ticket != nil && probe.transition == nil)
        #expect(shared.allow(nowMs: 52) == nil)
        #expect(shared.record(probe.ticket!, success: true, nowMs: 53) == .init(from: .halfOpen, to: .closed))
        #expect(shared.state(nowMs: 53) == .closed)
    }
}
