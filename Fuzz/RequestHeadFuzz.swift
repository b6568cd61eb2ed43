// libFuzzer target for the upstream request head (SPEC §4 "The head sent upstream is written by the gateway").
//
// Input: 4 control bytes choosing the route's rewrite / request_headers / JWT edits and the head buffer size,
// then a client request. Requests RequestParser refuses are skipped (the gateway answers them 400). The route goes
// through the real config path (ConfigLoader.parse → CompiledConfig), so only configs validation accepts are used.
// The written head must parse back to the client's request with the gateway's framing and nothing smuggled.
// The expectations live in `HeadRules` below so they can follow the builder as SPEC §4 evolves.

import Glibc
import MeshConfig
import MeshHTTP1
import MeshProxy

// MARK: - What the upstream head must look like

/// Field names the gateway writes itself (or drops) whatever the client sent; a client copy must never pass.
enum HeadRules {
    static let userClaim = Array("x-user-id".utf8)
    static let scopeClaim = Array("x-scope".utf8)
    static let tenantClaim = Array("x-tenant".utf8)
    /// Framing, routing and gateway-set fields (SPEC §3, §4, §5): never copied from the client.
    static let gatewayOwned: [[UInt8]] = [
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te",
        "trailer", "upgrade", "expect", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-request-id",
        "traceparent", "tracestate", "x-meshgate-deadline-ms", "x-user-id", "x-scope", "x-tenant",
        "x-forwarded-client-cert",
    ].map { Array($0.utf8) }

    static func isGatewayOwned(_ name: [UInt8]) -> Bool { gatewayOwned.contains(name) }

    /// A name that reads as a gateway-owned one once `_` is taken for `-` (many upstream frameworks, CGI and
    /// nginx among them, fold the two): a second way to smuggle a trusted field (STYLE "Traps").
    static func spoofsGatewayOwned(_ name: [UInt8]) -> Bool {
        name.contains(UInt8(ascii: "_")) && isGatewayOwned(name.map { $0 == UInt8(ascii: "_") ? 0x2D : $0 })
    }
}

// MARK: - Routes through the real config path

/// The edits one input chooses; `key` identifies the compiled route in the cache.
struct RouteEdits: Hashable {
    static let strips: [String?] = [nil, "/a", "/api", "/a/b"]
    static let adds: [String?] = [nil, "/v1", "/x/y", "/"]
    static let hosts: [String?] = [nil, "up.internal", "up.internal:8443"]
    /// `request_headers.set` candidates: ordinary names, then names the gateway owns (validation may refuse those).
    static let setNames = [
        "x-env", "x-user-id", "content-length", "host", "transfer-encoding", "x-request-id", "connection", "x-debug",
    ]
    static let removeNames = ["x-debug", "x-env", "content-type", "authorization", "x-user-id", "cookie"]

    var strip: Int, add: Int, host: Int, setMask: UInt8, removeMask: UInt8, jwt: Bool

    init(_ c: inout ControlBytes) {
        let a = c.byte()
        strip = Int(a & 3)
        add = Int(a >> 2 & 3)
        host = Int(a >> 4 & 3) % 3
        jwt = a & 0x40 != 0
        // FUZZ_HEAD_ORDINARY_SETS=1 keeps `set` to ordinary names, to look past that known failure for others.
        setMask = c.byte() & (ordinarySetsOnly ? 0x81 : 0xFF)
        removeMask = c.byte() & 0x3F
    }

    var setFields: [(String, String)] {
        Self.setNames.indices.filter { setMask & (1 << $0) != 0 }.map { (Self.setNames[$0], "cfg-\($0)") }
    }
    var removed: [String] {
        Self.removeNames.indices.filter { removeMask & (1 << $0) != 0 }.map { Self.removeNames[$0] }
    }

