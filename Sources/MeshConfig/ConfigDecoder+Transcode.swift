import MeshJSON
import MeshProtobuf
import MeshTranscode

/// A route's `grpc_transcode`: the descriptor set is read and checked here, so `meshgate check` and a reload
/// name the file and what is wrong with it (at the key's line) instead of failing requests later.
extension ConfigDecoder {
    static let transcodeKeys = ["descriptor_set", "method", "body", "response_body"]

    func decodeTranscode(
        _ member: JSONMember, _ path: String, match: MatchConfig, upstream: String, _ context: RouteContext
    ) -> TranscodeConfig? {
        guard let object = object(member.value, path, allowed: Self.transcodeKeys) else { return nil }
        if !upstream.isEmpty, context.upstreams.contains(upstream), !context.h2Upstreams.contains(upstream) {
            error(
                path, member.keyPosition,
                "grpc_transcode calls gRPC, which needs HTTP/2: upstream \(quoted(upstream)) must have"
                    + " \"protocol\": \"h2c\" or \"h2\"")
        }
        guard let fileMember = required(object, "descriptor_set"),
            let file = string(fileMember.value, object.path("descriptor_set")),
            let pool = descriptorPool(file, object.path("descriptor_set"), fileMember.value.position)
        else { return nil }
        let body = string(object, "body", nonEmpty: false)
        let responseBody = string(object, "response_body", nonEmpty: false)
        guard let methodMember = object["method"] else {
            for key in ["body", "response_body"] where object[key] != nil {
                error(
                    object.path(key), object[key]?.keyPosition,
                    "\(quoted(key)) applies only with \"method\" (without it, each method's google.api.http rule"
                        + " says how its body maps)")
            }
            return wholeSet(pool, file: file, object.path("descriptor_set"), fileMember.value.position)
        }
        guard let name = string(methodMember.value, object.path("method")) else { return nil }
        let at = object.path("method")
        guard let method = Self.method(named: name, in: pool) else {
            let known = pool.methods.keys.sorted()
            let hint = Suggestion.closest(to: "/" + name, in: known).map { " (did you mean \(quoted($0))?)" } ?? ""
            error(
                at, methodMember.value.position,
                "\(quoted(file)) has no method \(quoted(name))\(hint); it has: \(known.joined(separator: ", "))")
            return nil
        }
        guard let binding = routeBinding(match, body: body ?? "", responseBody: responseBody ?? "", at, methodMember)
        else { return nil }
        do {
            let transcoder = try Transcoder(pool: pool, method: method, bindings: [binding])
            return TranscodeConfig(
                descriptorSet: file, method: name, body: body, responseBody: responseBody,
                table: TranscoderTable(single: transcoder))
        } catch {
            self.error(at, methodMember.value.position, error.description)
            return nil
        }
    }

    /// The descriptor set at `file`, or nil with the error recorded.
    private func descriptorPool(_ file: String, _ path: String, _ position: JSONPosition?) -> DescriptorPool? {
        let bytes: [UInt8]
        switch ConfigLoader.readFile(file) {
        case .success(let read): bytes = read
        case .failure(let failure):
            error(path, position, "\(quoted(file)): \(failure.message)")
            return nil
        }
        do {
            return try DescriptorPool(descriptorSet: bytes)
        } catch {
            self.error(
                path, position,
                "\(quoted(file)) is not a descriptor set (make one with protoc --include_imports"
                    + " --descriptor_set_out=FILE): \(error)")
            return nil
        }
    }

    /// Every method of the set with a `google.api.http` rule.
    private func wholeSet(_ pool: DescriptorPool, file: String, _ path: String, _ position: JSONPosition?)
        -> TranscodeConfig?
    {
        do {
            let table = try TranscoderTable(pool: pool)
            guard !table.transcoders.isEmpty else {
                error(
                    path, position,
                    "no method in \(quoted(file)) has a google.api.http rule: name one with \"method\" (and match"
                        + " the route by \"path\" or \"path_template\" and one method)")
                return nil
            }
            return TranscodeConfig(descriptorSet: file, table: table)
        } catch {
            self.error(path, position, "\(quoted(file)): \(error.description)")
            return nil
        }
    }

    /// `pkg.Service/Method`, `/pkg.Service/Method` or `pkg.Service.Method`.
    static func method(named name: String, in pool: DescriptorPool) -> MethodDescriptor? {
        if name.hasPrefix("/") { return pool.method(path: name) }
        if name.contains("/") { return pool.method(path: "/" + name) }
        guard let dot = name.lastIndex(of: ".") else { return nil }
        return pool.method(path: "/" + name[..<dot] + "/" + name[name.index(after: dot)...])
    }

    /// With `method`, the REST side is the route's own match: one HTTP method and an exact path or template.
    private func routeBinding(
        _ match: MatchConfig, body: String, responseBody: String, _ path: String, _ member: JSONMember
    ) -> HTTPBinding? {
        guard match.methods.count == 1, case let (kind, text) = ConfigRenderer.pathText(match.path), kind != "path_prefix"
        else {
            error(
                path, member.keyPosition,
                "with \"method\", the route's match gives the REST binding: exactly one of \"methods\" and a"
                    + " \"path\" or \"path_template\" (not \"path_prefix\")")
            return nil
        }
        do {
            return HTTPBinding(
                httpMethod: match.methods[0], template: try PathTemplate(text), body: body, responseBody: responseBody)
        } catch {
            self.error(path, member.keyPosition, "match path \(quoted(text)) is not a gRPC path template: \(error)")
            return nil
        }
    }
}
