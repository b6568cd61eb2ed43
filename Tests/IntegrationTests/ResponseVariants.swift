import MeshTestSupport

/// A generated upstream response (exact bytes) and what the client must get for it, for the response-boundary
/// property tests. Deterministic from a `SplitMix64` seed, so a failure replays exactly.
struct ResponseVariant: CustomStringConvertible {
    /// How the upstream frames the body.
    enum Framing: CaseIterable {
        case length
        case chunked
        case untilClose
    }

    /// Why the gateway must answer 502 instead of forwarding.
    enum Defect: CaseIterable {
        case badChunkSize
        case chunkLongerThanDeclared
        case unaskedSwitchingProtocols
        case lengthAndChunked
        case conflictingLengths
        case tooManyFields
        case headTooLargeWithEdits
    }

    var status: Int
    var framing: Framing
    var body: [UInt8]
    /// Field lines that must reach the client unchanged (name as sent, value).
    var kept: [(String, String)]
    /// Field names (lowercase) that must not reach the client.
    var dropped: Set<String>
    /// The route adds `x-added: yes` and removes `x-remove-me`.
    var edits: Bool
    /// Set when the response is invalid (for a GET).
    var defect: Defect?
    /// Exact bytes the upstream writes.
    var bytes: [UInt8]

    /// Whether the upstream closes after writing (the body ends at close), else it keeps the connection.
    var behavior: UpstreamBehavior { framing == .untilClose ? .raw(bytes) : .rawKeepAlive(bytes) }

    /// Whether a body goes with this status to a request with `method` (RFC 9112 §6.3).
    func hasBody(_ method: String) -> Bool { method != "HEAD" && status != 204 && status != 304 }

    /// Whether the client must get a 502 for a request with `method`: head defects always, body defects
    /// only when a body is read.
    func isInvalid(_ method: String) -> Bool {
        switch defect {
        case nil: false
        case .badChunkSize, .chunkLongerThanDeclared: hasBody(method)
        default: true
        }
    }

    /// Whether the client connection ends with this response (a close-delimited body).
    func endsConnection(_ method: String) -> Bool { !isInvalid(method) && framing == .untilClose && hasBody(method) }

    var description: String { "status \(status) \(framing) body \(body.count) defect \(String(describing: defect))" }

    // MARK: - Generation

    static let connectionTokens = [
        "content-length", "Content-Length", "transfer-encoding", "x-request-id", "connection", "keep-alive", "close",
        "te", "trailer", "upgrade", "date", "server", "x-hop", "X-Hop-Too", "x-absent",
    ]

    static func generate(_ rng: inout SplitMix64) -> ResponseVariant {
        let defect: Defect? = Int.random(in: 0..<3, using: &rng) == 0 ? Defect.allCases.randomElement(using: &rng) : nil
        var status = [200, 200, 201, 404, 500, 503, 204, 304].randomElement(using: &rng)!
        var framing = Framing.allCases.randomElement(using: &rng)!
        switch defect {
        case .badChunkSize, .chunkLongerThanDeclared:
            (status, framing) = (200, .chunked)
        case .unaskedSwitchingProtocols:
            status = 101
        case .lengthAndChunked, .conflictingLengths, .headTooLargeWithEdits:
            framing = .length
            if status == 204 || status == 304 { status = 200 }
        default: break
        }
        if status == 204 || status == 304 { framing = .length }
        let bodyAllowed = status != 204 && status != 304 && status != 101
        let body = bodyAllowed ? randomBytes(Int.random(in: 0...3000, using: &rng), &rng) : []
        var variant = ResponseVariant(
            status: status, framing: framing, body: body, kept: [], dropped: [],
            edits: defect == .headTooLargeWithEdits || Bool.random(using: &rng), defect: defect, bytes: [])
        variant.bytes = variant.interim(&rng) + variant.head(&rng) + variant.encodedBody(&rng)
        return variant
    }

    static func randomBytes(_ count: Int, _ rng: inout SplitMix64) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// 0-2 interim responses the gateway must drop.
    func interim(_ rng: inout SplitMix64) -> [UInt8] {
        var out = ""
        for _ in 0..<Int.random(in: 0...2, using: &rng) {
            out +=
                Bool.random(using: &rng)
                ? "HTTP/1.1 100 Continue\r\n\r\n" : "HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n"
        }
        return Array(out.utf8)
    }

