import MeshConfig

/// A listener's routes compiled into a segment trie, so matching costs the path's length, not the number of
/// routes (issue 17: 10,000 prefix routes made a linear scan 6× slower than one route).
///
/// Meaning is SPEC §3's first match wins: the trie finds every route whose path matches (exact, segment-aware
/// prefix, template), and of those the lowest index whose method, host and headers also match wins — the
/// same answer as `Router.match`'s scan, which stays as the reference the tests compare against.
///
/// Built once per config generation and immutable after; lookups allocate nothing.
public final class RouteTable: Sendable {
    /// One trie node: the routes that end here and its `{param}` child.
    struct Node: Sendable {
        /// Exact paths whose segments end at this node.
        var exact: [Int32] = []
        /// Prefixes ending here: they match any path that reaches this node.
        var prefix: [Int32] = []
        /// Templates whose segments end here.
        var template: [Int32] = []
        /// The child for a template's `{param}` segment (any non-empty segment), -1 when none.
        var parameter: Int32 = -1
    }

    /// A literal edge: the child of `parent` reached by the segment `keyBytes[keyStart..<keyStart+keyLength]`.
    struct Edge: Sendable {
        var hash: UInt64 = 0
        var parent: Int32 = -1
        var child: Int32 = -1
        var keyStart: Int32 = 0
        var keyLength: Int32 = 0
    }

    private let routes: [CompiledRoute]
    private let nodes: [Node]
    /// Open addressing, linear probing, at most half full; `parent == -1` marks an empty slot.
    private let edges: [Edge]
    private let keyBytes: [UInt8]

    public init(_ routes: [CompiledRoute]) {
        var builder = Builder()
        for (index, route) in routes.enumerated() { builder.add(route.path, index: Int32(index)) }
        self.routes = routes
        nodes = builder.nodes
        keyBytes = builder.keyBytes
        edges = Self.table(builder.edgeList)
    }

    /// The first route (lowest index) matching `request` on the normalized `path`, or nil.
    public func match(_ request: RequestView, path: UnsafeRawBufferPointer) -> CompiledRoute? {
        guard !routes.isEmpty, path.count > 0, path[0] == UInt8(ascii: "/") else { return nil }
        let host = Router.matchingHost(request)
        var best = Int32.max
        visit(node: 0, path: path, from: 0, request: request, host: host, best: &best)
        return best == .max ? nil : routes[Int(best)]
    }

    /// Offers every route ending at `node` to `best`, then follows the next segment (starting with the "/" at
    /// `from`, or the path's end) along its literal edge and the parameter edge.
    private func visit(
        node: Int32, path: UnsafeRawBufferPointer, from: Int, request: RequestView, host: UnsafeRawBufferPointer,
        best: inout Int32
    ) {
        let n = nodes[Int(node)]
        // A node is reached with the rest of the path empty or starting with "/": segment-aware by construction.
        offer(n.prefix, request, host, &best)
        guard from < path.count else {
            offer(n.exact, request, host, &best)
            offer(n.template, request, host, &best)
            return
        }
        let start = from + 1
        var end = start
        while end < path.count && path[end] != UInt8(ascii: "/") { end += 1 }
        let segment = UnsafeRawBufferPointer(rebasing: path[start..<end])
        if let child = child(of: node, segment) {
            visit(node: child, path: path, from: end, request: request, host: host, best: &best)
        }
        if n.parameter >= 0 && !segment.isEmpty {
            visit(node: n.parameter, path: path, from: end, request: request, host: host, best: &best)
        }
    }

    @inline(__always)
    private func offer(
        _ candidates: [Int32], _ request: RequestView, _ host: UnsafeRawBufferPointer, _ best: inout Int32
    ) {
        for index in candidates where index < best {
            let route = routes[Int(index)]
            if Router.methodMatches(route, request) && Router.hostMatches(route.host, host)
                && Router.headersMatch(route, request)
            {
                best = index
            }
        }
    }

