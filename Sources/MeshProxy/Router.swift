import MeshHTTP1

/// First-match routing over a listener's compiled routes (SPEC §3 "Routes").
public enum Router {
    /// The first route whose method, host, path and header conditions all hold, or nil (→ 404).
    ///
    /// - Parameters:
    ///   - path: the normalized path (dot-segments removed, unreserved escapes decoded).
    public static func match(_ routes: [CompiledRoute], request: RequestView, path: UnsafeRawBufferPointer)
        -> CompiledRoute?
    {
        let host = matchingHost(request)
        for route in routes
        where methodMatches(route, request) && hostMatches(route.host, host) && pathMatches(route.path, path)
            && headersMatch(route, request)
        {
            return route
        }
        return nil
    }

    /// The request's host as routes match it: without port, and without the trailing dot of a fully
    /// qualified name (`api.example.com.` is the same DNS name and must not slip past a host match).
    static func matchingHost(_ request: RequestView) -> UnsafeRawBufferPointer {
        let host = Bytes.hostWithoutPort(request.authority)
        if host.count > 1 && host[host.count - 1] == UInt8(ascii: ".") {
            return UnsafeRawBufferPointer(rebasing: host[0..<(host.count - 1)])
        }
        return host
    }

    @inline(__always)
    static func methodMatches(_ route: CompiledRoute, _ request: RequestView) -> Bool {
        if route.methodMask == UInt16.max { return true }
        if request.head.method != .other { return route.methodMask & (1 << request.head.method.rawValue) != 0 }
        for other in route.otherMethods where Bytes.equals(request.method, other) { return true }
        return false
    }

    static func hostMatches(_ match: CompiledRoute.CompiledHost?, _ host: UnsafeRawBufferPointer) -> Bool {
        switch match {
        case nil: return true
        case .exact(let name): return Bytes.equalsIgnoringCase(host, name)
        case .suffix(let suffix):
            // `*.example.com` matches `a.example.com`, not `example.com` (SPEC §4).
            guard host.count > suffix.count else { return false }
            return Bytes.equalsIgnoringCase(
                UnsafeRawBufferPointer(rebasing: host[(host.count - suffix.count)...]), suffix)
        }
    }

    static func pathMatches(_ match: CompiledRoute.CompiledPath, _ path: UnsafeRawBufferPointer) -> Bool {
        switch match {
        case .exact(let exact):
            return Bytes.equals(path, exact)
        case .prefix(let prefix):
            // Segment-aware: `/api` matches `/api` and `/api/x`, not `/apix`.
            guard Bytes.hasPrefix(path, prefix) else { return false }
            return path.count == prefix.count || path[prefix.count] == UInt8(ascii: "/")
        case .template(let segments):
            return templateMatches(segments, path)
        }
    }

    static func templateMatches(_ segments: [[UInt8]?], _ path: UnsafeRawBufferPointer) -> Bool {
        var position = 0
        for segment in segments {
            guard position < path.count, path[position] == UInt8(ascii: "/") else { return false }
            position += 1
            var end = position
            while end < path.count && path[end] != UInt8(ascii: "/") { end += 1 }
            let actual = UnsafeRawBufferPointer(rebasing: path[position..<end])
            if let literal = segment {
                guard Bytes.equals(actual, literal) else { return false }
            } else if actual.isEmpty {
                return false
            }
            position = end
        }
        return position == path.count
    }

    static func headersMatch(_ route: CompiledRoute, _ request: RequestView) -> Bool {
        for (name, value) in route.headerMatches {
            guard let actual = request.firstValue(named: name), Bytes.equals(actual, value) else { return false }
        }
        return true
    }
}
