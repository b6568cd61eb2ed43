import MeshConfig
import MeshHTTP1
import MeshProxy
import MeshResilience
import Testing

/// The exchange machine driven with explicit instants and no sockets: the SPEC §3–§4 behaviours the
/// integration tests check through real connections, one event at a time.
@Suite struct ExchangeTests {
    /// The upstream as a retry sees it: endpoints, budget, and the random number behind the jitter.
    final class Upstream: RetryEnvironment {
        var endpoints = true
        var budget = 100
        var randomValue: UInt64 = 0
        var budgetTaken = 0

        func endpointAvailable(nowMs: Int64) -> Bool { endpoints }
        func takeRetryBudget() -> Bool {
            guard budget > 0 else { return false }
            budget -= 1
            budgetTaken += 1
            return true
        }
        func random() -> UInt64 { randomValue }
    }

    static let limits = ExchangeMachine.Limits(idleTimeoutMs: 60_000, maxBodyBytes: 1_000)

    /// The idle machine (built without running the general initializer) answers as a GET without a body does.
    @Test func theIdleMachineIsAGetWithoutABody() {
        let idle = ExchangeMachine()
        var get = ExchangeMachine(
            method: .get, framing: .none, limits: .init(idleTimeoutMs: 60_000, maxBodyBytes: 0))
        var copy = idle
        #expect(idle.state == get.state && idle.timerMs == get.timerMs && idle.attempts == get.attempts)
        #expect(idle.request.done && get.request.done && idle.request.total == 0 && !idle.responseStarted)
        #expect(idle.replayable == get.replayable && idle.grpc == get.grpc && idle.remainingMs(now: 5) == 0)
        // Both answer alike once answered: the idle timeout follows.
        copy.answered(now: 1_000)
        get.answered(now: 1_000)
        #expect(copy.timerMs == get.timerMs && copy.state == get.state)
    }

    /// A machine routed to the one route `json` (to upstream "app"), its head just parsed.
    func machine(
        _ json: String, method: HTTPMethod = .get, framing: BodyFraming = .none
    ) throws -> ExchangeMachine {
        let config = try routesConfig([json])
        var machine = ExchangeMachine(method: method, framing: framing, limits: Self.limits)
        machine.routed(to: config.listeners[0].routes[0])
        return machine
    }

