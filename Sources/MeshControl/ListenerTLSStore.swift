import Glibc
import MeshACME
import MeshConfig
import MeshPosix
import MeshProxy
import MeshSync
import MeshTLS

/// The server-side TLS contexts of every TLS listener, built from the files on each start and reload (SPEC §9).
///
/// A listener's context is rebuilt on every reload, so edited certificate files are picked up; the ticket key
/// ring stays with the listener's name, so sessions resume across reloads. When the files no longer load but the
/// listener's `tls` settings are unchanged, it keeps the context it had (loudly: logged, counted, shown on
/// `/config`): a rotation gone wrong must not take a listener down. New settings that do not load (say a
/// `client_ca_file` added with `require_client_cert`) refuse the start or the reload with the file's reason:
/// keeping the old context would serve what the config no longer says (clients without certificates).
///
/// Used by the thread that loads configs (start, reload), under the gateway's reload lock.
public final class ListenerTLSStore: @unchecked Sendable {
    public struct Built {
        /// `config.listeners` order; nil for a plaintext listener.
        public var contexts: [TLSServerContext?]
        /// Listeners that kept their previous context: (listener name, error naming the JSON path and file).
        public var kept: [(listener: String, error: String)]
        /// Listeners whose files loaded, with the pairs now served.
        public var loaded: [(listener: String, pairs: [CertificatePair])] = []
        /// ACME listeners serving their self-signed placeholder (no usable issued certificate yet).
        public var acmePlaceholders: [String] = []
    }

    /// Errors that stop the config: the listener has no good context to keep.
    public struct Failure: Error, CustomStringConvertible {
        public let errors: [String]
        public var description: String { errors.joined(separator: "; ") }
    }

    private var contexts: [String: (context: TLSServerContext, settings: ListenerTLSConfig)] = [:]
    /// The bytes of every TLS file at the last build: a file event reloads only when one of them changed.
    private var seen: [String: [UInt8]] = [:]
    /// The last error per listener name (shown on `/config`), cleared by a good load.
    private let problems = Locked<[String: String]>([:])
    /// Per ACME listener name: the tls-alpn-01 certificates its contexts answer with, shared with the ACME client
    /// and kept across reloads (a reload during a validation must not drop the challenge).
    private let challenges = Locked<[String: ACMEChallengeCertificates]>([:])

    public init() {}

    /// Builds the contexts of `config`; on success they become the ones later reloads fall back to.
    public func build(_ config: CompiledConfig, nowSeconds: Int64) throws(Failure) -> Built {
        var built = Built(contexts: [], kept: [])
        var errors: [String] = []
        var next: [String: (context: TLSServerContext, settings: ListenerTLSConfig)] = [:]
        for (index, listener) in config.listeners.enumerated() {
            let name = listener.config.name
            guard let tls = listener.config.tls else {
                built.contexts.append(nil)
                continue
            }
            let previous = contexts[name]
            do throws(TLSBuildError) {
                if let acme = tls.acme { try Self.preparePlaceholder(acme, path: "listeners[\(index)].tls.acme", now: nowSeconds) }
                let context = try Self.context(
                    tls, path: "listeners[\(index)].tls", ring: previous?.context.ticketKeys, now: nowSeconds,
                    challenges: tls.acme?.challenge == "tls-alpn-01" ? acmeChallenges(for: name) : nil)
                next[name] = (context, tls)
                built.contexts.append(context)
                built.loaded.append((name, context.certificates))
                if let acme = tls.acme, context.certificates.first?.certFile == acme.placeholderCertFile {
                    built.acmePlaceholders.append(name)
                }
            } catch {
                if let previous, previous.settings == tls {
                    next[name] = previous
                    built.contexts.append(previous.context)
                    built.kept.append((name, error.description))
                } else {
                    errors.append(error.description)
                    built.contexts.append(nil)
                }
            }
        }
        seen = Self.contents(of: config)
        guard errors.isEmpty else { throw Failure(errors: errors) }
        contexts = next
        problems.withLock { problems in
            problems = Dictionary(built.kept.map { ($0.listener, $0.error) }, uniquingKeysWith: { a, _ in a })
            for name in built.acmePlaceholders where problems[name] == nil {
                problems[name] = "acme: no certificate issued yet; serving the self-signed placeholder"
            }
        }
        return built
    }

    /// Every listener's TLS files loaded as a start would load them; one error per listener that cannot serve.
    public static func check(_ config: GatewayConfig, nowSeconds: Int64) -> [String] {
        var problems: [String] = []
        for (index, listener) in config.listeners.enumerated() {
            // An ACME listener's certificate does not exist before the gateway runs: nothing to load here.
            guard let tls = listener.tls, tls.acme == nil else { continue }
            do throws(TLSBuildError) {
                _ = try context(tls, path: "listeners[\(index)].tls", ring: nil, now: nowSeconds)
            } catch {
                problems.append(error.description)
            }
        }
        do {
            _ = try UpstreamTLSContexts.build(config, nowSeconds: nowSeconds)
        } catch {
            problems += error.errors
        }
        return problems
    }

