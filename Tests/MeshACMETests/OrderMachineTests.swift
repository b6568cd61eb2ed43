import MeshACME
import MeshCrypto
import MeshJSON
import Testing

/// Drives the order machine through RFC 8555 exchanges shaped like Pebble's, at explicit instants.
@Suite struct OrderMachineTests {
    static let directory = """
        {"newNonce":"https://ca.test/nonce","newAccount":"https://ca.test/acct","newOrder":"https://ca.test/order",\
        "meta":{"termsOfService":"data:x"}}
        """

    static func response(_ status: Int, _ body: String, nonce: String? = nil, _ extra: [(String, String)] = [])
        -> ACMEResponse
    {
        var headers = extra
        if let nonce { headers.append(("Replay-Nonce", nonce)) }
        return ACMEResponse(status: status, headers: headers, body: Array(body.utf8))
    }

    static func request(_ action: ACMEOrderMachine.Action) -> ACMERequest? {
        if case .send(let request) = action { return request }
        return nil
    }

    /// The JWS protected header of a POST.
    static func header(_ request: ACMERequest) throws -> JSONNode {
        let jws = try JSONReader.parse(try need(request.body))
        return try JSONReader.parse(try need(Base64URL.decode(try need(jws["protected"]?.stringValue))))
    }

    static func payload(_ request: ACMERequest) throws -> String {
        let jws = try JSONReader.parse(try need(request.body))
        return String(decoding: try need(Base64URL.decode(try need(jws["payload"]?.stringValue))), as: UTF8.self)
    }

    static func machine(_ challenge: ACMEChallengeType = .http01) throws -> ACMEOrderMachine {
        ACMEOrderMachine(
            settings: .init(
                directoryURL: "https://ca.test/dir", email: "ops@example.test", domains: ["a.example.test"],
                challenge: challenge),
            accountKey: try need(ACMEAccountKey.generate()),
            certificateKey: try need(PrivateKey.generate(.ec(.p256))))
    }

    static let authorization = """
        {"status":"pending","identifier":{"type":"dns","value":"a.example.test"},"challenges":[\
        {"type":"tls-alpn-01","url":"https://ca.test/chal/2","token":"tokALPN","status":"pending"},\
        {"type":"http-01","url":"https://ca.test/chal/1","token":"tokHTTP","status":"pending"}]}
        """

    /// Runs the machine up to and including the `.serve` of its answers.
    static func runToServe(_ m: inout ACMEOrderMachine, now: Int64) throws -> [ACMEChallengeAnswer] {
        #expect(request(m.start(now: now)) == ACMERequest(method: "GET", url: "https://ca.test/dir"))
        let nonceRequest = try need(request(m.receive(response(200, directory), now: now)))
        #expect(nonceRequest == ACMERequest(method: "HEAD", url: "https://ca.test/nonce"))
        let account = try need(request(m.receive(response(200, "", nonce: "N1"), now: now)))
        #expect(account.url == "https://ca.test/acct")
        let accountHeader = try header(account)
        #expect(accountHeader["nonce"]?.stringValue == "N1")
        #expect(accountHeader["jwk"] != nil)
        #expect(try payload(account).contains("\"mailto:ops@example.test\""))
        let order = try need(
            request(m.receive(response(201, "{\"status\":\"valid\"}", nonce: "N2", [("Location", "https://ca.test/acct/1")]), now: now)))
        #expect(try header(order)["kid"]?.stringValue == "https://ca.test/acct/1")
        #expect(try payload(order) == "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example.test\"}]}")
        let orderBody = """
            {"status":"pending","authorizations":["https://ca.test/authz/1"],"finalize":"https://ca.test/fin/1"}
            """
        let authz = try need(
            request(m.receive(response(201, orderBody, nonce: "N3", [("Location", "https://ca.test/o/1")]), now: now)))
        #expect(authz.url == "https://ca.test/authz/1")
        #expect(try payload(authz) == "")  // POST-as-GET
        guard case .serve(let answers) = m.receive(response(200, authorization, nonce: "N4"), now: now) else {
            Issue.record("expected .serve")
            return []
        }
        return answers
    }