    /// routes.json with route 0 carrying these edits; route 1 makes `x-user-id`/`x-scope` listener-wide claim targets.
    var configJSON: String {
        var route = #"{"name":"r","match":{"path_prefix":"/"},"upstream":"up""#
        route +=
            jwt
            ? #","jwt":{"provider":"p","claims_to_headers":{"sub":"x-user-id","tenant":"x-tenant"}}"#
            : #","public":true"#
        let rewrite = [
            ("strip_prefix", Self.strips[strip]), ("add_prefix", Self.adds[add]), ("host", Self.hosts[host]),
        ]
        .compactMap { k, v in v.map { "\"\(k)\":\"\($0)\"" } }
        if !rewrite.isEmpty { route += #","rewrite":{"# + rewrite.joined(separator: ",") + "}" }
        let set = setFields.map { "\"\($0.0)\":\"\($0.1)\"" }.joined(separator: ",")
        let remove = removed.map { "\"\($0)\"" }.joined(separator: ",")
        route += #","request_headers":{"set":{"# + set + #"},"remove":["# + remove + "]}}"
        let claims =
            #"{"name":"claims","match":{"path_prefix":"/claims"},"upstream":"up","jwt":{"provider":"p","#
            + #""claims_to_headers":{"sub":"x-user-id","scope":"x-scope"}}}"#
        return #"{"version":1,"listeners":[{"name":"edge","address":"127.0.0.1:8080","routes":["#
            + route + "," + claims + #"]}],"upstreams":{"up":{"endpoints":["127.0.0.1:9000"]}},"#
            + #""jwt_providers":{"p":{"issuer":"i","audiences":["a"],"secret_env":"FUZZ_SECRET","#
            + #""algorithms":["HS256"]}}}"#
    }
}

let ordinarySetsOnly = getenv("FUZZ_HEAD_ORDINARY_SETS").map { String(cString: $0) == "1" } ?? false

/// Compiled routes by edits; nil when validation refused the config (such a route never runs).
nonisolated(unsafe) var routeCache: [RouteEdits: CompiledRoute?] = [:]
nonisolated(unsafe) var validatedBaseConfig = false

func compiledRoute(_ edits: RouteEdits) -> CompiledRoute? {
    if let cached = routeCache[edits] { return cached }
    var route: CompiledRoute? = nil
    switch ConfigLoader.parse(Array(edits.configJSON.utf8), environment: ["FUZZ_SECRET": "fuzz-secret"]) {
    case .success(let config): route = CompiledConfig(config, generation: 1).listeners[0].routes[0]
    case .failure(let errors):
        // The plain route must load, or every input would be skipped and the target would test nothing.
        check(edits.setMask != 0 || edits.removeMask != 0 || validatedBaseConfig, "base config loads: \(errors)")
    }
    if edits.setMask == 0 && edits.removeMask == 0 && route != nil { validatedBaseConfig = true }
    routeCache[edits] = route
    return route
}

// MARK: - The property

/// The gateway's own values for the fields it sets.
enum GatewayValues {
    static let clientIP = Array("10.1.2.3".utf8)
    static let endpoint = Array("127.0.0.1:9000".utf8)
    static let traceparent = Array("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".utf8)
    static let tracestate = Array("gw=1".utf8)
    static let requestID = Array("gw-request-id".utf8)
    static let claimLines = Array("x-user-id: gw-user\r\nx-tenant: gw-tenant\r\n".utf8)
}

/// One header field as bytes.
struct Field: Equatable {
    var name: [UInt8]  // lowercased
    var value: [UInt8]
}

func fields(_ view: RequestView) -> [Field] {
    (0..<view.head.headerCount).map { Field(name: lowercased(view.name($0)), value: Array(view.value($0))) }
}

/// SPEC §3: strip_prefix (segment-aware), then add_prefix; an emptied path becomes `/`.
func expectedPath(_ normalized: [UInt8], _ edits: RouteEdits) -> [UInt8] {
    var rest = normalized
    if let strip = RouteEdits.strips[edits.strip].map({ Array($0.utf8) }), normalized.starts(with: strip),
        normalized.count == strip.count || normalized[strip.count] == UInt8(ascii: "/")
    {
        rest = Array(normalized[strip.count...])
    }
    let path = (RouteEdits.adds[edits.add].map { Array($0.utf8) } ?? []) + rest
    return path.isEmpty ? Array("/".utf8) : path
}

/// Normalizes like the gateway does before routing; nil when the gateway would answer 400.
func normalizedPath(_ view: RequestView) -> [UInt8]? {
    if view.head.form == .asterisk { return Array("*".utf8) }
    if view.head.pathLength == 0 { return Array("/".utf8) }
    var out = [UInt8](repeating: 0, count: Int(view.head.pathLength) + 1)
    let result = out.withUnsafeMutableBytes { PathNormalizer.normalize(view.rawPath, into: $0) }
    guard case .normalized(let length) = result else { return nil }
    return Array(out[0..<length])
}

func checkHead(
    _ written: UnsafeRawBufferPointer, client: RequestView, normalized: [UInt8], edits: RouteEdits, deadline: Int
) {
    var storage = [HTTPHeaderField](repeating: .empty, count: 256)
    storage.withUnsafeMutableBufferPointer { headers in
        var parser = RequestParser(
            limits: HTTPLimits(maxHeaderBytes: 1 << 20, maxHeaderCount: 256, maxURIBytes: 1 << 20))
        guard case .complete(let head) = parser.parse(written, headers: headers) else {
            check(false, "upstream head does not parse: \(parser.parse(written, headers: headers)) \(show(written))")
            return
        }
        check(head.headLength == written.count, "bytes after the head (a second request?): \(show(written))")
        let out = RequestView(buffer: written, headers: headers, head: head)
        checkLine(out, client: client, normalized: normalized, edits: edits)
        check(head.framing == client.head.framing, "framing \(head.framing) != client's \(client.head.framing)")
        checkFields(fields(out), client: client, edits: edits, deadline: deadline, upstreamHead: show(written))
    }
}

func checkLine(_ out: RequestView, client: RequestView, normalized: [UInt8], edits: RouteEdits) {
    check(Array(out.method) == Array(client.method), "method \(show(out.method)) != \(show(client.method))")
    let target = Array(out.bytes(out.head.targetStart, out.head.targetLength))
    let expected = expectedPath(normalized, edits) + Array(client.query)
    check(target == expected, "target \(show(target)) != expected \(show(expected))")
    check(out.head.version == .http11, "upstream requests are HTTP/1.1")
}

/// Exactly one of `name` with `value`.
func checkOne(_ fields: [Field], _ name: String, _ value: [UInt8], _ head: String) {
    let found = fields.filter { $0.name == Array(name.utf8) }
    check(
        found.count == 1 && found[0].value == value,
        "\(name) must be exactly \(show(value)), got \(found.map { show($0.value) }) in \(head)")
}

func checkFields(_ out: [Field], client: RequestView, edits: RouteEdits, deadline: Int, upstreamHead: String) {
    let authority = Array(client.authority)
    let host =
        RouteEdits.hosts[edits.host].map { Array($0.utf8) } ?? (authority.isEmpty ? GatewayValues.endpoint : authority)
    checkOne(out, "host", host, upstreamHead)
    checkOne(out, "x-request-id", GatewayValues.requestID, upstreamHead)
    checkOne(out, "traceparent", GatewayValues.traceparent, upstreamHead)
    checkOne(out, "tracestate", GatewayValues.tracestate, upstreamHead)
    checkOne(out, "x-meshgate-deadline-ms", Array(String(deadline).utf8), upstreamHead)
    checkOne(out, "x-forwarded-proto", Array("http".utf8), upstreamHead)
    if authority.isEmpty {
        check(!out.contains { $0.name == Array("x-forwarded-host".utf8) }, "x-forwarded-host without an authority")
    } else {
        checkOne(out, "x-forwarded-host", authority, upstreamHead)
    }
    let xff = out.filter { $0.name == Array("x-forwarded-for".utf8) }
    check(
        xff.count == 1 && xff[0].value.reversed().starts(with: GatewayValues.clientIP.reversed()),
        "x-forwarded-for ends with the client: \(upstreamHead)")
    checkFraming(out, client: client, head: upstreamHead)
    checkClaims(out, edits: edits, head: upstreamHead)
    checkHopByHop(out, client: client, head: upstreamHead)
    checkOrdinary(out, client: client, edits: edits, head: upstreamHead)
    for field in out {
        check(
            !HeadRules.spoofsGatewayOwned(field.name),
            "`_` spelling of a trusted field passed: \(show(field.name)) in \(upstreamHead)")
    }
}

/// The gateway writes its own framing from the parsed request (SPEC §4): one canonical `content-length` or one
/// `transfer-encoding: chunked`, never the client's lines.
func checkFraming(_ out: [Field], client: RequestView, head: String) {
    let lengths = out.filter { $0.name == Array("content-length".utf8) }
    let codings = out.filter { $0.name == Array("transfer-encoding".utf8) }
    switch client.head.framing {
    case .contentLength(let n):
        checkOne(out, "content-length", Array(String(n).utf8), head)
        check(codings.isEmpty, "transfer-encoding with a length: \(head)")
    case .chunked:
        checkOne(out, "transfer-encoding", Array("chunked".utf8), head)
        check(lengths.isEmpty, "content-length with chunked: \(head)")
    default:
        check(lengths.isEmpty && codings.isEmpty, "framing fields on a request without a body: \(head)")
    }
}

/// Claim targets carry only the verified values (SPEC §3 "removed first, always"), public routes included.
func checkClaims(_ out: [Field], edits: RouteEdits, head: String) {
    if edits.jwt {
        checkOne(out, "x-user-id", Array("gw-user".utf8), head)
        checkOne(out, "x-tenant", Array("gw-tenant".utf8), head)
    } else {
        check(
            !out.contains { $0.name == HeadRules.userClaim || $0.name == HeadRules.tenantClaim },
            "claim header on a public route: \(head)")
    }
    check(!out.contains { $0.name == HeadRules.scopeClaim }, "listener-wide claim target x-scope passed: \(head)")
}

/// No hop-by-hop field, except the gateway's own `connection: upgrade` + `upgrade` for an upgrade request, and
/// its own `transfer-encoding: chunked` for a chunked body.
func checkHopByHop(_ out: [Field], client: RequestView, head: String) {
    for field in out {
        switch String(decoding: field.name, as: UTF8.self) {
        case "connection":
            check(client.head.upgrade && field.value == Array("upgrade".utf8), "connection forwarded: \(head)")
        case "upgrade":
            check(
                client.head.upgrade && field.value == client.firstValue(of: .upgrade).map(Array.init),
                "upgrade: \(head)")
        case "transfer-encoding":
            check(client.head.framing == .chunked && field.value == Array("chunked".utf8), "transfer-encoding: \(head)")
        case "keep-alive", "proxy-connection", "te", "trailer", "expect":
            check(false, "hop-by-hop \(show(field.name)) forwarded: \(head)")
        default: break
        }
    }
}

/// Every other client field arrives unchanged and in order; nothing else does, except the route's `set` fields.
func checkOrdinary(_ out: [Field], client: RequestView, edits: RouteEdits, head: String) {
    let setNames = edits.setFields.map { Array($0.0.utf8) }
    let removed = edits.removed.map { Array($0.utf8) } + setNames
    let connectionNamed = fields(client).filter { $0.name == Array("connection".utf8) }.flatMap { field in
        field.value.split(separator: UInt8(ascii: ",")).map { lowercased($0.filter { $0 != 0x20 && $0 != 0x09 }) }
    }
    let expected = fields(client).filter {
        !HeadRules.isGatewayOwned($0.name) && !removed.contains($0.name) && !connectionNamed.contains($0.name)
            && !HeadRules.spoofsGatewayOwned($0.name)
    }
    let ordinary = out.filter { !HeadRules.isGatewayOwned($0.name) && !setNames.contains($0.name) }
    check(
        ordinary == expected,
        "client fields \(expected.map { show($0.name) }) became \(ordinary.map { show($0.name) }) in \(head)")
    for (name, value) in edits.setFields where !HeadRules.isGatewayOwned(Array(name.utf8)) {
        checkOne(out, name, Array(value.utf8), head)
    }
}

// MARK: - Entry point

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    var control = ControlBytes(UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : count))
    let edits = RouteEdits(&control)
    let sizeChoice = control.byte()
    guard let route = compiledRoute(edits) else { return 0 }
    // A copy of exactly the request's size, so AddressSanitizer sees any read past it.
    let request = Array(control.rest)
    var storage = [HTTPHeaderField](repeating: .empty, count: 64)
    request.withUnsafeBytes { buffer in
        storage.withUnsafeMutableBufferPointer { headers in
            var parser = RequestParser(limits: HTTPLimits(maxHeaderBytes: 8192, maxHeaderCount: 64, maxURIBytes: 2048))
            guard case .complete(let head) = parser.parse(buffer, headers: headers), head.method != .connect else {
                return
            }
            let view = RequestView(buffer: buffer, headers: headers, head: head)
            // The gateway refuses these with 400 before any head is built (TrustBoundary.violation).
            guard let normalized = normalizedPath(view), TrustBoundary.violation(view, trusted: route.strippedNames) == nil
            else { return }
            build(view, route: route, normalized: normalized, edits: edits, sizeChoice: sizeChoice)
        }
    }
    return 0
}

