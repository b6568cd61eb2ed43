import Glibc

/// Talks to a gateway's admin listener (SPEC §6) on 127.0.0.1: one fresh connection per call, every read
/// bounded by the socket timeout.
public struct AdminClient: Sendable {
    /// The admin listener's port.
    public let port: UInt16

    /// A client for the admin listener on 127.0.0.1:`port`.
    public init(port: UInt16) { self.port = port }

    /// `GET path`; throws when the listener does not answer.
    public func get(_ path: String) throws -> HTTPResponse {
        try RawClient(port: port).request(
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n")
    }

    /// `POST path` with an empty body.
    public func post(_ path: String) throws -> HTTPResponse {
        try RawClient(port: port).request(
            "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }

    /// The status of `GET /readyz`, or nil when the admin listener cannot be reached.
    public func readyStatus() -> Int? { (try? get("/readyz"))?.status }

    /// The sum of every sample of `metric` whose labels include `labels`, from `GET /metrics`; nil when absent.
    public func metric(_ metric: String, _ labels: [String: String] = [:]) throws -> Double? {
        PrometheusText.value(of: metric, labels: labels, in: try get("/metrics").bodyText)
    }
}

/// Bounded polling for tests: no bare sleeps waiting for readiness, and never an unbounded wait.
public enum Poll {
    /// Evaluates `condition` every `intervalMs` until it is true (returns true) or `timeoutMs` has passed
    /// (returns false). Errors thrown by `condition` count as "not yet".
    @discardableResult
    public static func until(timeoutMs: Int, intervalMs: Int = 10, _ condition: () throws -> Bool) -> Bool {
        let deadline = TestSocket.nowMs() + timeoutMs
        while true {
            if (try? condition()) == true { return true }
            if TestSocket.nowMs() > deadline { return false }
            usleep(UInt32(intervalMs * 1000))
        }
    }
}
