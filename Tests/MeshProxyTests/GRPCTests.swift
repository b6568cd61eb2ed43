import MeshConfig
import MeshHTTP1
import MeshProxy
import MeshResilience
import Testing

/// SPEC §10's gRPC rules as the gateway applies them, without sockets: which requests are calls, the
/// `grpc-timeout` grammar, statuses from heads and trailer sections, the gateway's errors as Trailers-Only
/// answers, and the exchange machine's deadline, retry and fallback decisions for a call.
@Suite struct GRPCTests {
    static func bytes<R>(_ text: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        Array(text.utf8).withUnsafeBytes(body)
    }

    @Test(arguments: [
        ("application/grpc", true), ("application/grpc+proto", true), ("Application/GRPC+json", true),
        ("application/grpc; charset=utf-8", true), ("application/grpc-web", false), ("application/grpc-web+proto", false),
        ("application/json", false), ("application/grpcx", false), ("", false), ("application/grp", false),
    ])
    func callsAreRecognizedByContentType(value: String, isCall: Bool) {
        #expect(Self.bytes(value) { GRPC.isCall(contentType: $0) } == isCall)
    }

    @Test(arguments: [
        ("1H", 3_600_000), ("2M", 120_000), ("3S", 3000), ("250m", 250), ("1500u", 2), ("1u", 1), ("1n", 1),
        ("0m", 0), ("99999999S", 99_999_999_000), ("1000000n", 1),
    ] as [(String, Int)])
    func timeoutsParseToMilliseconds(value: String, ms: Int) {
        #expect(Self.bytes(value) { GRPC.timeoutMs($0) } == ms)
    }

    /// Unparsable values are ignored (SPEC §10): no unit, nine digits, signs, spaces, unknown units, empty.
    @Test(arguments: ["", "m", "10", "123456789m", "-1S", "+1S", " 1S", "1 S", "1s", "1h", "1.5S", "1Sx"])
    func malformedTimeoutsDoNotParse(value: String) {
        #expect(Self.bytes(value) { GRPC.timeoutMs($0) } == nil)
    }

    @Test(arguments: [(0, "0m"), (1500, "1500m"), (99_999_999, "99999999m"), (100_000_000, "100000S"), (-5, "0m")])
    func timeoutsAreWrittenInAtMostEightDigits(ms: Int, text: String) {
        var out = [UInt8](repeating: 0, count: 32)
        let count = out.withUnsafeMutableBytes { o in
            var w = HeadWriter(o)
            GRPC.writeTimeout(ms, into: &w)
            return w.count
        }
        #expect(String(decoding: out[0..<count], as: UTF8.self) == text)
    }

    @Test func statusesAreReadFromTrailerSections() {
        #expect(GRPC.status(inTrailerSection: Array("grpc-status: 14\r\ngrpc-message: x\r\n\r\n".utf8)) == 14)
        #expect(GRPC.status(inTrailerSection: Array("grpc-message: x\r\nGrpc-Status:0 \r\n\r\n".utf8)) == 0)
        #expect(GRPC.status(inTrailerSection: Array("x-grpc-status: 3\r\n\r\n".utf8)) == nil)
        #expect(GRPC.status(inTrailerSection: Array("grpc-status: abc\r\n\r\n".utf8)) == nil)
        #expect(GRPC.status(inTrailerSection: Array("\r\n".utf8)) == nil)
        #expect(GRPC.status(inTrailerSection: []) == nil)
    }

