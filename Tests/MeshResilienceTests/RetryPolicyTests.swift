import Testing

@testable import MeshResilience

@Suite struct RetryPolicyTests {
    static let failures: [AttemptFailure] = [
        .connectFailure, .reset, .timeout, .status(500), .status(502), .status(503), .status(504), .status(429),
        .status(404),
    ]

    /// Explicit rows of the SPEC §3 table for the default policy:
    /// (failure, idempotent, bodyBuffered, bytesSent, expected).
    static let rows: [(AttemptFailure, Bool, Bool, Bool, Bool)] = [
        (.connectFailure, false, false, false, true),  // POST, streamed body: nothing was sent
        (.connectFailure, true, true, true, false),  // bytes already went to the client
        (.reset, true, true, false, true),
        (.reset, false, true, false, false),  // POST is not retried after a reset
        (.reset, true, false, false, false),  // body over 64 KiB was not kept
        (.timeout, true, true, false, true),
        (.timeout, true, true, true, false),
        (.status(503), true, true, false, true),
        (.status(503), false, true, false, false),
        (.status(500), true, true, false, false),  // 500 is not a gateway-error
        (.status(404), true, true, false, false),
    ]

    @Test(arguments: rows)
    func defaultPolicyTable(row: (AttemptFailure, Bool, Bool, Bool, Bool)) {
        let (failure, idempotent, buffered, sent, expected) = row
        let decision = RetryPolicy.default.wouldRetry(
            failure: failure, method: idempotent, bodyBuffered: buffered, responseBytesSentToClient: sent,
            attemptsSoFar: 1)
        #expect(decision == expected)
    }

    @Test(arguments: failures)
    func fullDecisionTable(failure: AttemptFailure) {
        let policy = RetryPolicy(retries: 2, on: [.connectFailure, .reset, .timeout, .serverError], statuses: [429])
        for idempotent in [false, true] {
            for buffered in [false, true] {
                for sent in [false, true] {
                    let covered: Bool
                    switch failure {
                    case .status(let code): covered = code >= 500 || code == 429
                    default: covered = true
                    }
                    let safe = failure == .connectFailure || (idempotent && buffered)
                    let decision = policy.wouldRetry(
                        failure: failure, method: idempotent, bodyBuffered: buffered, responseBytesSentToClient: sent,
                        attemptsSoFar: 1)
                    #expect(decision == (covered && !sent && safe), "\(failure) \(idempotent) \(buffered) \(sent)")
                }
            }
        }
    }

    @Test func attemptsAreBoundedByRetries() {
        let policy = RetryPolicy.default
        let decisions = (0...4).map {
            policy.wouldRetry(
                failure: .reset, method: true, bodyBuffered: true, responseBytesSentToClient: false, attemptsSoFar: $0)
        }
        // 3 attempts in total: retries after the first and second, none after the third.
        #expect(decisions == [false, true, true, false, false])
        #expect(
            !RetryPolicy.disabled.wouldRetry(
                failure: .connectFailure, method: true, bodyBuffered: true, responseBytesSentToClient: false,
                attemptsSoFar: 1))
    }

    @Test func onConditionsSelectFailures() {
        let onlyGateway = RetryPolicy(retries: 1, on: [.gatewayError])
        #expect(onlyGateway.covers(.status(502)) && onlyGateway.covers(.status(504)))
        #expect(!onlyGateway.covers(.status(501)) && !onlyGateway.covers(.status(505)))
        #expect(!onlyGateway.covers(.connectFailure) && !onlyGateway.covers(.timeout))
        let statusesOnly = RetryPolicy(retries: 1, on: [], statuses: [409])
        #expect(statusesOnly.covers(.status(409)) && !statusesOnly.covers(.status(503)))
        let all5xx = RetryPolicy(retries: 1, on: [.serverError])
        #expect((500...599).allSatisfy { all5xx.covers(.status($0)) } && !all5xx.covers(.status(499)))
    }

    @Test func configNamesParse() {
        #expect(RetryPolicy.Conditions(configName: "connect-failure") == .connectFailure)
        #expect(RetryPolicy.Conditions(configName: "reset") == .reset)
        #expect(RetryPolicy.Conditions(configName: "timeout") == .timeout)
        #expect(RetryPolicy.Conditions(configName: "gateway-error") == .gatewayError)
        #expect(RetryPolicy.Conditions(configName: "5xx") == .serverError)
        #expect(RetryPolicy.Conditions(configName: "retriable-4xx") == nil)
    }

    @Test func backoffUsesThePolicyBounds() {
        let policy = RetryPolicy(retries: 3, on: [.reset], backoffBaseMs: 10, backoffMaxMs: 30)
        #expect(policy.backoffMs(retry: 0, random: 10) == 10)
        #expect(policy.backoffMs(retry: 1, random: 20) == 20)
        #expect(policy.backoffMs(retry: 5, random: 30) == 30)
        #expect(policy.backoffMs(retry: 5, random: 31) == 0)
    }
}