func build(_ view: RequestView, route: CompiledRoute, normalized: [UInt8], edits: RouteEdits, sizeChoice: UInt8) {
    // Small buffers exercise overflow; an overflowed head is never sent (SPEC §4), so only its bounds matter.
    let capacity = sizeChoice < 32 ? Int(sizeChoice) * 16 : 16384
    let deadline = Int(sizeChoice) * 7
    let out = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, 1), alignment: 1)
    defer { out.deallocate() }
    var writer = HeadWriter(UnsafeMutableRawBufferPointer(rebasing: out[0..<capacity]))
    GatewayValues.traceparent.withUnsafeBytes { traceparent in
        GatewayValues.tracestate.withUnsafeBytes { tracestate in
            GatewayValues.requestID.withUnsafeBytes { requestID in
                (edits.jwt ? GatewayValues.claimLines : []).withUnsafeBytes { claims in
                    normalized.withUnsafeBytes { path in
                        let context = RequestHeadBuilder.Context(
                            clientIP: GatewayValues.clientIP, endpointAuthority: GatewayValues.endpoint,
                            deadlineMs: deadline, traceparent: traceparent, tracestate: tracestate,
                            requestID: requestID, extraLines: claims)
                        RequestHeadBuilder.write(
                            view, route: route, normalizedPath: path, context: context,
                            tunnel: TrustBoundary.allowsTunnel(view), into: &writer)
                    }
                }
            }
        }
    }
    check(writer.count <= capacity, "writer within its buffer")
    guard !writer.overflowed else { return }
    checkHead(writer.written, client: view, normalized: normalized, edits: edits, deadline: deadline)
}