    /// The head: generated fields (recorded in `kept` / `dropped`), Connection tokens, framing fields.
    mutating func head(_ rng: inout SplitMix64) -> [UInt8] {
        var lines: [(String, String)] = []
        let big = defect == .headTooLargeWithEdits || Int.random(in: 0..<10, using: &rng) == 0
        let count = defect == .tooManyFields ? 101 : big ? 62 : Int.random(in: 0...20, using: &rng)
        for k in 0..<count {
            let size = big ? 1000 : Int.random(in: 0...60, using: &rng)
            lines.append(("X-F\(k)", "v" + String(repeating: "abcdefghij", count: size / 10 + 1).prefix(size)))
        }
        for name in ["X-Hop", "X-Hop-Too", "X-Remove-Me", "X-Request-Id", "Keep-Alive", "Date"]
        where Bool.random(using: &rng) {
            lines.insert((name, "upstream"), at: Int.random(in: 0...lines.count, using: &rng))
        }
        let tokens = (0..<Int.random(in: 0...3, using: &rng)).map { _ in
            Self.connectionTokens.randomElement(using: &rng)!
        }
        if !tokens.isEmpty { lines.append(("Connection", tokens.joined(separator: ", "))) }
        let named = Set(tokens.map { $0.lowercased() })
        for (name, value) in lines {
            let lower = name.lowercased()
            if ["x-request-id", "keep-alive", "connection"].contains(lower)
                || (lower.hasPrefix("x-hop") && named.contains(lower)) || (lower == "x-remove-me" && edits)
            {
                dropped.insert(lower)
            } else {
                kept.append((name, value))
            }
        }
        lines += framingLines()
        if status == 101 { lines.append(("Upgrade", "websocket")) }
        let text = "HTTP/1.1 \(status) Status\r\n" + lines.map { "\($0.0): \($0.1)\r\n" }.joined() + "\r\n"
        return Array(text.utf8)
    }

    func framingLines() -> [(String, String)] {
        switch defect {
        case .lengthAndChunked: return [("Content-Length", "\(body.count)"), ("Transfer-Encoding", "chunked")]
        case .conflictingLengths: return [("Content-Length", "\(body.count)"), ("Content-Length", "\(body.count + 1)")]
        default: break
        }
        switch framing {
        case .length: return [("Content-Length", "\(body.count)")]
        case .chunked: return [("Transfer-Encoding", "chunked")]
        case .untilClose: return []
        }
    }

    /// The body as framed, with trailers sometimes, broken where `defect` says.
    func encodedBody(_ rng: inout SplitMix64) -> [UInt8] {
        guard framing == .chunked, defect != .lengthAndChunked else { return body }
        var out: [UInt8] = []
        var at = 0
        while at < body.count {
            let n = min(body.count - at, Int.random(in: 1...1200, using: &rng))
            let ext = Int.random(in: 0..<4, using: &rng) == 0 ? ";name=value" : ""
            out += Array("\(String(n, radix: 16))\(ext)\r\n".utf8) + body[at..<(at + n)] + [13, 10]
            at += n
        }
        switch defect {
        case .badChunkSize: out += Array("zz\r\nabc\r\n".utf8)
        case .chunkLongerThanDeclared: out += Array("3\r\nhello\r\n".utf8)
        default: break
        }
        let trailer = Bool.random(using: &rng) ? "X-Trailer: t\r\nContent-Length: 0\r\n" : ""
        return out + Array("0\r\n\(trailer)\r\n".utf8)
    }

    /// The route for this variant (upstream `u<index>`, prefix `/v<index>/`): no retries, so each request is
    /// one attempt, and the edits the variant expects.
    func route(_ index: Int) -> String {
        var extra = #""retry": {"retries": 0}"#
        if edits {
            // Large enough that a head near the 64 KiB limit no longer fits the client head block.
            let size = defect == .headTooLargeWithEdits ? 4000 : 3
            extra +=
                #", "response_headers": {"set": {"x-added": "\#(String(repeating: "y", count: size))"}, "remove": ["x-remove-me"]}"#
        }
        return TestConfig.route("/v\(index)/", to: "u\(index)", extra)
    }
}