    private func child(of parent: Int32, _ segment: UnsafeRawBufferPointer) -> Int32? {
        guard !edges.isEmpty else { return nil }
        let hash = Self.hash(parent, segment)
        let mask = edges.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let edge = edges[slot]
            if edge.parent < 0 { return nil }
            if edge.hash == hash && edge.parent == parent && Int(edge.keyLength) == segment.count
                && keyEquals(Int(edge.keyStart), segment)
            {
                return edge.child
            }
            slot = (slot + 1) & mask
        }
    }

    private func keyEquals(_ start: Int, _ segment: UnsafeRawBufferPointer) -> Bool {
        for k in 0..<segment.count where keyBytes[start + k] != segment[k] { return false }
        return true
    }

    /// FNV-1a over the parent id and the segment bytes.
    static func hash(_ parent: Int32, _ segment: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(UInt32(bitPattern: parent))
        h = h &* 0x100_0000_01b3
        for byte in segment { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return h
    }

    private static func table(_ list: [Edge]) -> [Edge] {
        guard !list.isEmpty else { return [] }
        var capacity = 8
        while capacity < list.count * 2 { capacity <<= 1 }
        var table = [Edge](repeating: Edge(), count: capacity)
        for edge in list {
            var slot = Int(truncatingIfNeeded: edge.hash) & (capacity - 1)
            while table[slot].parent >= 0 { slot = (slot + 1) & (capacity - 1) }
            table[slot] = edge
        }
        return table
    }

    /// Builds the trie from the routes' compiled paths.
    private struct Builder {
        var nodes = [Node()]
        var edgeList: [Edge] = []
        var keyBytes: [UInt8] = []
        /// Literal edges found so far, for reuse while building (allocation is fine here).
        var known: [EdgeKey: Int32] = [:]

        struct EdgeKey: Hashable {
            var parent: Int32
            var segment: [UInt8]
        }

        mutating func add(_ path: CompiledRoute.CompiledPath, index: Int32) {
            switch path {
            case .exact(let bytes):
                nodes[Int(walk(segments(bytes)))].exact.append(index)
            case .prefix(let bytes):
                // `/` is stored empty: it ends at the root and matches every path.
                nodes[Int(walk(bytes.isEmpty ? [] : segments(bytes)))].prefix.append(index)
            case .template(let parts):
                var node: Int32 = 0
                for part in parts {
                    if let literal = part {
                        node = literalChild(node, literal)
                    } else {
                        node = parameterChild(node)
                    }
                }
                nodes[Int(node)].template.append(index)
            }
        }

        /// "/a/b" → ["a", "b"]; "/" → [""]; "/a/" → ["a", ""]: the same split `visit` makes.
        func segments(_ path: [UInt8]) -> [[UInt8]] {
            guard path.first == UInt8(ascii: "/") else { return [path] }
            return path.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map(Array.init)
        }

        mutating func walk(_ segments: [[UInt8]]) -> Int32 {
            var node: Int32 = 0
            for segment in segments { node = literalChild(node, segment) }
            return node
        }

        mutating func literalChild(_ parent: Int32, _ segment: [UInt8]) -> Int32 {
            let key = EdgeKey(parent: parent, segment: segment)
            if let existing = known[key] { return existing }
            let child = Int32(nodes.count)
            nodes.append(Node())
            let hash = segment.withUnsafeBytes { RouteTable.hash(parent, $0) }
            edgeList.append(
                Edge(
                    hash: hash, parent: parent, child: child, keyStart: Int32(keyBytes.count),
                    keyLength: Int32(segment.count)))
            keyBytes += segment
            known[key] = child
            return child
        }

        mutating func parameterChild(_ parent: Int32) -> Int32 {
            if nodes[Int(parent)].parameter >= 0 { return nodes[Int(parent)].parameter }
            let child = Int32(nodes.count)
            nodes.append(Node())
            nodes[Int(parent)].parameter = child
            return child
        }
    }
}
