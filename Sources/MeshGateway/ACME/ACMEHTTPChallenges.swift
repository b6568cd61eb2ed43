import CLinux
import MeshEventLoop
import MeshHTTP1
import MeshProxy
import MeshSync
import Synchronization

/// http-01 answers (RFC 8555 §8.3) of every ACME listener, answered on the gateway's plaintext listeners at
/// `/.well-known/acme-challenge/<token>`. Written by the ACME threads, read by the workers.
///
/// While any ACME listener validates with http-01, that path prefix belongs to ACME on plaintext listeners: an
/// exact token being served gets its key authorization, any other path under the prefix a 404. Other paths, and
/// every path when no listener uses http-01, go to the routes as before.
enum ACMEHTTPChallenges {
    static let prefix: [UInt8] = Array("/.well-known/acme-challenge/".utf8)
    /// Listeners using http-01 now (the prefix is claimed while above 0).
    static let listeners = Atomic<Int>(0)
    private static let answers = Locked<[String: String]>([:])

    static func serve(token: String, keyAuthorization: String) { answers.withLock { $0[token] = keyAuthorization } }
    static func withdraw(token: String) { _ = answers.withLock { $0.removeValue(forKey: token) } }

    /// Whether a request for `path` on a plaintext listener is ACME's to answer (cheap: no lock).
    static func claims(_ path: UnsafeRawBufferPointer) -> Bool {
        path.count >= prefix.count && listeners.load(ordering: .relaxed) > 0
            && path.prefix(prefix.count).elementsEqual(prefix)
    }

    /// The key authorization for the token at the end of `path`, nil when no such token is being served.
    static func answer(_ path: UnsafeRawBufferPointer) -> String? {
        let token = String(decoding: path.dropFirst(prefix.count), as: UTF8.self)
        return answers.withLock { $0[token] }
    }
}
