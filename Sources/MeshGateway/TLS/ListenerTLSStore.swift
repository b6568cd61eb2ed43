import Glibc
import MeshConfig
import MeshProxy
import MeshSync
import MeshTLS

/// The server-side TLS contexts of every TLS listener, built from the files on each start and reload (SPEC §9).
///
/// A listener's context is rebuilt on every reload, so edited certificate files are picked up; the ticket key
/// ring stays with the listener's name, so sessions resume across reloads. When the files no longer load, the
/// listener keeps the context it had (loudly: logged, counted, shown on `/config`); a listener that never had
/// a good context cannot start, which refuses the start or the reload with the file's reason.
///
/// Used by the thread that loads configs (start, reload), under the gateway's reload lock.
final class ListenerTLSStore: @unchecked Sendable {
    struct Built {
        /// `config.listeners` order; nil for a plaintext listener.
        var contexts: [TLSServerContext?]
        /// Listeners that kept their previous context: (listener name, error naming the JSON path and file).
        var kept: [(listener: String, error: String)]
    }

    /// Errors that stop the config: the listener has no good context to keep.
    struct Failure: Error, CustomStringConvertible {
        let errors: [String]
        var description: String { errors.joined(separator: "; ") }
    }

    private var contexts: [String: TLSServerContext] = [:]
    /// The last error per listener name (shown on `/config`), cleared by a good load.
    private let problems = Locked<[String: String]>([:])

    /// Builds the contexts of `config`; on success they become the ones later reloads fall back to.
    func build(_ config: CompiledConfig, nowSeconds: Int64) throws(Failure) -> Built {
        var built = Built(contexts: [], kept: [])
        var errors: [String] = []
        var next: [String: TLSServerContext] = [:]
        for (index, listener) in config.listeners.enumerated() {
            let name = listener.config.name
            guard let tls = listener.config.tls else {
                built.contexts.append(nil)
                continue
            }
            let previous = contexts[name]
            do throws(TLSBuildError) {
                let context = try Self.context(
                    tls, path: "listeners[\(index)].tls", ring: previous?.ticketKeys, now: nowSeconds)
                next[name] = context
                built.contexts.append(context)
            } catch {
                if let previous {
                    next[name] = previous
                    built.contexts.append(previous)
                    built.kept.append((name, error.description))
                } else {
                    errors.append(error.description)
                    built.contexts.append(nil)
                }
            }
        }
        guard errors.isEmpty else { throw Failure(errors: errors) }
        contexts = next
        problems.withLock { problems in
            problems = Dictionary(built.kept.map { ($0.listener, $0.error) }, uniquingKeysWith: { a, _ in a })
        }
        return built
    }

    /// The error that made `listener` keep an older certificate, if any (for `/config`).
    func problem(listener: String) -> String? { problems.withLock { $0[listener] } }

    struct TLSBuildError: Error, CustomStringConvertible {
        let description: String
    }

    /// Loads every pair and the client CA of one listener.
    static func context(
        _ tls: ListenerTLSConfig, path: String, ring: TicketKeyRing?, now: Int64
    ) throws(TLSBuildError) -> TLSServerContext {
        var pairs: [CertificatePair] = []
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
        do {
            return try TLSServerContext(certificates: pairs, options: options, ticketKeys: ring)
        } catch {
            let key = tls.clientCAFile == nil ? "" : ".client_ca_file"
            throw TLSBuildError(description: "\(path)\(key): \(error)")
        }
    }

    /// Wall-clock seconds (certificate validity is calendar time).
    static func wallClockSeconds() -> Int64 { Int64(time(nil)) }
}
