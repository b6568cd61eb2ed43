// libFuzzer target for MeshJWT: token split, JOSE header, claims and signature checks against a fixed key set,
// plus JWKS parsing. Never a crash; never an accepted token that an independent oracle (below, written from
// SPEC §3 and RFC 7515/7519, using only the crypto primitives) would refuse.
//
// First input byte picks the mode: 0 raw token, 1 JWKS document, 2 token signed by the harness from fuzzed
// header/payload JSON (so claim logic is reached), 3 a correctly signed token with one byte changed.

import MeshCrypto
import MeshJSON
import MeshJWT

// MARK: - Fixed keys and policy

enum Keys {
    static let secretA = Array("fuzz-secret-A-0123456789abcdef".utf8)  // kid k-hs, pinned to HS256
    static let secretB = Array("fuzz-secret-B-0123456789abcdef".utf8)  // kid k-hs384, not pinned
    static let envSecret = Array("fuzz-env-secret-0123456789".utf8)  // secret_env: no kid
    static let wrongSecret = Array("not-a-key-of-this-provider".utf8)
    static let ec = PrivateKey.generate(.ec(.p256))!
    static let ecPublic = ec.publicKey()!
    static let now: Int64 = 1_700_000_000
    static let policy = ProviderPolicy(
        issuer: "meshgate-auth", audiences: ["meshgate", "other"], algorithms: [.hs256, .hs384, .es256, .rs256],
        leewaySeconds: 30, hmacSecret: envSecret)
    static let verifier = Verifier(policy: policy)
    static let set: JWKSet = {
        let jwk = ec.publicJWK()
        let document = """
            {"keys":[{"kty":"oct","kid":"k-hs","alg":"HS256","k":"\(Base64URL.encode(secretA))"},
            {"kty":"oct","kid":"k-hs384","k":"\(Base64URL.encode(secretB))"},
            {"kty":"EC","kid":"k-es","crv":"P-256","x":"\(jwk.x!)","y":"\(jwk.y!)"}]}
            """
        guard case .success(let set) = JWKSet.parse(document, source: .inline), set.keys.count == 3 else {
            fatalError("fixed key set does not load")
        }
        return set
    }()
}

// MARK: - Oracle

/// Splits on dots; the three segments when there are exactly three.
func segments(_ token: [UInt8]) -> [ArraySlice<UInt8>]? {
    let parts = token.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    return parts.count == 3 ? parts : nil
}

/// SPEC §3 "Checks" for an accepted token, re-derived from the token bytes alone.
func checkAccepted(_ token: [UInt8]) {
    guard let parts = segments(token), !parts[0].isEmpty, !parts[1].isEmpty else {
        return check(false, "accepted a token that is not three segments: \(show(token))")
    }
    guard let headerBytes = Base64URL.decode(Array(parts[0])), let payload = Base64URL.decode(Array(parts[1])),
        let signature = Base64URL.decode(Array(parts[2])),
        let header = try? JSONReader.parse(headerBytes), let claims = try? JSONReader.parse(payload)
    else { return check(false, "accepted a token whose segments do not decode: \(show(token))") }
    guard let algName = header["alg"]?.stringValue, let alg = SignatureAlgorithm(name: Substring(algName)) else {
        return check(false, "accepted a token without a known alg: \(show(headerBytes))")
    }
    check(Keys.policy.algorithms.contains(alg), "accepted alg \(algName) outside the allow-list")
    check(header["crit"] == nil, "accepted a token with crit")
    let kid = header["kid"]
    check(kid == nil || kid?.stringValue != nil, "accepted a non-string kid")
    let input = Array(token[0..<(parts[1].endIndex)])
    check(
        signatureHolds(alg, kid: kid?.stringValue, input: input, signature: signature),
        "accepted a bad signature: \(show(token))")
    checkClaims(claims)
}

/// Which configured key may have signed (SPEC §3: kid selects, the key type must fit alg, alg pins respected).
func signatureHolds(_ alg: SignatureAlgorithm, kid: String?, input: [UInt8], signature: [UInt8]) -> Bool {
    if alg.isHMAC {
        var secrets: [[UInt8]]
        switch kid {
        case "k-hs"?: secrets = alg == .hs256 ? [Keys.secretA] : []
        case "k-hs384"?: secrets = [Keys.secretB]
        case "k-es"?: secrets = []
        case .some: secrets = [Keys.envSecret]
        case nil: secrets = (alg == .hs256 ? [Keys.secretA] : []) + [Keys.secretB, Keys.envSecret]
        }
        return secrets.contains { HMAC.mac(alg.hash, key: $0, data: input) == signature }
    }
    guard alg == .es256, kid == nil || kid == "k-es" else { return false }
    return input.withUnsafeBytes { i in
        signature.withUnsafeBytes { alg.verify(publicKey: Keys.ecPublic, signingInput: i, signature: $0) }
    }
}

/// RFC 7519 NumericDate, truncated toward the past; nil when absent or unusable.
func numericDate(_ node: JSONNode?) -> Int64?? {
    guard let node else { return .some(nil) }
    if let value = node.int64Value { return value }
    guard let d = node.doubleValue, d.isFinite, d > -9e18, d < 9e18 else { return nil }
    return Int64(d.rounded(.down))
}