    @Test func http01OrderRunsToIssuanceWithPollingAndRetryAfter() throws {
        var m = try Self.machine()
        let now: Int64 = 1_800_000_000
        let answers = try Self.runToServe(&m, now: now)
        #expect(answers.count == 1)
        #expect(answers[0].token == "tokHTTP")
        #expect(answers[0].type == .http01)
        #expect(answers[0].keyAuthorization == "tokHTTP." + m.accountKey.thumbprint)
        let trigger = try need(Self.request(m.answersReady(now: now)))
        #expect(trigger.url == "https://ca.test/chal/1")
        #expect(try Self.payload(trigger) == "{}")
        let poll = try need(Self.request(m.receive(Self.response(200, "{\"status\":\"processing\"}", nonce: "N5"), now: now)))
        #expect(poll.url == "https://ca.test/authz/1")
        // Still pending: the server's Retry-After decides when to look again.
        let wait = m.receive(Self.response(200, Self.authorization, nonce: "N6", [("Retry-After", "3")]), now: now)
        guard case .wait(let until) = wait else { Issue.record("expected .wait, got \(wait)"); return }
        #expect(until == now + 3)
        let again = try need(Self.request(m.resume(now: now + 3)))
        #expect(again.url == "https://ca.test/authz/1")
        #expect(try Self.header(again)["nonce"]?.stringValue == "N6")
        let valid = Self.authorization.replacingFirst("\"status\":\"pending\"", with: "\"status\":\"valid\"")
        let orderPoll = try need(Self.request(m.receive(Self.response(200, valid, nonce: "N7"), now: now + 3)))
        #expect(orderPoll.url == "https://ca.test/o/1")
        let finalize = try need(
            Self.request(m.receive(Self.response(200, "{\"status\":\"ready\",\"finalize\":\"https://ca.test/fin/1\"}", nonce: "N8"), now: now + 3)))
        #expect(finalize.url == "https://ca.test/fin/1")
        let csr = try JSONReader.parse(Array(try Self.payload(finalize).utf8))["csr"]?.stringValue
        #expect(csr.flatMap { Base64URL.decode($0) }?.first == 0x30)  // a DER SEQUENCE
        let processing = m.receive(Self.response(200, "{\"status\":\"processing\"}", nonce: "N9"), now: now + 4)
        guard case .wait(let later) = processing else { Issue.record("expected .wait"); return }
        #expect(later == now + 5)  // no Retry-After: one second
        #expect(try need(Self.request(m.resume(now: later))).url == "https://ca.test/o/1")
        let download = try need(
            Self.request(m.receive(Self.response(200, "{\"status\":\"valid\",\"certificate\":\"https://ca.test/cert/1\"}", nonce: "N10"), now: later)))
        #expect(download.url == "https://ca.test/cert/1")
        let key = try need(PrivateKey.generate(.ec(.p256)))
        let chain = try ACMECertificates.selfSigned(domains: ["a.example.test"], key: key, now: now, days: 90)
        guard case .issued(let issued) = m.receive(Self.response(200, chain, nonce: "N11"), now: later) else {
            Issue.record("expected .issued")
            return
        }
        #expect(issued.notBefore == now)
        #expect(issued.renewAt == now + 60 * 86_400)
        #expect(m.accountURL == "https://ca.test/acct/1")
    }

    @Test func tlsALPN01PicksTheALPNChallenge() throws {
        var m = try Self.machine(.tlsALPN01)
        let answers = try Self.runToServe(&m, now: 5)
        #expect(answers.map(\.token) == ["tokALPN"])
        #expect(answers[0].type == .tlsALPN01)
        #expect(try need(Self.request(m.answersReady(now: 5))).url == "https://ca.test/chal/2")
    }

    @Test func badNonceResendsTheSameRequestWithTheNewNonce() throws {
        var m = try Self.machine()
        _ = m.start(now: 0)
        _ = m.receive(Self.response(200, Self.directory), now: 0)
        let first = try need(Self.request(m.receive(Self.response(200, "", nonce: "old"), now: 0)))
        let problem = "{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":\"JWS has an invalid anti-replay nonce\"}"
        let retry = try need(Self.request(m.receive(Self.response(400, problem, nonce: "fresh"), now: 0)))
        #expect(retry.url == first.url)
        #expect(try Self.header(retry)["nonce"]?.stringValue == "fresh")
        #expect(try Self.payload(retry) == (try Self.payload(first)))
        // A badNonce without a new nonce: fetch one first, then resend.
        let head = try need(Self.request(m.receive(Self.response(400, problem), now: 0)))
        #expect(head.method == "HEAD")
        let resent = try need(Self.request(m.receive(Self.response(200, "", nonce: "third"), now: 0)))
        #expect(resent.url == first.url)
        #expect(try Self.header(resent)["nonce"]?.stringValue == "third")
    }

    @Test func aFailedValidationReportsTheChallengeProblem() throws {
        var m = try Self.machine()
        _ = try Self.runToServe(&m, now: 0)
        _ = m.answersReady(now: 0)
        _ = m.receive(Self.response(200, "{\"status\":\"processing\"}", nonce: "a"), now: 0)
        let invalid = """
            {"status":"invalid","identifier":{"type":"dns","value":"a.example.test"},"challenges":[{"type":"http-01",\
            "url":"u","token":"t","status":"invalid","error":{"type":"urn:ietf:params:acme:error:connection",\
            "detail":"127.0.0.1: Connection refused","status":400}}]}
            """
        guard case .failed(let problem) = m.receive(Self.response(200, invalid, nonce: "b"), now: 0) else {
            Issue.record("expected .failed")
            return
        }
        #expect(problem.type == "urn:ietf:params:acme:error:connection")
        #expect(problem.detail == "127.0.0.1: Connection refused")
    }

    @Test func errorsAndMalformedAnswersEndTheOrderWithAReason() throws {
        var m = try Self.machine()
        _ = m.start(now: 0)
        guard case .failed(let notJSON) = m.receive(Self.response(200, "<html>"), now: 0) else {
            Issue.record("expected .failed")
            return
        }
        #expect(notJSON.type == "meshgate:response")
        var n = try Self.machine()
        _ = n.start(now: 0)
        _ = n.receive(Self.response(200, Self.directory), now: 0)
        _ = n.receive(Self.response(200, "", nonce: "x"), now: 0)  // newNonce, then newAccount goes out
        let problem = "{\"type\":\"urn:ietf:params:acme:error:malformed\",\"detail\":\"no\"}"
        guard case .failed(let refused) = n.receive(Self.response(400, problem, nonce: "y"), now: 0) else {
            Issue.record("expected .failed")
            return
        }
        #expect(refused.type == "urn:ietf:params:acme:error:malformed")
        #expect(refused.status == 400)
        var o = try Self.machine()
        _ = o.start(now: 0)
        guard case .failed(let missing) = o.receive(Self.response(200, "{\"newNonce\":\"x\"}"), now: 0) else {
            Issue.record("expected .failed")
            return
        }
        #expect(missing.detail.contains("newAccount"))
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
