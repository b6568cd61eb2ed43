import MeshEventLoop

/// What a client connection holds only while a request is in progress: the exchange and the bytes it
/// rebuilds upstream heads from. Idle keep-alive connections hold none (issue 17: an idle connection keeps
/// only what reading its next request needs); workers lend these from `ExchangeStates`.
///
/// Each part lives at a fixed address for the state's whole life, so the connection reaches it through a plain
/// pointer (addressors: no copy, no coroutine, no reference counting per field access — the hot path reads
/// and writes exchange fields a hundred times per request).
final class ExchangeState {
    let exchange = UnsafeMutablePointer<Exchange>.allocate(capacity: 1)
    /// The request id of the exchange (the client's when sane, else generated); storage reused.
    let requestID = UnsafeMutablePointer<[UInt8]>.allocate(capacity: 1)
    /// `claims_to_headers` lines of the exchange, kept so a retry sends them again.
    let claimLines = UnsafeMutablePointer<[UInt8]>.allocate(capacity: 1)
    /// What goes to the upstream next; empty (its buffers back in the pool) whenever the state is given back.
    let toUpstream = UnsafeMutablePointer<Outbound>.allocate(capacity: 1)

    init() {
        exchange.initialize(to: Exchange())
        requestID.initialize(to: [])
        requestID.pointee.reserveCapacity(128)
        claimLines.initialize(to: [])
        toUpstream.initialize(to: Outbound())
    }

    deinit {
        exchange.deinitialize(count: 1)
        exchange.deallocate()
        requestID.deinitialize(count: 1)
        requestID.deallocate()
        claimLines.deinitialize(count: 1)
        claimLines.deallocate()
        toUpstream.deinitialize(count: 1)
        toUpstream.deallocate()
    }

    /// Forgets the exchange (its route, generation and upstream references go with it), keeping storage.
    func clear() {
        // Destroyed, then built in place: an assignment built the new value aside and moved it (~110 instructions).
        exchange.deinitialize(count: 1)
        exchange.initialize(to: Exchange())
        requestID.pointee.removeAll(keepingCapacity: true)
        // Usually empty (no JWT route): `removeAll(keepingCapacity:)` costs ~80 instructions even then.
        if !claimLines.pointee.isEmpty { claimLines.pointee.removeAll(keepingCapacity: true) }
    }
}

/// A worker's free list of `ExchangeState`s. It keeps at most `retained`: enough that a worker serving that
/// many concurrent requests allocates nothing per request, few enough that thousands of connections that
/// were busy once and are idle now do not keep theirs.
struct ExchangeStates {
    static let retained = 128
    private var free: [ExchangeState] = []
    /// What idle connections read: an empty exchange, never written (writes take a state of their own).
    let idle = ExchangeState()

    init() { free.reserveCapacity(Self.retained) }

    mutating func take() -> ExchangeState { free.popLast() ?? ExchangeState() }

    mutating func give(_ state: ExchangeState) {
        guard free.count < Self.retained else { return }
        state.clear()
        free.append(state)
    }
}
