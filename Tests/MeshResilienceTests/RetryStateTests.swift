import MeshTestSupport
import Testing

@testable import MeshResilience

/// SPEC §3's retry decision with explicit instants: which failures try again, when, and what stops them.
struct RetryStateTests {
    static let policy = RetryPolicy.default  // 2 retries; connect-failure, reset, timeout, gateway-error; 25…250 ms

    static func state(
        attempts: Int = 1, idempotent: Bool = true, replayable: Bool = true, responseStarted: Bool = false,
        deadlineMs: Int64 = 10_000
    ) -> RetryState {
        RetryState(
            attempts: attempts, idempotent: idempotent, replayable: replayable, responseStarted: responseStarted,
            deadlineMs: deadlineMs)
    }

    func decide(
        _ state: RetryState, _ failure: AttemptFailure, policy: RetryPolicy = policy, now: Int64 = 1_000,
        budget: Bool = true, endpoint: Bool = true, random: UInt64 = 0x1234_5678_9abc_def0
    ) -> RetryState.Decision {
        state.decide(
            after: failure, policy: policy, nowMs: now, budgetAvailable: budget, endpointAvailable: endpoint,
            random: random)
    }

    @Test(arguments: [AttemptFailure.connectFailure, .reset, .timeout, .status(502), .status(503), .status(504)])
    func aGETIsRetriedAfterEachDefaultCondition(_ failure: AttemptFailure) {
        guard case .retry(let at) = decide(Self.state(), failure) else {
            Issue.record("\(failure) was not retried")
            return
        }
        #expect(at >= 1_000 && at <= 1_000 + 25)  // first retry: full jitter within the base
    }

    @Test func statusesOutsideThePolicyAreAnswered() {
        #expect(decide(Self.state(), .status(500)) == .giveUp)
        let custom = RetryPolicy(retries: 1, on: [], statuses: [429])
        #expect(decide(Self.state(), .status(429), policy: custom) != .giveUp)
        #expect(decide(Self.state(), .status(500), policy: custom) == .giveUp)
    }

    @Test func aPOSTIsRetriedOnlyWhenNothingWasSent() {
        let post = Self.state(idempotent: false)
        #expect(decide(post, .connectFailure) != .giveUp)
        #expect(decide(post, .reset) == .giveUp)
        #expect(decide(post, .timeout) == .giveUp)
        #expect(decide(post, .status(503)) == .giveUp)
    }

    @Test func aBodyThatWasNotKeptIsNotSentAgain() {
        let big = Self.state(replayable: false)
        #expect(decide(big, .reset) == .giveUp)
        #expect(decide(big, .connectFailure) != .giveUp)  // nothing of it left the gateway
    }

    @Test func nothingIsRetriedOnceTheClientHasResponseBytes() {
        #expect(decide(Self.state(responseStarted: true), .connectFailure) == .giveUp)
    }

    @Test func attemptsStopAtOnePlusRetries() {
        #expect(decide(Self.state(attempts: 2), .reset) != .giveUp)
        #expect(decide(Self.state(attempts: 3), .reset) == .giveUp)
        #expect(decide(Self.state(attempts: 1), .reset, policy: .disabled) == .giveUp)
    }

    @Test func theRouteDeadlineEndsRetriesAndBoundsTheBackoff() {
        #expect(decide(Self.state(deadlineMs: 1_000), .reset, now: 1_000) == .giveUp)
        #expect(decide(Self.state(deadlineMs: 1_000), .reset, now: 1_001) == .giveUp)
        // A back-off that would end after the deadline is cut at the deadline (the next attempt then times out).
        let late = RetryPolicy(retries: 2, on: [.reset], backoffBaseMs: 10_000, backoffMaxMs: 10_000)
        for random in [UInt64.max, 1 << 63, 12_345] {
            guard case .retry(let at) = decide(Self.state(deadlineMs: 1_005), .reset, policy: late, random: random)
            else {
                Issue.record("not retried")
                return
            }
            #expect(at <= 1_005)
        }
    }

    @Test func backoffGrowsWithinItsCapAcrossTries() {
        let policy = RetryPolicy(retries: 5, on: [.reset], backoffBaseMs: 25, backoffMaxMs: 70)
        var random = SplitMix64(state: 7)
        for attempts in 1...5 {
            let ceiling = min(70, 25 << (attempts - 1))
            for _ in 0..<200 {
                guard
                    case .retry(let at) = decide(
                        Self.state(attempts: attempts), .reset, policy: policy, random: random.next())
                else {
                    Issue.record("attempt \(attempts) not retried")
                    return
                }
                #expect(at - 1_000 >= 0 && at - 1_000 <= Int64(ceiling), "attempt \(attempts): \(at - 1_000) ms")
            }
        }
    }

    @Test func anEmptyBudgetOrNoEligibleEndpointAnswersAtOnce() {
        #expect(decide(Self.state(), .reset, budget: false) == .giveUp)
        #expect(decide(Self.state(), .connectFailure, endpoint: false) == .giveUp)
    }

    @Test func aZeroBackoffRetriesNow() {
        let now = RetryPolicy(retries: 1, on: [.reset], backoffBaseMs: 0, backoffMaxMs: 0)
        #expect(decide(Self.state(), .reset, policy: now) == .retry(atMs: 1_000))
    }
}

