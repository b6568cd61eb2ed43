import MeshCrypto
import MeshJSON

/// One certificate order (RFC 8555 §7) as a sans-IO state machine: every call returns the next action, the
/// caller performs it (an HTTP exchange, serving challenge answers, waiting) and reports back. No sockets, no
/// clock: `now` is passed in (seconds since the epoch), so tests drive it with explicit instants.
///
/// Flow: directory → newNonce → newAccount (jwk) → newOrder (kid) → each authorization → serve the answers →
/// tell the server to validate each challenge → poll the authorizations → finalize with a CSR → poll the order →
/// download the chain. Every POST takes the newest `Replay-Nonce`; a `badNonce` problem resends the same
/// request with the nonce that came with it (RFC 8555 §6.5).
public struct ACMEOrderMachine {
    public struct Settings: Sendable {
        public var directoryURL: String
        public var email: String?
        public var domains: [String]
        public var challenge: ACMEChallengeType

        public init(directoryURL: String, email: String?, domains: [String], challenge: ACMEChallengeType) {
            self.directoryURL = directoryURL
            self.email = email
            self.domains = domains
            self.challenge = challenge
        }
    }

    public enum Action {
        /// Make this request and call `receive` with the response.
        case send(ACMERequest)
        /// Serve these answers (http-01 body or tls-alpn-01 certificate), then call `answersReady`.
        case serve([ACMEChallengeAnswer])
        /// Call `resume` at or after this instant (the server asked to poll later).
        case wait(until: Int64)
        /// Done: the chain for the certificate key.
        case issued(ACMEIssued)
        /// Done: this order failed; a new machine starts over.
        case failed(ACMEProblem)
    }

    enum Step: Equatable {
        case directory
        case account
        case order
        case authorization(Int)
        case serving
        case challenge(Int)
        case pollAuthorization(Int)
        case pollOrder
        case certificate
        case finished
    }

    /// A signed POST that may have to be sent again (fresh nonce, or after a wait).
    struct Post {
        var url: String
        var payload: String?
        var step: Step
    }

    /// Most `badNonce` resends of one request, and most polls of one order, before giving up.
    static let maxNonceRetries = 5
    static let maxPolls = 120

    public let settings: Settings
    public let accountKey: ACMEAccountKey
    let certificateKey: PrivateKey
    var step = Step.directory
    var newNonceURL = ""
    var newAccountURL = ""
    var newOrderURL = ""
    var nonce: String?
    /// The account URL (`kid`), known after newAccount.
    public private(set) var accountURL: String?
    var orderURL = ""
    var finalizeURL = ""
    var authorizations: [String] = []
    /// Authorizations still pending, with the challenge URL to trigger.
    var pending: [(authorization: String, challenge: String)] = []
    var answers: [ACMEChallengeAnswer] = []
    var current: Post?
    var fetchingNonce = false
    var nonceRetries = 0
    var polls = 0

    public init(settings: Settings, accountKey: ACMEAccountKey, certificateKey: PrivateKey) {
        self.settings = settings
        self.accountKey = accountKey
        self.certificateKey = certificateKey
    }

    /// The first request: the directory.
    public mutating func start(now: Int64) -> Action {
        step = .directory
        return .send(ACMERequest(method: "GET", url: settings.directoryURL))
    }

    /// The answers from `.serve` are in place: ask the server to validate them.
    public mutating func answersReady(now: Int64) -> Action {
        guard step == .serving, let first = pending.first else {
            return fail(.local("state", "answersReady without answers to serve"))
        }
        return post(first.challenge, payload: "{}", step: .challenge(0))
    }

    /// The wait from `.wait` is over: poll again.
    public mutating func resume(now: Int64) -> Action {
        guard let current else { return fail(.local("state", "resume without a request to repeat")) }
        return sendSigned(current)
    }

