import MeshResilience

/// The types `ExchangeMachine`'s interface speaks in: its states, its limits, and what a failed attempt's
/// connection shows and how the attempt counts (`attemptEnded`). The behaviour is in `ExchangeMachine.swift`.
extension ExchangeMachine {
    public enum State: Sendable, Equatable {
        /// The head was parsed; routing and the JWT stage run.
        case routing
        /// Parked: the token's `kid` is unknown and its provider's key refetch is awaited (SPEC §3).
        case awaitingKeys
        /// Parked: a global rate limit's reservation is on its way from the store (SPEC §11).
        case awaitingLimit
        /// Parked: a transcoded request's body is read whole before it becomes a gRPC message.
        case awaitingBody
        /// The endpoint's pool is at `max_connections`; waiting for a slot.
        case waitingForSlot
        case connecting
        /// Connected; the client is still sending the request body.
        case sending
        /// The request is complete upstream; waiting for the response head.
        case awaitingHead
        /// Waiting out a retry's back-off.
        case backingOff
        /// The response head went to the client; its body streams.
        case streaming
        /// A 101: bytes flow both ways until both sides close.
        case tunnel
        /// The gateway answers itself (an error or a fallback).
        case answering
    }

    /// The limits the exchange runs under (the worker's config when the exchange began).
    public struct Limits: Sendable, Equatable {
        public var idleTimeoutMs: Int
        public var maxBodyBytes: Int

        public init(idleTimeoutMs: Int, maxBodyBytes: Int) {
            self.idleTimeoutMs = idleTimeoutMs
            self.maxBodyBytes = maxBodyBytes
        }
    }

    /// What the upstream connection showed when an attempt failed on it.
    public struct AttemptEvidence: Sendable, Equatable {
        /// An h2 stream the upstream refused (REFUSED_STREAM, or above a GOAWAY's last-stream-id).
        public var unprocessed: Bool
        /// The connection had carried an earlier request (a pooled keep-alive connection).
        public var reused: Bool
        /// Nothing of an answer was read on it.
        public var nothingRead: Bool

        public init(unprocessed: Bool = false, reused: Bool = false, nothingRead: Bool = true) {
            self.unprocessed = unprocessed
            self.reused = reused
            self.nothingRead = nothingRead
        }
    }

    /// `attemptEnded`'s verdict: send the same attempt again uncounted, or book this failure.
    public enum AttemptEnd: Sendable, Equatable {
        case resend
        case failed(AttemptFailure)
    }
}
