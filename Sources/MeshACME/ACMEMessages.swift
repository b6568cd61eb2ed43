import MeshHTTP1
import MeshJSON

/// The two challenge types meshgate answers (RFC 8555 §8.3, RFC 8737).
public enum ACMEChallengeType: String, Sendable, Equatable {
    case http01 = "http-01"
    case tlsALPN01 = "tls-alpn-01"
}

/// One HTTP request the client wants made. `body` nil: no body (GET, HEAD).
public struct ACMERequest: Sendable, Equatable {
    public var method: String
    public var url: String
    public var body: [UInt8]?

    public init(method: String, url: String, body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.body = body
    }
}

/// A complete response handed back to the client (the shared `HTTPResponseMessage`: MeshBlockingHTTP reads it).
public typealias ACMEResponse = HTTPResponseMessage

extension HTTPResponseMessage {
    /// `Retry-After` in seconds (delta form; an HTTP date is read as "no hint").
    public var retryAfterSeconds: Int64? { header("retry-after").flatMap { Int64($0.trimmingSpaces) } }
}

/// An RFC 7807 problem document, as ACME servers send them (RFC 8555 §6.7), or a local failure in the same shape.
public struct ACMEProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// e.g. `urn:ietf:params:acme:error:badNonce`; for local failures `meshgate:<what>`.
    public var type: String
    public var detail: String
    /// The HTTP status the problem came with (0 for local ones).
    public var status: Int

    public init(type: String, detail: String, status: Int = 0) {
        self.type = type
        self.detail = detail
        self.status = status
    }

    public var description: String { status == 0 ? "\(type): \(detail)" : "\(type) (\(status)): \(detail)" }

    public static let badNonce = "urn:ietf:params:acme:error:badNonce"

    /// The problem of an error response; a body that is no problem document still gives its status and text.
    static func from(_ response: ACMEResponse) -> ACMEProblem {
        if let node = try? JSONReader.parse(response.body), let type = node["type"]?.stringValue {
            return ACMEProblem(type: type, detail: node["detail"]?.stringValue ?? "", status: response.status)
        }
        let text = String(decoding: response.body.prefix(200), as: UTF8.self)
        return ACMEProblem(type: "meshgate:http-\(response.status)", detail: text, status: response.status)
    }

    /// A problem embedded in a challenge or order object (`error` member).
    static func from(_ node: JSONNode?) -> ACMEProblem? {
        guard let node, let type = node["type"]?.stringValue else { return nil }
        return ACMEProblem(
            type: type, detail: node["detail"]?.stringValue ?? "", status: Int(node["status"]?.int64Value ?? 0))
    }

    static func local(_ what: String, _ detail: String) -> ACMEProblem {
        ACMEProblem(type: "meshgate:\(what)", detail: detail)
    }
}

/// A challenge answer the caller must serve before the client tells the server to validate.
public struct ACMEChallengeAnswer: Sendable, Equatable {
    public var type: ACMEChallengeType
    public var domain: String
    public var token: String
    /// `token "." thumbprint`: the http-01 body; its SHA-256 goes into the tls-alpn-01 certificate.
    public var keyAuthorization: String
}

/// What an order ends with: the chain as the server sent it (PEM, leaf first) and its life.
public struct ACMEIssued: Sendable {
    public var chainPEM: [UInt8]
    public var notBefore: Int64
    public var notAfter: Int64
    /// SPEC §12: two thirds into the certificate's life.
    public var renewAt: Int64 { ACMECertificates.renewalTime(notBefore: notBefore, notAfter: notAfter) }
}

extension String {
    var trimmingSpaces: String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
