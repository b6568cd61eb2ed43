import MeshHTTP1
import MeshProxy
import Testing

/// The order a head is judged in before any upstream is chosen (the integration suites check each answer end
/// to end: 400, the ACME answer, the 308, 404, 403 and the route's upstream).
@Suite struct IntakeTests {
    static let routes = [
        #"{"match": {"path_prefix": "/api"}, "upstream": "app", "public": true}"#,
        #"{"match": {"path_prefix": "/"}, "upstream": "other", "public": true}"#,
    ]

    enum Outcome: Equatable {
        case badRequest, acme, redirect(Int), noRoute, forbidden(String), routed(String)
    }

    func judge(_ request: String, listenerExtra: String = "", acme: Bool = false) throws -> Outcome {
        let config = try routesConfig(Self.routes, listenerExtra: listenerExtra)
        return try withRequest(request) { view in
            let path = try? normalized(view)
            let verdict = path.withUnsafeBufferBytes { bytes in
                Intake.judge(
                    view, normalizedPath: bytes, listener: config.listeners[0], acmeChallenge: acme, peerIdentity: nil)
            }
            switch verdict {
            case .badRequest: return .badRequest
            case .acmeChallenge: return .acme
            case .redirectToHTTPS(let port): return .redirect(port)
            case .noRoute: return .noRoute
            case .forbidden(let route): return .forbidden(route.config.upstream)
            case .routed(let route): return .routed(route.config.upstream)
            }
        }
    }

    @Test func theFirstMatchingRouteTakesTheRequest() throws {
        #expect(try judge("GET /api/x HTTP/1.1\r\nHost: a\r\n\r\n") == .routed("app"))
        // Segment-aware prefixes (SPEC §3): `/apix` is not under `/api`.
        #expect(try judge("GET /apix HTTP/1.1\r\nHost: a\r\n\r\n") == .routed("other"))
        #expect(try judge("GET /other HTTP/1.1\r\nHost: a\r\n\r\n") == .routed("other"))
    }

    @Test func aPathAboveTheRootOrAHeadTheBoundaryRefusesIsABadRequestBeforeAnythingElse() throws {
        #expect(try judge("GET /../etc HTTP/1.1\r\nHost: a\r\n\r\n", acme: true) == .badRequest)
        let twoCredentials = "GET /api HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n"
        #expect(try judge(twoCredentials, acme: true) == .badRequest)
        #expect(try judge(twoCredentials, listenerExtra: #", "redirect_to_https": 443"#) == .badRequest)
    }

    @Test func anACMEChallengeComesBeforeTheRedirectAndTheRoutes() throws {
        let request = "GET /.well-known/acme-challenge/t HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(try judge(request, listenerExtra: #", "redirect_to_https": 8443"#, acme: true) == .acme)
        #expect(try judge(request, listenerExtra: #", "redirect_to_https": 8443"#) == .redirect(8443))
        #expect(try judge(request) == .routed("other"))
    }

    @Test func connectRoutesNowhere() throws {
        #expect(try judge("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n") == .noRoute)
    }
}

extension Optional where Wrapped == [UInt8] {
    /// The bytes as a buffer for the duration of `body`, nil when there are none.
    fileprivate func withUnsafeBufferBytes<R>(_ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard let bytes = self else { return body(nil) }
        return bytes.withUnsafeBytes { body($0) }
    }
}
