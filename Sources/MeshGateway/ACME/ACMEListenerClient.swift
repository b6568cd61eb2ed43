import Dispatch
import Glibc
import MeshACME
import MeshConfig
import MeshControl
import MeshCrypto
import MeshTLS
import Synchronization

/// The ACME client of one listener (SPEC §12), on its own control-plane thread: obtains a certificate when
/// `storage_dir` holds none (or one past two thirds of its life), stores it, has it swapped in through the
/// certificate reload, then sleeps until the next renewal. Failures are logged with the server's problem type and
/// detail and retried with exponential back-off (5 s doubling to 1 h).
final class ACMEListenerClient: @unchecked Sendable {
    let listener: String
    let settings: ACMEListenerConfig
    /// The listener's tls-alpn-01 certificates (nil for http-01).
    let alpn: ACMEChallengeCertificates?
    /// Called after a new pair is stored: reloads the certificates so new handshakes use it.
    let issued: @Sendable () -> Void
    /// Counts an order's outcome (`meshgate_acme_orders_total`).
    let counted: @Sendable (_ success: Bool) -> Void
    /// Whether the gateway serves yet (the validation connects to its listeners).
    let serving: @Sendable () -> Bool
    private let stopped = Atomic<Bool>(false)
    private let wakeup = DispatchSemaphore(value: 0)
    private var thread: WorkerThread?

    static let firstBackoffSeconds: Int64 = 5
    static let maxBackoffSeconds: Int64 = 3600

    init(
        listener: String, settings: ACMEListenerConfig, alpn: ACMEChallengeCertificates?,
        issued: @escaping @Sendable () -> Void, counted: @escaping @Sendable (Bool) -> Void,
        serving: @escaping @Sendable () -> Bool
    ) {
        self.listener = listener
        self.settings = settings
        self.alpn = alpn
        self.issued = issued
        self.counted = counted
        self.serving = serving
    }

    func start() {
        if settings.challenge == "http-01" { ACMEHTTPChallenges.listeners.add(1, ordering: .relaxed) }
        thread = WorkerThread(name: "meshgate-acme") { [self] in run() }
        thread?.detach()
    }