    /// The response to the last `.send`.
    public mutating func receive(_ response: ACMEResponse, now: Int64) -> Action {
        if let fresh = response.header("replay-nonce"), !fresh.isEmpty { nonce = fresh }
        if fetchingNonce {
            fetchingNonce = false
            guard let current, nonce != nil else {
                return fail(.local("nonce", "newNonce answered \(response.status) without a Replay-Nonce"))
            }
            return sendSigned(current)
        }
        if response.status >= 400 {
            let problem = ACMEProblem.from(response)
            if problem.type == ACMEProblem.badNonce, let current, nonceRetries < Self.maxNonceRetries {
                nonceRetries += 1
                return sendSigned(current)
            }
            return fail(problem)
        }
        nonceRetries = 0
        if step == .certificate { return certificateArrived(response) }
        guard let body = try? JSONReader.parse(response.body) else {
            return fail(.local("response", "\(current?.url ?? settings.directoryURL) answered \(response.status) "
                + "with a body that is not JSON"))
        }
        switch step {
        case .directory: return directoryArrived(body)
        case .account:
            guard let location = response.header("location") else {
                return fail(.local("response", "newAccount answered without a Location (the account URL)"))
            }
            accountURL = location
            return newOrder()
        case .order:
            guard let location = response.header("location") else {
                return fail(.local("response", "newOrder answered without a Location (the order URL)"))
            }
            orderURL = location
            return orderArrived(body, response: response, now: now)
        case .authorization(let index): return authorizationArrived(body, index: index)
        case .challenge(let index):
            if index + 1 < pending.count {
                return post(pending[index + 1].challenge, payload: "{}", step: .challenge(index + 1))
            }
            return post(pending[0].authorization, payload: nil, step: .pollAuthorization(0))
        case .pollAuthorization(let index): return pollArrived(body, index: index, response: response, now: now)
        case .pollOrder: return orderArrived(body, response: response, now: now)
        case .serving, .certificate, .finished:
            return fail(.local("state", "a response arrived when none was expected"))
        }
    }

    // MARK: - Steps

    private mutating func directoryArrived(_ body: JSONNode) -> Action {
        guard let newNonce = body["newNonce"]?.stringValue, let newAccount = body["newAccount"]?.stringValue,
            let newOrder = body["newOrder"]?.stringValue
        else { return fail(.local("directory", "the directory lacks newNonce, newAccount or newOrder")) }
        (newNonceURL, newAccountURL, newOrderURL) = (newNonce, newAccount, newOrder)
        var w = JSONWriter()
        w.beginObject()
        w.key("termsOfServiceAgreed")
        w.bool(true)
        if let email = settings.email {
            w.key("contact")
            w.beginArray()
            w.string("mailto:" + email)
            w.endArray()
        }
        w.endObject()
        return post(newAccountURL, payload: w.text, step: .account)
    }

