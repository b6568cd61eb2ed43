import MeshProtobuf

/// One REST mapping of a method: `google.api.http`'s rule or one of its `additional_bindings`, with the
/// template parsed.
public struct HTTPBinding: Sendable, Equatable {
    /// Upper-case HTTP method (`GET`, `POST`, a custom kind as written).
    public var httpMethod: String
    public var template: PathTemplate
    /// "" (no body), "*" (the whole request message), or a top-level field name.
    public var body: String
    /// "" (the whole response message) or a top-level field of the response.
    public var responseBody: String

    public init(httpMethod: String, template: PathTemplate, body: String = "", responseBody: String = "") {
        self.httpMethod = httpMethod
        self.template = template
        self.body = body
        self.responseBody = responseBody
    }

    /// The rule and its additional bindings, in that order.
    /// - Throws: `.invalidBinding` naming the template that does not parse.
    public static func all(from rule: HttpRule) throws(TranscodeError) -> [HTTPBinding] {
        var out: [HTTPBinding] = []
        for r in [rule] + rule.additionalBindings {
            let template: PathTemplate
            do { template = try PathTemplate(r.path) } catch {
                throw .invalidBinding("\(r.path.debugDescription): \(error)")
            }
            out.append(
                HTTPBinding(
                    httpMethod: r.method.uppercased(), template: template, body: r.body, responseBody: r.responseBody))
        }
        return out
    }
}

/// A binding chosen for a request, with the path's variable values.
public struct MatchedBinding: Sendable, Equatable {
    public var binding: HTTPBinding
    public var variables: [PathBinding]
}

extension [HTTPBinding] {
    /// The binding for `httpMethod` and `path` (no query string). When several match, the one with more
    /// literal segments wins (`/v1/users:search` over `/v1/{name}`), then the earlier one.
    public func match(httpMethod: String, path: String) -> MatchedBinding? {
        var best: MatchedBinding?
        for b in self where b.httpMethod == httpMethod {
            guard let vars = b.template.match(path) else { continue }
            if let current = best, current.binding.template.literalCount >= b.template.literalCount { continue }
            best = MatchedBinding(binding: b, variables: vars)
        }
        return best
    }
}

/// A request target split at the first `?`: `/v1/books?x=1` → (`/v1/books`, `x=1`); no `?` → an empty query.
public func splitRequestTarget(_ target: String) -> (path: String, query: String) {
    guard let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (target, "") }
    return (String(target[..<q]), String(target[target.utf8.index(after: q)...]))
}