func checkClaims(_ claims: JSONNode) {
    check(claims.objectValue != nil, "accepted claims that are not an object")
    let leeway = Keys.policy.leewaySeconds, now = Keys.now
    guard case .some(.some(let exp)) = numericDate(claims["exp"]) else {
        return check(false, "accepted without a usable exp")
    }
    check(now - leeway < exp, "accepted an expired token (exp \(exp))")
    guard case .some(let nbf) = numericDate(claims["nbf"]), case .some(let iat) = numericDate(claims["iat"]) else {
        return check(false, "accepted an unusable nbf/iat")
    }
    check(nbf.map { $0 <= now + leeway } ?? true, "accepted before nbf")
    check(iat.map { $0 <= now + leeway } ?? true, "accepted with iat in the future")
    check(claims["iss"]?.stringValue == "meshgate-auth", "accepted a foreign issuer")
    let aud = claims["aud"]
    let audiences = aud?.stringValue.map { [$0] } ?? aud?.arrayValue?.compactMap(\.stringValue) ?? []
    check(audiences.contains { Keys.policy.audiences.contains($0) }, "accepted without a matching aud")
    check(claims["sub"] == nil || claims["sub"]?.stringValue != nil, "accepted a non-string sub")
}

// MARK: - Modes

func verify(_ token: [UInt8]) -> Result<VerifiedToken, JWTError> {
    // An exact-size copy: AddressSanitizer sees a read past the token.
    token.withUnsafeBytes { Keys.verifier.verify(bytes: $0, keys: Keys.set, now: Keys.now) }
}

func fuzzRawToken(_ token: [UInt8]) {
    if case .success = verify(token) { checkAccepted(token) }
}

func fuzzJWKS(_ document: [UInt8]) {
    for source in [JWKSet.Source.inline, .url] {
        guard case .success(let set) = JWKSet.parse(document, source: source) else { continue }
        check(!set.keys.isEmpty && set.skipped >= 0, "a parsed set has keys")
        if source == .url {
            for key in set.keys {
                if case .secret = key.material { check(false, "oct key accepted from jwks.url") }
            }
        }
    }
}

/// Signs `header.payload` as given (their exact bytes) with the key `choice` picks.
func sign(header: [UInt8], payload: [UInt8], choice: Int) -> [UInt8] {
    let input = Array((Base64URL.encode(header) + "." + Base64URL.encode(payload)).utf8)
    let alg = (try? JSONReader.parse(header))?["alg"]?.stringValue.flatMap { SignatureAlgorithm(name: Substring($0)) }
    var signature: [UInt8]
    switch (choice, alg) {
    case (4, .es256?): signature = Keys.ec.sign(.es256, input) ?? []
    case (_, let a?) where a.isHMAC:
        let key = [Keys.secretA, Keys.secretB, Keys.envSecret, Keys.wrongSecret][choice % 4]
        signature = HMAC.mac(a.hash, key: key, data: input)
    default: signature = HMAC.mac(.sha256, key: Keys.secretA, data: input)
    }
    return input + Array(("." + Base64URL.encode(signature)).utf8)
}

func fuzzSigned(_ c: inout ControlBytes) {
    let choice = c.choice(5)
    let rest = Array(c.rest)
    var header = Array(#"{"alg":"HS256","kid":"k-hs"}"#.utf8)
    var payload = rest
    if let zero = rest.firstIndex(of: 0) {
        header = Array(rest[..<zero])
        payload = Array(rest[(zero + 1)...])
    }
    let token = sign(header: header, payload: payload, choice: choice)
    if case .success = verify(token) { checkAccepted(token) }
}

func fuzzMutated(_ c: inout ControlBytes) {
    let position = Int(c.byte()) << 8 | Int(c.byte())
    let flip = c.byte() | 1
    let claims =
        Array(#"{"iss":"meshgate-auth","aud":"meshgate","exp":1700000100,"sub":"#.utf8) + Array(c.rest) + [0x7D]
    let original = sign(header: Array(#"{"alg":"HS256","kid":"k-hs"}"#.utf8), payload: claims, choice: 0)
    var token = original
    token[position % token.count] ^= flip
    if case .success = verify(token) { check(false, "a changed token verified: \(show(original)) → \(show(token))") }
}

/// Positive controls, run once: tokens every key of the set signs correctly must verify, or the target would only
/// ever see rejections and its oracle would check nothing.
let positiveControls: Void = {
    let claims = Array(#"{"iss":"meshgate-auth","aud":["meshgate"],"exp":1700000100,"sub":"u"}"#.utf8)
    let headers = [
        #"{"alg":"HS256","kid":"k-hs"}"#, #"{"alg":"HS384","kid":"k-hs384"}"#, #"{"alg":"HS256"}"#, #"{"alg":"ES256"}"#,
    ]
    for (header, choice) in zip(headers, [0, 1, 2, 4]) {
        let token = sign(header: Array(header.utf8), payload: claims, choice: choice)
        guard case .success = verify(token) else { fatalError("positive control rejected: \(header)") }
        checkAccepted(token)
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    _ = positiveControls
    var c = ControlBytes(UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : count))
    switch c.choice(4) {
    case 0: fuzzRawToken(Array(c.rest))
    case 1: fuzzJWKS(Array(c.rest))
    case 2: fuzzSigned(&c)
    default: fuzzMutated(&c)
    }
    return 0
}