@Suite struct AttemptOutcomeTests {
    @Test func labelsAreTheSpecOnes() {
        #expect(
            AttemptOutcome.allCases.map(\.label) == [
                "success", "connect_failure", "reset", "timeout", "http_5xx", "grpc_unavailable",
            ])
    }

    @Test(arguments: [
        (AttemptFailure.connectFailure, AttemptOutcome.connectFailure), (.reset, .reset), (.timeout, .timeout),
        (.status(500), .http5xx), (.status(599), .http5xx), (.status(404), .success), (.status(200), .success),
        (.status(600), .success), (.grpcStatus(14), .grpcUnavailable), (.grpcStatus(8), .success),
        (.grpcStatus(1), .success), (.grpcStatus(13), .success),
    ])
    func classification(failure: AttemptFailure, outcome: AttemptOutcome) {
        #expect(AttemptOutcome(failure) == outcome)
        #expect(outcome.countsAsBreakerFailure == (outcome != .success))
    }
}

/// SPEC §10's gRPC retry conditions: each `grpc-*` value matches exactly its code, a buffered call is retried
/// whatever its method (a gRPC call is a POST), an unbuffered one never, and HTTP statuses never stand in.
@Suite struct GRPCRetryTests {
    static let conditions: [(RetryPolicy.Conditions, Int)] = [
        (.grpcUnavailable, 14), (.grpcResourceExhausted, 8), (.grpcCancelled, 1),
    ]

    @Test func eachConditionCoversExactlyItsCode() {
        for (condition, code) in Self.conditions {
            let policy = RetryPolicy(retries: 2, on: condition)
            for other in 0...16 {
                #expect(policy.covers(.grpcStatus(other)) == (other == code), "\(condition) vs \(other)")
            }
            #expect(!policy.covers(.status(503)) && !policy.covers(.status(500)))
        }
        let http = RetryPolicy(retries: 2, on: [.gatewayError, .serverError], statuses: [14, 8])
        #expect((0...16).allSatisfy { !http.covers(.grpcStatus($0)) }, "HTTP conditions never match a gRPC status")
    }

    @Test(arguments: [false, true])
    func aBufferedCallIsRetriedWhateverItsMethod(idempotent: Bool) {
        let policy = RetryPolicy(retries: 2, on: [.grpcUnavailable])
        let retry = { (buffered: Bool, sent: Bool, attempts: Int) in
            policy.wouldRetry(
                failure: .grpcStatus(14), method: idempotent, bodyBuffered: buffered, responseBytesSentToClient: sent,
                attemptsSoFar: attempts)
        }
        #expect(retry(true, false, 1) && retry(true, false, 2))
        #expect(!retry(true, false, 3), "retries used up")
        #expect(!retry(false, false, 1), "a call over 64 KiB or still streaming is not kept")
        #expect(!retry(true, true, 1), "nothing is taken back from the client")
    }

    @Test func configNamesParse() {
        #expect(RetryPolicy.Conditions(configName: "grpc-unavailable") == .grpcUnavailable)
        #expect(RetryPolicy.Conditions(configName: "grpc-resource-exhausted") == .grpcResourceExhausted)
        #expect(RetryPolicy.Conditions(configName: "grpc-cancelled") == .grpcCancelled)
        #expect(RetryPolicy.Conditions(configName: "grpc-internal") == nil)
    }
}