    /// SPEC §10's table, and the Trailers-Only head: 200, gRPC content type, status, message = the error code,
    /// no body.
    @Test func gatewayErrorsBecomeTrailersOnlyAnswers() throws {
        let table: [(GatewayError, Int)] = [
            (.unauthorized, 16), (.forbidden, 7), (.noRoute, 12), (.rateLimited, 8), (.badGateway, 14),
            (.unavailable, 14), (.gatewayTimeout, 4), (.badRequest, 3), (.payloadTooLarge, 3), (.uriTooLong, 3),
            (.headersTooLarge, 3), (.grpcNeedsH2Upstream, 13), (.requestTimeout, 2), (.httpsRequired, 2),
        ]
        for (error, code) in table {
            #expect(error.grpcStatus == code, "\(error)")
            var out = [UInt8](repeating: 0, count: 512)
            let count = out.withUnsafeMutableBytes { o in
                var w = HeadWriter(o)
                error.writeGRPCResponse(into: &w, requestID: "r1", persistence: .keepAlive)
                return w.count
            }
            let text = String(decoding: out[0..<count], as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n") && text.hasSuffix("\r\n\r\n"), "\(text)")
            #expect(text.contains("\r\ncontent-type: application/grpc\r\n"))
            #expect(text.contains("\r\ngrpc-status: \(code)\r\ngrpc-message: \(error.code)\r\n"))
            #expect(text.contains("\r\ncontent-length: 0\r\n") && text.contains("\r\nx-request-id: r1\r\n"))
        }
    }

    /// A chunked body's trailer section is kept whole wherever the reads split it, plain and de-chunked.
    @Test(arguments: [false, true])
    func trailerSectionsSurviveEverySplit(dechunk: Bool) {
        let body = Array("5\r\nhello\r\n3\r\n!!!\r\n0\r\ngrpc-status: 0\r\ngrpc-message: fine\r\n\r\n".utf8)
        let trailers = Array("grpc-status: 0\r\ngrpc-message: fine\r\n\r\n".utf8)
        for split in 0...body.count {
            var cursor = BodyCursor()
            cursor.begin(.chunked)
            cursor.trailers = []
            var data: [UInt8] = []
            var consumedTotal = 0
            for piece in [Array(body[..<split]), Array(body[split...])] {
                var piece = piece
                let (consumed, count): (Int, Int) = piece.withUnsafeMutableBytes { raw in
                    let result: Result<(Int, Int), HTTPParseError> =
                        dechunk ? cursor.takeDechunked(raw) : cursor.take(UnsafeRawBufferPointer(raw)).map { ($0, $0) }
                    guard case .success(let step) = result else { return (-1, 0) }
                    return step
                }
                #expect(consumed == piece.count, "split \(split)")
                data += piece[0..<count]
                consumedTotal += consumed
            }
            #expect(cursor.done && consumedTotal == body.count, "split \(split)")
            #expect(cursor.trailers == trailers, "split \(split): \(String(decoding: cursor.trailers ?? [], as: UTF8.self))")
            #expect(data == (dechunk ? Array("hello!!!".utf8) : body), "split \(split)")
        }
    }

    // MARK: - The exchange machine

    static func call(_ route: String, method: HTTPMethod = .post, framing: BodyFraming = .none, timeoutMs: Int?)
        throws -> ExchangeMachine
    {
        var m = try ExchangeTests().machine(route, method: method, framing: framing)
        m.grpcCall(timeoutMs: timeoutMs, now: 0)
        return m
    }

    @Test func theDeadlineIsTheEarlierOfTheRouteAndTheCall() throws {
        let route = #"{"match": {"path_prefix": "/"}, "upstream": "app", "timeout_ms": 1000}"#
        var short = try Self.call(route, timeoutMs: 300)
        #expect(short.remainingMs(now: 100) == 200, "before admission the call's own deadline already counts")
        ExchangeTests().started(&short, now: 0)
        #expect(short.timerMs == 300 && short.remainingMs(now: 100) == 200)
        #expect(short.timerFired(now: 300) == .abortAttempt(.timeout))
        var long = try Self.call(route, timeoutMs: 5000)
        ExchangeTests().started(&long, now: 0)
        #expect(long.timerMs == 1000 && long.remainingMs(now: 100) == 900)
        var none = try Self.call(route, timeoutMs: nil)
        ExchangeTests().started(&none, now: 0)
        #expect(none.timerMs == 1000)
    }

    /// A client-streaming call whose deadline passes while it still sends: DEADLINE_EXCEEDED, not a 408.
    @Test func theCallsDeadlineBoundsAStreamingRequest() throws {
        let route = #"{"match": {"path_prefix": "/"}, "upstream": "app", "timeout_ms": 10000}"#
        var m = try Self.call(route, framing: .chunked, timeoutMs: 300)
        ExchangeTests().started(&m, now: 0)
        #expect(m.state == .sending && m.timerMs == 300)
        #expect(m.timerFired(now: 300) == .fail(.gatewayTimeout, close: true))
        var plain = try ExchangeTests().machine(route, method: .post, framing: .chunked)
        ExchangeTests().started(&plain, now: 0)
        #expect(plain.timerFired(now: Int64(ExchangeTests.limits.idleTimeoutMs)) == .fail(.requestTimeout, close: true))
    }

    /// A call is retried on the route's gRPC codes when answered Trailers-Only; its HTTP status never matches
    /// `5xx`/`gateway-error`, and a fallback (an HTTP answer) is never served to it.
    @Test func retriesFollowGRPCStatusesAndFallbacksAreNotServed() throws {
        let route = #"""
            {"match": {"path_prefix": "/"}, "upstream": "app",
             "retry": {"retries": 1, "on": ["grpc-unavailable", "5xx", "connect-failure"], "backoff_base_ms": 0, "backoff_max_ms": 0},
             "fallback": {"status": 200, "body": "{}", "on": ["connect-failure", "5xx", "timeout"]}}
            """#
        let up = ExchangeTests.Upstream()
        var m = try Self.call(route, timeoutMs: nil)
        ExchangeTests().started(&m, now: 0)
        #expect(m.responseHead(status: 503, grpcStatus: nil, now: 1, env: up) == .forward, "5xx does not match a call")
        #expect(m.responseHead(status: 200, grpcStatus: 8, now: 1, env: up) == .forward, "not a listed code")
        #expect(m.responseHead(status: 200, grpcStatus: 14, now: 1, env: up) == .retry(now: true))
        m.attemptStarted(now: 2)
        m.connected(now: 2)
        #expect(m.attemptFailed(.connectFailure, now: 3, env: up) == .fail(.badGateway, close: false))

        var http = try ExchangeTests().machine(route, method: .get)
        ExchangeTests().started(&http, now: 0)
        #expect(http.responseHead(status: 503, now: 1, env: up) == .retry(now: true))
        http.attemptStarted(now: 2)
        http.connected(now: 2)
        #expect(http.attemptFailed(.connectFailure, now: 3, env: up) == .fallback(.connectFailure))
    }

    /// A transcoded REST request (`grpc_transcode`) is a call upstream — retried on its gRPC codes, not on its
    /// HTTP status — and an HTTP exchange for its client: the fallback applies, a GET stays idempotent (retried
    /// after a timeout), a reply cut by the deadline is a 504, and a body it waits for times out as a 408.
    @Test func aTranscodedRequestRetriesLikeACallAndIsAnsweredLikeHTTP() throws {
        let route = #"""
            {"match": {"path_prefix": "/"}, "upstream": "app",
             "retry": {"retries": 1, "on": ["grpc-unavailable", "timeout", "connect-failure"], "backoff_base_ms": 0, "backoff_max_ms": 0},
             "fallback": {"status": 200, "body": "{}", "on": ["connect-failure", "5xx", "timeout"]}}
            """#
        let up = ExchangeTests.Upstream()
        var m = try ExchangeTests().machine(route, method: .get)
        m.transcodedCall()
        ExchangeTests().started(&m, now: 0)
        #expect(m.grpc && m.transcoded)
        #expect(m.responseHead(status: 503, grpcStatus: nil, now: 1, env: up) == .forward, "5xx does not match a call")
        #expect(m.responseHead(status: 200, grpcStatus: 14, now: 1, env: up) == .retry(now: true))
        m.attemptStarted(now: 2)
        m.connected(now: 2)
        #expect(m.attemptFailed(.connectFailure, now: 3, env: up) == .fallback(.connectFailure), "an HTTP client")

        var get = try ExchangeTests().machine(route, method: .get)
        get.transcodedCall()
        ExchangeTests().started(&get, now: 0)
        #expect(get.attemptFailed(.timeout, now: 3, env: up) == .retry(now: true), "the REST method's idempotency")
        get.attemptStarted(now: 3)
        get.connected(now: 3)
        get.responseStarted(framing: .chunked, switching: false, now: 4)
        #expect(get.timerFired(now: get.timerMs) == .fail(.gatewayTimeout, close: false), "nothing was written yet")

        var parked = try ExchangeTests().machine(route, method: .post, framing: .contentLength(10))
        parked.awaitBody(now: 100)
        #expect(parked.state == .awaitingBody && parked.timerMs == 100 + Int64(ExchangeTests.limits.idleTimeoutMs))
        #expect(parked.timerFired(now: parked.timerMs) == .fail(.requestTimeout, close: true))
        parked.bodyArrived()
        #expect(parked.state == .routing && parked.timerMs == .max)
        parked.requestRewritten(framing: .contentLength(3))
        #expect(!parked.request.done, "the rewritten body is still to be read")
    }
}