    private mutating func newOrder() -> Action {
        var w = JSONWriter()
        w.beginObject()
        w.key("identifiers")
        w.beginArray()
        for domain in settings.domains {
            w.beginObject()
            w.key("type")
            w.string("dns")
            w.key("value")
            w.string(domain)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return post(newOrderURL, payload: w.text, step: .order)
    }

    /// newOrder, finalize and order polls all answer with the order object.
    private mutating func orderArrived(_ order: JSONNode, response: ACMEResponse, now: Int64) -> Action {
        if let finalize = order["finalize"]?.stringValue { finalizeURL = finalize }
        if let list = order["authorizations"]?.arrayValue { authorizations = list.compactMap(\.stringValue) }
        switch order["status"]?.stringValue {
        case "pending" where step == .order:
            guard let first = authorizations.first else {
                return fail(.local("order", "a pending order without authorizations"))
            }
            answers = []
            pending = []
            return post(first, payload: nil, step: .authorization(0))
        case "ready":
            let csr: [UInt8]
            do {
                csr = try ACMECertificates.csrDER(key: certificateKey, domains: settings.domains)
            } catch {
                return fail(.local("csr", error.description))
            }
            return post(finalizeURL, payload: "{\"csr\":\"\(Base64URL.encode(csr))\"}", step: .pollOrder)
        case "valid":
            guard let url = order["certificate"]?.stringValue else {
                return fail(.local("order", "a valid order without a certificate URL"))
            }
            return post(url, payload: nil, step: .certificate)
        case "pending", "processing":
            return wait(post: Post(url: orderURL, payload: nil, step: .pollOrder), response: response, now: now)
        case "invalid":
            return fail(ACMEProblem.from(order["error"]) ?? .local("order", "the order became invalid"))
        default:
            return fail(.local("order", "order status \(order["status"]?.stringValue ?? "missing")"))
        }
    }

    private mutating func authorizationArrived(_ authorization: JSONNode, index: Int) -> Action {
        let url = authorizations[index]
        let domain = authorization["identifier"]?["value"]?.stringValue ?? "?"
        switch authorization["status"]?.stringValue {
        case "valid": break
        case "pending":
            let wanted = settings.challenge.rawValue
            guard let challenge = authorization["challenges"]?.arrayValue?.first(where: {
                $0["type"]?.stringValue == wanted
            }), let token = challenge["token"]?.stringValue, let challengeURL = challenge["url"]?.stringValue
            else { return fail(.local("authorization", "the server offers no \(wanted) challenge for \(domain)")) }
            guard Self.isToken(token) else {
                return fail(.local("authorization", "challenge token for \(domain) is not base64url"))
            }
            pending.append((url, challengeURL))
            answers.append(
                ACMEChallengeAnswer(
                    type: settings.challenge, domain: domain, token: token,
                    keyAuthorization: accountKey.keyAuthorization(token: token)))
        default:
            return fail(Self.challengeProblem(authorization) ?? .local("authorization", "\(domain): \(authorization["status"]?.stringValue ?? "no status")"))
        }
        if index + 1 < authorizations.count {
            return post(authorizations[index + 1], payload: nil, step: .authorization(index + 1))
        }
        if pending.isEmpty { return post(orderURL, payload: nil, step: .pollOrder) }
        step = .serving
        current = nil
        return .serve(answers)
    }

    private mutating func pollArrived(_ authorization: JSONNode, index: Int, response: ACMEResponse, now: Int64)
        -> Action
    {
        switch authorization["status"]?.stringValue {
        case "valid":
            if index + 1 < pending.count {
                return post(pending[index + 1].authorization, payload: nil, step: .pollAuthorization(index + 1))
            }
            return post(orderURL, payload: nil, step: .pollOrder)
        case "pending", "processing":
            let again = Post(url: pending[index].authorization, payload: nil, step: .pollAuthorization(index))
            return wait(post: again, response: response, now: now)
        default:
            let domain = authorization["identifier"]?["value"]?.stringValue ?? "?"
            return fail(Self.challengeProblem(authorization) ?? .local("authorization", "\(domain) is invalid"))
        }
    }

    private mutating func certificateArrived(_ response: ACMEResponse) -> Action {
        do {
            let validity = try ACMECertificates.validity(ofPEM: response.body)
            step = .finished
            current = nil
            return .issued(ACMEIssued(chainPEM: response.body, notBefore: validity.notBefore, notAfter: validity.notAfter))
        } catch {
            return fail(.local("certificate", "the downloaded chain does not parse: \(error)"))
        }
    }

    // MARK: - Requests

    private mutating func post(_ url: String, payload: String?, step next: Step) -> Action {
        let request = Post(url: url, payload: payload, step: next)
        return sendSigned(request)
    }

    /// Signs `request` with the nonce in hand, or first fetches one (HEAD newNonce) and comes back here.
    private mutating func sendSigned(_ request: Post) -> Action {
        current = request
        step = request.step
        guard let nonce else {
            fetchingNonce = true
            return .send(ACMERequest(method: "HEAD", url: newNonceURL))
        }
        self.nonce = nil  // each nonce is good for one request
        let kid = step == .account ? nil : accountURL
        guard let body = accountKey.sign(payload: request.payload, url: request.url, nonce: nonce, kid: kid) else {
            return fail(.local("jws", "signing failed"))
        }
        return .send(ACMERequest(method: "POST", url: request.url, body: body))
    }

    private mutating func wait(post: Post, response: ACMEResponse, now: Int64) -> Action {
        polls += 1
        guard polls <= Self.maxPolls else { return fail(.local("timeout", "still not done after \(polls) polls")) }
        current = post
        step = post.step
        let delay = min(max(response.retryAfterSeconds ?? 1, 1), 60)
        return .wait(until: now + delay)
    }

    private mutating func fail(_ problem: ACMEProblem) -> Action {
        step = .finished
        current = nil
        return .failed(problem)
    }

    /// The `error` of the failed challenge in an authorization (the validation's reason).
    static func challengeProblem(_ authorization: JSONNode) -> ACMEProblem? {
        for challenge in authorization["challenges"]?.arrayValue ?? [] {
            if let problem = ACMEProblem.from(challenge["error"]) { return problem }
        }
        return nil
    }

    /// RFC 8555 §8.3: tokens are base64url; anything else must not reach a URL path or a file.
    static func isToken(_ token: String) -> Bool {
        !token.isEmpty && token.utf8.count <= 256
            && token.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    true
                default: false
                }
            }
    }
}
