import MeshHTTP1

/// How a client connection meets config generations: each exchange pins the generation it is routed with,
/// keep-alive connections pick up new parser limits between requests, and connections of a listener a reload
/// removed finish their request and close.
extension DownstreamConnection {
    /// Pins the listener's current binding for the exchange that was just routed with it, and returns its
    /// generation, the one every index of the exchange's route points into.
    ///
    /// Called right after routing on `listener.config.routes`; nothing in between can swap the binding except
    /// a DNS refresh, which keeps the same `CompiledConfig` (so the route's indexes stay valid in it).
    func pinGeneration() -> WorkerGeneration {
        let binding = acceptedOn.binding
        exchange.binding = binding
        if acceptedOn.removed { exchange.clientKeepAlive = false }
        return binding.generation
    }

    /// Rebuilds the request parser with the worker's limits of the current config. Only between requests:
    /// a head half parsed finishes under the limits it started with.
    func adoptWorkerLimits() {
        guard phase == .idle, client.buffer.isEmpty else { return }
        parser = RequestParser(limits: worker.limits)
        limitsVersion = worker.limitsVersion
    }

    /// A reload removed the listener that accepted this connection: close it now if it is between requests,
    /// else after the response in progress (`Connection: close` when its head is still to be written).
    func listenerRemoved() {
        switch phase {
        case .idle where client.buffer.isEmpty:
            close()
        case .idle, .readingHead:
            // The head being read is served (on the generation the removed listener was bound to), then closes.
            break
        case .proxying:
            exchange.clientKeepAlive = false
            if exchange.machine.responseStarted { exchange.closeAfter = true }
        case .http2:
            h2?.windDown()
        case .tunnel, .closing, .lingering, .closed:
            break
        }
    }
}