    /// Ends the thread at its next wait (an exchange in progress finishes first, bounded by its timeouts).
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        if settings.challenge == "http-01" { ACMEHTTPChallenges.listeners.subtract(1, ordering: .relaxed) }
        wakeup.signal()
    }

    static func now() -> Int64 { Int64(time(nil)) }

    private func run() {
        // The validation connects to this gateway's listeners: wait (bounded) until they accept.
        for _ in 0..<200 where !serving() && !isStopped { sleep(seconds: 0.05) }
        var backoff = Self.firstBackoffSeconds
        while !isStopped {
            let now = Self.now()
            if let renewAt = storedRenewalTime(), renewAt > now {
                EventLog.info(
                    "ACME certificate in storage is current",
                    ["listener": listener, "renew_at": "\(renewAt)", "file": settings.certFile])
                sleep(seconds: Double(min(renewAt - now, 86_400)))
                continue
            }
            do {
                let result = try order()
                counted(true)
                backoff = Self.firstBackoffSeconds
                EventLog.info(
                    "ACME certificate issued and stored",
                    [
                        "listener": listener, "domains": settings.domains.joined(separator: ","),
                        "not_after": "\(result.notAfter)", "renew_at": "\(result.renewAt)",
                    ])
                issued()
            } catch {
                counted(false)
                if isStopped { return }
                EventLog.error(
                    "ACME order failed; retrying",
                    [
                        "listener": listener, "type": error.type, "detail": error.detail,
                        "retry_in_s": "\(backoff)", "directory_url": settings.directoryURL,
                    ])
                sleep(seconds: Double(backoff))
                backoff = min(backoff * 2, Self.maxBackoffSeconds)
            }
        }
    }

    private var isStopped: Bool { stopped.load(ordering: .relaxed) }

    private func sleep(seconds: Double) {
        guard !isStopped, seconds > 0 else { return }
        _ = wakeup.wait(timeout: .now() + .milliseconds(Int(seconds * 1000)))
    }

    /// Renewal time of the stored certificate; nil when there is none to keep: missing, not parsing, expired,
    /// its key not matching (a crash between the two renames), or not covering every configured domain (the
    /// `domains` changed).
    func storedRenewalTime() -> Int64? {
        guard let pair = try? CertificatePair(certFile: settings.certFile, keyFile: settings.keyFile, now: Self.now()),
            Set(settings.domains).isSubset(of: Set(pair.dnsNames)),
            let pem = ACMEStorage.read(settings.certFile), let validity = try? ACMECertificates.validity(ofPEM: pem)
        else { return nil }
        return ACMECertificates.renewalTime(notBefore: validity.notBefore, notAfter: validity.notAfter)
    }

    /// One order, start to stored chain.
    private func order() throws(ACMEProblem) -> ACMEIssued {
        let accountKey: ACMEAccountKey
        let certificateKey: PrivateKey
        let tls: TLSClientContext
        do {
            try ACMEStorage.makeDirectory(settings.storageDir)
            guard let key = ACMEAccountKey(try ACMEStorage.loadOrCreateKey(settings.accountKeyFile)) else {
                throw ACMEStorage.Failure(description: "\(settings.accountKeyFile): not a P-256 key")
            }
            accountKey = key
            guard let fresh = PrivateKey.generate(.ec(.p256)) else {
                throw ACMEStorage.Failure(description: "key generation failed")
            }
            certificateKey = fresh
        } catch {
            throw ACMEProblem(type: "meshgate:storage", detail: "\(error)")
        }
        do {
            var options = TLSClientOptions()
            options.caFile = settings.caFile
            tls = try TLSClientContext(options: options)
        } catch {
            throw ACMEProblem(type: "meshgate:ca_file", detail: "\(settings.caFile ?? "system store"): \(error)")
        }
        let challenge = ACMEChallengeType(rawValue: settings.challenge) ?? .http01
        var machine = ACMEOrderMachine(
            settings: .init(
                directoryURL: settings.directoryURL, email: settings.email, domains: settings.domains,
                challenge: challenge),
            accountKey: accountKey, certificateKey: certificateKey)
        var served: [ACMEChallengeAnswer] = []
        defer { withdraw(served) }
        var action = machine.start(now: Self.now())
        while true {
            if isStopped { throw ACMEProblem(type: "meshgate:stopped", detail: "the listener's ACME client stopped") }
            switch action {
            case .send(let request):
                action = machine.receive(try ACMETransport.exchange(request, tls: tls), now: Self.now())
            case .serve(let answers):
                served = answers
                try serve(answers)
                action = machine.answersReady(now: Self.now())
            case .wait(let until):
                sleep(seconds: Double(max(until - Self.now(), 0)))
                action = machine.resume(now: Self.now())
            case .issued(let result):
                try store(result, key: certificateKey)
                return result
            case .failed(let problem):
                throw problem
            }
        }
    }

    private func serve(_ answers: [ACMEChallengeAnswer]) throws(ACMEProblem) {
        for answer in answers {
            switch answer.type {
            case .http01: ACMEHTTPChallenges.serve(token: answer.token, keyAuthorization: answer.keyAuthorization)
            case .tlsALPN01:
                do {
                    guard let alpn, let key = PrivateKey.generate(.ec(.p256)) else {
                        throw ACMECertificateError("no tls-alpn-01 store or key")
                    }
                    let certificate = try ACMECertificates.alpnChallengeCertificate(
                        domain: answer.domain, keyAuthorization: answer.keyAuthorization, key: key, now: Self.now() - 60)
                    try alpn.install(
                        domain: answer.domain, certificatePEM: Array(certificate.utf8),
                        keyPEM: Array(key.pemPKCS8().utf8))
                } catch {
                    throw ACMEProblem(type: "meshgate:tls-alpn-01", detail: "\(answer.domain): \(error)")
                }
            }
        }
    }

    private func withdraw(_ answers: [ACMEChallengeAnswer]) {
        for answer in answers {
            switch answer.type {
            case .http01: ACMEHTTPChallenges.withdraw(token: answer.token)
            case .tlsALPN01: alpn?.remove(domain: answer.domain)
            }
        }
    }

    /// Key first (0600), then the chain: each file is replaced whole (temporary file + rename).
    private func store(_ result: ACMEIssued, key: PrivateKey) throws(ACMEProblem) {
        do {
            try ACMEStorage.write(Array(key.pemPKCS8().utf8), to: settings.keyFile, mode: 0o600)
            try ACMEStorage.write(result.chainPEM, to: settings.certFile, mode: 0o644)
        } catch {
            throw ACMEProblem(type: "meshgate:storage", detail: "\(error)")
        }
    }
}
