import MeshConfig
import MeshHTTP1

/// A route prepared for matching and rewriting on bytes: every string the hot path compares against is
/// turned into lowercase `[UInt8]` once, when the config is loaded.
public final class CompiledRoute: Sendable {
    public let config: RouteConfig
    /// Index of the route's upstream in `CompiledConfig.upstreams`.
    public let upstreamIndex: Int
    /// Index of the route within its listener (for metrics handles).
    public let index: Int
    let methodMask: UInt16
    let otherMethods: [[UInt8]]
    let path: CompiledPath
    let host: CompiledHost?
    let headerMatches: [(name: [UInt8], value: [UInt8])]
    let stripPrefix: [UInt8]?
    let addPrefix: [UInt8]?
    let hostRewrite: [UInt8]?
    let requestEdits: CompiledHeaderEdits
    let responseEdits: CompiledHeaderEdits
    public let nameBytes: [UInt8]

    enum CompiledPath: Sendable {
        case exact([UInt8])
        case prefix([UInt8])
        case template([[UInt8]?])
    }

    enum CompiledHost: Sendable {
        case exact([UInt8])
        case suffix([UInt8])
    }

    public init(config: RouteConfig, index: Int, upstreamIndex: Int) {
        self.config = config
        self.index = index
        self.upstreamIndex = upstreamIndex
        var mask: UInt16 = 0
        var others: [[UInt8]] = []
        for name in config.match.methods {
            if let known = CompiledRoute.knownMethod(name) {
                mask |= 1 << known.rawValue
            } else {
                others.append(Array(name.utf8))
            }
        }
        methodMask = config.match.methods.isEmpty ? UInt16.max : mask
        otherMethods = others
        switch config.match.path {
        case .exact(let p): path = .exact(Array(p.utf8))
        case .prefix(let p): path = .prefix(p == "/" ? [] : Array(p.utf8))
        case .template(let segments, _): path = .template(segments.map { $0.map { Array($0.utf8) } })
        }
        switch config.match.host {
        case .exact(let h): host = .exact(Array(h.lowercased().utf8))
        case .wildcardSuffix(let s): host = .suffix(Array(s.lowercased().utf8))
        case nil: host = nil
        }
        headerMatches = config.match.headers.map { (Array($0.name.lowercased().utf8), Array($0.value.utf8)) }
        stripPrefix = config.rewrite?.stripPrefix.map { Array($0.utf8) }
        addPrefix = config.rewrite?.addPrefix.map { Array($0.utf8) }
        hostRewrite = config.rewrite?.host.map { Array($0.utf8) }
        requestEdits = CompiledHeaderEdits(config.requestHeaders)
        responseEdits = CompiledHeaderEdits(config.responseHeaders)
        nameBytes = Array(config.name.utf8)
    }

    static func knownMethod(_ name: String) -> HTTPMethod? {
        switch name {
        case "GET": .get
        case "HEAD": .head
        case "POST": .post
        case "PUT": .put
        case "DELETE": .delete
        case "OPTIONS": .options
        case "PATCH": .patch
        case "CONNECT": .connect
        case "TRACE": .trace
        default: nil
        }
    }
}

/// `request_headers` / `response_headers` as bytes.
struct CompiledHeaderEdits: Sendable {
    let additions: [(name: [UInt8], value: [UInt8])]
    /// Names removed from the incoming message: the `remove` list plus every `set` name (set replaces).
    let remove: [[UInt8]]

    init(_ config: HeaderEditsConfig) {
        additions = config.set.map { (Array($0.name.lowercased().utf8), Array($0.value.utf8)) }
        remove = config.remove.map { Array($0.lowercased().utf8) } + additions.map(\.name)
    }

    var isEmpty: Bool { additions.isEmpty && remove.isEmpty }

    @inline(__always)
    func removes(_ name: UnsafeRawBufferPointer) -> Bool {
        for candidate in remove where Bytes.equalsIgnoringCase(name, candidate) { return true }
        return false
    }
}