    /// Whether a certificate, key or CA file of `config` differs from what the last build read.
    public func filesChanged(_ config: CompiledConfig) -> Bool { Self.contents(of: config) != seen }

    /// Every TLS file of `config` (the empty array for one that cannot be read).
    public static func contents(of config: CompiledConfig) -> [String: [UInt8]] {
        var contents: [String: [UInt8]] = [:]
        for path in files(of: config.source) { contents[path] = (try? Posix.readFile(path)) ?? [] }
        return contents
    }

    /// The certificate, key and CA files of every TLS listener and upstream.
    public static func files(of config: GatewayConfig) -> [String] {
        var files: [String] = []
        for tls in config.listeners.compactMap(\.tls) {
            files += tls.certificates.flatMap { [$0.certFile, $0.keyFile] } + (tls.clientCAFile.map { [$0] } ?? [])
            if let acme = tls.acme { files += [acme.certFile, acme.keyFile] }
        }
        for tls in config.upstreams.values.compactMap(\.tls) {
            files += [tls.caFile, tls.certFile, tls.keyFile].compactMap { $0 }
        }
        return files.sorted()
    }

    /// Listeners that keep an older certificate since the last load, with the error that made them (`/config`).
    public var problemsByListener: [(listener: String, error: String)] {
        problems.withLock { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }

    public struct TLSBuildError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The tls-alpn-01 certificates of ACME listener `name` (made on first use, kept for the process).
    public func acmeChallenges(for name: String) -> ACMEChallengeCertificates {
        challenges.withLock { all in
            if let existing = all[name] { return existing }
            let made = ACMEChallengeCertificates()
            all[name] = made
            return made
        }
    }

    /// The self-signed pair an ACME listener serves until its first certificate is issued (SPEC §12: the
    /// listener answers tls-alpn-01 and HTTPS before that).
    static func preparePlaceholder(_ acme: ACMEListenerConfig, path: String, now: Int64) throws(TLSBuildError) {
        do {
            try ACMEStorage.makeDirectory(acme.storageDir)
            try ACMEStorage.ensurePlaceholder(
                certFile: acme.placeholderCertFile, keyFile: acme.placeholderKeyFile, domains: acme.domains, now: now)
        } catch {
            throw TLSBuildError(description: "\(path).storage_dir: \(error)")
        }
    }

    /// The pair an ACME listener serves: the issued one when it loads, else the placeholder.
    static func acmePair(_ acme: ACMEListenerConfig, path: String, now: Int64) throws(TLSBuildError) -> CertificatePair {
        do {
            return try CertificatePair(certFile: acme.certFile, keyFile: acme.keyFile, now: now)
        } catch {
            do {
                return try CertificatePair(certFile: acme.placeholderCertFile, keyFile: acme.placeholderKeyFile, now: now)
            } catch {
                throw TLSBuildError(description: "\(path).acme.storage_dir: \(error)")
            }
        }
    }

    /// Loads every pair and the client CA of one listener.
    public static func context(
        _ tls: ListenerTLSConfig, path: String, ring: TicketKeyRing?, now: Int64,
        challenges: ACMEChallengeCertificates? = nil
    ) throws(TLSBuildError) -> TLSServerContext {
        var pairs: [CertificatePair] = []
        if let acme = tls.acme { pairs.append(try acmePair(acme, path: path, now: now)) }
        for (index, pair) in tls.certificates.enumerated() {
            do {
                pairs.append(try CertificatePair(certFile: pair.certFile, keyFile: pair.keyFile, now: now))
            } catch {
                throw TLSBuildError(description: "\(path).certificates[\(index)]: \(error)")
            }
        }
        var options = TLSServerOptions()
        options.minimumVersion = tls.minVersion == "1.3" ? .tls13 : .tls12
        options.alpn = tls.alpn
        options.clientCAFile = tls.clientCAFile
        options.requireClientCert = tls.requireClientCert
        options.acmeChallenges = challenges
        do {
            return try TLSServerContext(certificates: pairs, options: options, ticketKeys: ring)
        } catch {
            let key = tls.clientCAFile == nil ? "" : ".client_ca_file"
            throw TLSBuildError(description: "\(path)\(key): \(error)")
        }
    }

    /// Wall-clock seconds (certificate validity is calendar time).
    public static func wallClockSeconds() -> Int64 { Int64(time(nil)) }
}
