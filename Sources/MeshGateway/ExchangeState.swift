import MeshEventLoop

/// What a client connection holds only while a request is in progress: the exchange and the bytes it
/// rebuilds upstream heads from. Idle keep-alive connections hold none (issue 17: an idle connection keeps
/// only what reading its next request needs); workers lend these from `ExchangeStates`.
final class ExchangeState {
    var exchange = Exchange()
    /// The request id of the exchange (the client's when sane, else generated); storage reused.
    var requestID: [UInt8] = []
    /// `claims_to_headers` lines of the exchange, kept so a retry sends them again.
    var claimLines: [UInt8] = []
    /// What goes to the upstream next; empty (its buffers back in the pool) whenever the state is given back.
    var toUpstream = Outbound()

    init() { requestID.reserveCapacity(128) }

    /// Forgets the exchange (its route, generation and upstream references go with it), keeping storage.
    func clear() {
        exchange = Exchange()
        requestID.removeAll(keepingCapacity: true)
        claimLines.removeAll(keepingCapacity: true)
    }
}

/// A worker's free list of `ExchangeState`s. It keeps at most `retained`: enough that a worker serving that
/// many concurrent requests allocates nothing per request, few enough that thousands of connections that
/// were busy once and are idle now do not keep theirs.
struct ExchangeStates {
    static let retained = 128
    private var free: [ExchangeState] = []

    init() { free.reserveCapacity(Self.retained) }

    mutating func take() -> ExchangeState { free.popLast() ?? ExchangeState() }

    mutating func give(_ state: ExchangeState) {
        guard free.count < Self.retained else { return }
        state.clear()
        free.append(state)
    }
}