    /// Admits with nothing buffered after the head and starts the first attempt at `now`.
    func started(_ m: inout ExchangeMachine, now: Int64) {
        #expect(m.admit(declaredLength: nil, buffered: UnsafeRawBufferPointer(start: nil, count: 0),
                        expectContinue: false, now: now) == .startAttempt(sendContinue: false))
        #expect(m.attemptRefused(now: now) == nil)
        m.attemptStarted(now: now)
        m.connected(now: now)
    }

    static let plain = #"{"match": {"path_prefix": "/"}, "upstream": "app", "timeout_ms": 1000}"#

    @Test func resetIsRetriedAtOnceWithoutBackoffAndThenForwarded() throws {
        var m = try machine(#"{"match": {"path_prefix": "/"}, "upstream": "app", "retry": {"backoff_base_ms": 0, "backoff_max_ms": 0}}"#)
        let up = Upstream()
        started(&m, now: 0)
        #expect(m.state == .awaitingHead)
        #expect(m.attemptFailed(.reset, now: 10, env: up) == .retry(now: true))
        #expect(up.budgetTaken == 1)
        #expect(m.attemptRefused(now: 10) == nil)
        m.attemptStarted(now: 10)
        m.connected(now: 10)
        #expect(m.attempts == 2)
        #expect(m.responseHead(status: 200, now: 20, env: up) == .forward)
    }

    @Test(arguments: [UInt64(0), 7, 25, 99, 1_000_003])
    func backoffStaysWithinItsBoundsAndTheDeadline(random: UInt64) throws {
        // Base 25 ms, cap 250 ms: the first retry waits 0…25 ms (full jitter), the second 0…50 ms.
        var m = try machine(Self.plain)
        let up = Upstream()
        up.randomValue = random
        started(&m, now: 1_000)
        let first = m.attemptFailed(.timeout, now: 1_100, env: up)
        if first == .retry(now: false) {
            #expect(m.state == .backingOff)
            #expect(m.timerMs > 1_100 && m.timerMs <= 1_125)
            #expect(m.timerFired(now: m.timerMs) == .startAttempt(sendContinue: false))
        } else {
            #expect(first == .retry(now: true))
            #expect(random % 26 == 0)
        }
        m.attemptStarted(now: 1_200)
        m.connected(now: 1_200)
        let second = m.attemptFailed(.timeout, now: 1_300, env: up)
        if case .retry(now: false) = second { #expect(m.timerMs <= 1_350) }
        // Two retries were allowed (the default); a third failure is final.
        m.attemptStarted(now: 1_400)
        m.connected(now: 1_400)
        #expect(m.attemptFailed(.timeout, now: 1_500, env: up) == .fail(.gatewayTimeout, close: false))
        #expect(m.attempts == 3)
    }

    @Test func backoffNeverOutlastsTheRouteDeadline() throws {
        var m = try machine(#"{"match": {"path_prefix": "/"}, "upstream": "app", "timeout_ms": 100, "retry": {"backoff_base_ms": 5000, "backoff_max_ms": 5000}}"#)
        let up = Upstream()
        up.randomValue = 4_999
        started(&m, now: 0)
        #expect(m.attemptFailed(.reset, now: 50, env: up) == .retry(now: false))
        #expect(m.timerMs == 100)
        // The deadline is reached when the back-off ends: no attempt, the route's timeout answers.
        #expect(m.timerFired(now: 100) == .startAttempt(sendContinue: false))
        #expect(m.attemptRefused(now: 100) == .fail(.gatewayTimeout, close: false))
    }

    @Test func perTryTimeoutEndsTheAttemptAndTheRetryGetsItsOwn() throws {
        var m = try machine(#"{"match": {"path_prefix": "/"}, "upstream": "app", "timeout_ms": 1000, "per_try_timeout_ms": 100, "retry": {"backoff_base_ms": 0, "backoff_max_ms": 0}}"#)
        let up = Upstream()
        started(&m, now: 0)
        #expect(m.timerMs == 100)
        #expect(m.timerFired(now: 99) == .proceed)
        #expect(m.timerFired(now: 100) == .abortAttempt(.timeout))
        #expect(m.attemptFailed(.timeout, now: 100, env: up) == .retry(now: true))
        m.attemptStarted(now: 100)
        m.connected(now: 100)
        #expect(m.timerMs == 200)
    }

    @Test func theRouteTimeoutSpansAllTries() throws {
        var m = try machine(#"{"match": {"path_prefix": "/"}, "upstream": "app", "timeout_ms": 250, "per_try_timeout_ms": 200, "retry": {"backoff_base_ms": 0, "backoff_max_ms": 0}}"#)
        let up = Upstream()
        started(&m, now: 0)
        #expect(m.timerFired(now: 200) == .abortAttempt(.timeout))
        #expect(m.attemptFailed(.timeout, now: 200, env: up) == .retry(now: true))
        m.attemptStarted(now: 200)
        m.connected(now: 200)
        // The second try's per-try deadline (400) is cut to the route's (250).
        #expect(m.timerMs == 250)
        #expect(m.timerFired(now: 250) == .abortAttempt(.timeout))
        #expect(m.attemptFailed(.timeout, now: 250, env: up) == .fail(.gatewayTimeout, close: false))
        #expect(m.remainingMs(now: 250) == 0)
    }

    static let withFallback = #"""
        {"match": {"path_prefix": "/"}, "upstream": "app",
         "fallback": {"status": 200, "body": "{}", "on": ["circuit-open", "5xx"]}}
        """#

    @Test func breakerOpenIsAnsweredByTheFallbackThatCoversIt() throws {
        var m = try machine(Self.withFallback)
        _ = m.admit(declaredLength: nil, buffered: UnsafeRawBufferPointer(start: nil, count: 0), expectContinue: false, now: 0)
        #expect(m.noEndpoint() == .fallback(.circuitOpen))
        var plain = try machine(Self.plain)
        #expect(plain.admit(declaredLength: nil, buffered: UnsafeRawBufferPointer(start: nil, count: 0), expectContinue: false, now: 0) == .startAttempt(sendContinue: false))
        #expect(plain.noEndpoint() == .fail(.unavailable, close: false))
    }

    @Test func aRetryThatFindsEveryBreakerOpenEndsWithTheLastOutcome() throws {
        var m = try machine(Self.withFallback)
        let up = Upstream()
        started(&m, now: 0)
        #expect(m.attemptFailed(.connectFailure, now: 5, env: up) == .retry(now: true))
        // The retry's pick finds nothing: the connect failure (not covered by the fallback) answers, 502.
        #expect(m.noEndpoint() == .fail(.badGateway, close: false))
    }

    @Test func fiveXXWithNothingToRetryOnIsAnsweredByTheFallback() throws {
        var m = try machine(Self.withFallback)
        let up = Upstream()
        up.endpoints = false  // nothing to retry on
        started(&m, now: 0)
        #expect(m.responseHead(status: 503, now: 10, env: up) == .fallback(.fiveXX))
        var n = try machine(Self.withFallback)
        n.attemptStarted(now: 0)
        #expect(n.responseHead(status: 404, now: 10, env: up) == .forward)
    }

    @Test func aBodyOverTheLimitIs413BeforeAnyAttempt() throws {
        var m = try machine(Self.plain, method: .post, framing: .contentLength(5_000))
        let action = m.admit(
            declaredLength: 5_000, buffered: UnsafeRawBufferPointer(start: nil, count: 0), expectContinue: true,
            now: 0)
        #expect(action == .fail(.payloadTooLarge, close: true))
        #expect(m.attempts == 0)
        // A chunked body has no declared length: the limit applies as its bytes arrive.
        var chunked = try machine(Self.plain, method: .post, framing: .chunked)
        started(&chunked, now: 0)
        let chunk = Array("3e9\r\n".utf8) + [UInt8](repeating: 0x61, count: 1_001)
        let progress = chunk.withUnsafeBytes { chunked.requestBody($0, now: 1) }
        #expect(progress == .stop(.fail(.payloadTooLarge, close: true)))
    }

    @Test func continueIsSentOnlyWhenTheClientWaitsForIt() throws {
        var m = try machine(Self.plain, method: .post, framing: .contentLength(10))
        #expect(m.admit(declaredLength: 10, buffered: UnsafeRawBufferPointer(start: nil, count: 0), expectContinue: true, now: 0)
            == .startAttempt(sendContinue: true))
        // The body (or part of it) came with the head: the client did not wait.
        var sent = try machine(Self.plain, method: .post, framing: .contentLength(10))
        let part = Array("hello".utf8)
        #expect(part.withUnsafeBytes { sent.admit(declaredLength: 10, buffered: $0, expectContinue: true, now: 0) }
            == .startAttempt(sendContinue: false))
        #expect(sent.bufferedBody == .init(consumed: 5, forward: 5, endsBody: false))
        // No body at all: nothing to continue.
        var none = try machine(Self.plain, method: .post, framing: .contentLength(0))
        #expect(none.admit(declaredLength: 0, buffered: UnsafeRawBufferPointer(start: nil, count: 0), expectContinue: true, now: 0)
            == .startAttempt(sendContinue: false))
    }

    @Test func theRouteTimeoutStartsWhenTheRequestIsComplete() throws {
        var m = try machine(Self.plain, method: .put, framing: .contentLength(4))
        started(&m, now: 0)
        #expect(m.state == .sending)
        // While the body comes, the idle timeout governs, and a stall is the client's: 408, then close.
        #expect(m.timerMs == 60_000)
        let half = Array("ab".utf8)
        #expect(half.withUnsafeBytes { m.requestBody($0, now: 500) } == .forward(.init(consumed: 2, forward: 2, endsBody: false)))
        #expect(m.timerMs == 60_500)
        let rest = Array("cd".utf8)
        _ = rest.withUnsafeBytes { m.requestBody($0, now: 700) }
        #expect(m.state == .awaitingHead)
        #expect(m.timerMs == 1_700)
        var stalled = try machine(Self.plain, method: .put, framing: .contentLength(4))
        started(&stalled, now: 0)
        #expect(stalled.timerFired(now: 60_000) == .fail(.requestTimeout, close: true))
    }

    @Test func aClientGoneMidExchangeClosesAndAHalfCloseInATunnelPassesOn() throws {
        var m = try machine(Self.plain)
        started(&m, now: 0)
        #expect(m.clientFinished() == .closeClient)
        var tunnel = try machine(Self.plain)
        started(&tunnel, now: 0)
        tunnel.responseStarted(framing: .none, switching: true, now: 5)
        #expect(tunnel.state == .tunnel)
        #expect(tunnel.clientFinished() == .proceed)
        #expect(tunnel.request.done)
        #expect(tunnel.timerFired(now: 60_005) == .closeClient)
    }

    /// SPEC §4: an upstream that closes before its head is a failed attempt; after the head, a close ends a
    /// close-delimited body (or a tunnel's upstream half) and truncates any other, which the client must see.
    @Test func anUpstreamCloseFailsTheAttemptEndsAnOpenBodyOrCutsAFramedOne() throws {
        var beforeHead = try machine(Self.plain)
        started(&beforeHead, now: 0)
        #expect(beforeHead.upstreamClosed() == .abortAttempt(.reset))

        var untilClose = try machine(Self.plain)
        started(&untilClose, now: 0)
        untilClose.responseStarted(framing: .untilClose, switching: false, now: 5)
        #expect(untilClose.upstreamClosed() == .proceed)
        #expect(untilClose.response.done)

        var framed = try machine(Self.plain)
        started(&framed, now: 0)
        framed.responseStarted(framing: .contentLength(10), switching: false, now: 5)
        #expect(framed.upstreamClosed() == .closeClient)

        var complete = try machine(Self.plain)
        started(&complete, now: 0)
        complete.responseStarted(framing: .none, switching: false, now: 5)
        #expect(complete.upstreamClosed() == .proceed)

        var tunnel = try machine(Self.plain)
        started(&tunnel, now: 0)
        tunnel.responseStarted(framing: .none, switching: true, now: 5)
        #expect(tunnel.upstreamClosed() == .proceed)

        // A transcoded reply is collected before anything is written: the client still gets an answer.
        var transcoded = try machine(Self.plain, method: .post, framing: .contentLength(0))
        transcoded.transcodedCall()
        started(&transcoded, now: 0)
        transcoded.responseStarted(framing: .chunked, switching: false, now: 5)
        #expect(transcoded.upstreamClosed() == .fail(.badGateway, close: false))
    }

    /// RFC 9112 §9.6: an upstream that stops reading the body may have answered early; its answer is read and the
    /// rest of the body dropped (the client connection is not kept after it). Once a response started, it is over.
    @Test func anUpstreamThatStopsReadingIsHeardOutUntilItsResponseStarted() throws {
        var early = try machine(Self.plain, method: .post, framing: .contentLength(500))
        started(&early, now: 0)
        #expect(early.upstreamStoppedReading() == .proceed)
        #expect(early.requestAbandoned)
        var late = try machine(Self.plain, method: .post, framing: .contentLength(500))
        started(&late, now: 0)
        late.responseStarted(framing: .contentLength(2), switching: false, now: 5)
        #expect(late.upstreamStoppedReading() == .closeClient)
    }

    /// A POST whose whole body (3 bytes) came with its head, admitted: the first attempt is to start.
    func admittedPost() throws -> ExchangeMachine {
        let body = Array("x=1".utf8)
        var m = try machine(Self.plain, method: .post, framing: .contentLength(3))
        #expect(body.withUnsafeBytes { m.admit(declaredLength: 3, buffered: $0, expectContinue: false, now: 0) }
            == .startAttempt(sendContinue: false))
        return m
    }

    @Test func aPostIsRetriedAfterAConnectFailureButNotAfterAReset() throws {
        var m = try admittedPost()
        let up = Upstream()
        m.attemptStarted(now: 0)
        m.connecting(now: 0, connectTimeoutMs: 50)
        #expect(m.timerMs == 50)
        #expect(m.timerFired(now: 50) == .abortAttempt(.connectFailure))
        let retry = m.attemptFailed(.connectFailure, now: 50, env: up)
        #expect(retry == .retry(now: true) || retry == .retry(now: false))
        m.attemptStarted(now: 80)
        m.connected(now: 80)
        // Nothing proves a POST was not processed once bytes went out: a reset is final (502).
        #expect(m.attemptFailed(.reset, now: 90, env: up) == .fail(.badGateway, close: false))
    }

    @Test func aStaleKeepAliveConnectionIsResentWithoutCountingAnAttempt() throws {
        let stale = ExchangeMachine.AttemptEvidence(reused: true, nothingRead: true)
        var m = try machine(Self.plain)
        started(&m, now: 0)
        #expect(m.attemptEnded(.reset, stale) == .resend)
        #expect(m.attempts == 0)
        m.attemptStarted(now: 1)
        #expect(m.attemptEnded(.timeout, stale) == .failed(.timeout))
        // A fresh connection, or one that had started answering, was not closed before the request.
        m.attemptStarted(now: 2)
        #expect(m.attemptEnded(.reset, .init(reused: false)) == .failed(.reset))
        #expect(m.attemptEnded(.reset, .init(reused: true, nothingRead: false)) == .failed(.reset))
        #expect(m.attempts == 2)
        var post = try machine(Self.plain, method: .post, framing: .contentLength(0))
        started(&post, now: 0)
        #expect(post.attemptEnded(.reset, stale) == .failed(.reset))
    }

    /// SPEC §10: a stream the h2 upstream refused was never processed: a connect failure, so even a POST is
    /// sent again (a plain reset after bytes went out is final for it).
    @Test func anH2StreamTheUpstreamNeverProcessedIsAConnectFailure() throws {
        var m = try admittedPost()
        let up = Upstream()
        m.attemptStarted(now: 0)
        m.connected(now: 0)
        #expect(m.attemptEnded(.reset, .init(unprocessed: true, reused: true, nothingRead: true)) == .failed(.connectFailure))
        let retry = m.attemptFailed(.connectFailure, now: 10, env: up)
        #expect(retry == .retry(now: true) || retry == .retry(now: false))
        #expect(m.attemptEnded(.timeout, .init(unprocessed: true)) == .failed(.timeout))
    }

    @Test func noRetryOnceTheBudgetIsSpentOrTheResponseStarted() throws {
        var m = try machine(Self.plain)
        let up = Upstream()
        up.budget = 0
        started(&m, now: 0)
        #expect(m.attemptFailed(.reset, now: 5, env: up) == .fail(.badGateway, close: false))
        var streaming = try machine(Self.plain)
        started(&streaming, now: 0)
        streaming.responseStarted(framing: .contentLength(10), switching: false, now: 5)
        #expect(streaming.state == .streaming)
        #expect(streaming.timerFired(now: 1_000) == .closeClient)
    }

    @Test func awaitingKeysTimesOutWithinTheRouteTimeout() throws {
        var m = try machine(Self.plain)
        m.awaitKeys(now: 100)
        #expect(m.state == .awaitingKeys)
        #expect(m.timerFired(now: 1_099) == .proceed)
        #expect(m.timerFired(now: 1_100) == .keysTimedOut)
        // Keys that arrive in time: the wait used part of the route timeout.
        var n = try machine(Self.plain)
        n.awaitKeys(now: 100)
        n.keysArrived()
        _ = n.admit(declaredLength: nil, buffered: UnsafeRawBufferPointer(start: nil, count: 0), expectContinue: false, now: 600)
        #expect(n.deadlineMs == 1_100)
    }

    @Test func aGlobalLimitWaitIsBoundedAndResumesRouting() throws {
        var m = try machine(Self.plain)
        m.awaitLimit(now: 100, storeTimeoutMs: 1_050)
        #expect(m.state == .awaitingLimit)
        #expect(m.timerFired(now: 1_149) == .proceed)
        #expect(m.timerFired(now: 1_150) == .limitTimedOut)
        m.limitArrived()
        #expect(m.state == .routing)
        #expect(m.admit(declaredLength: nil, buffered: UnsafeRawBufferPointer(start: nil, count: 0), expectContinue: false, now: 1_200)
            == .startAttempt(sendContinue: false))
    }

    @Test func aFullPoolAnswers503WhenTheWaitEnds() throws {
        var m = try machine(Self.plain)
        started(&m, now: 0)
        m.poolFull()
        #expect(m.timerFired(now: 1_000) == .fail(.unavailable, close: false))
    }
}
