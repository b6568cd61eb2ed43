import MeshCrypto
import MeshJSON
import MeshJWT
import Testing

/// RFC 7515 A.1–A.5, RFC 7520 §4.1–4.4 and RFC 8037 A.4, from the shared conformance folder
/// (copied to Fixtures/rfc).
@Suite struct RFCConformanceTests {
    static let document = Fixtures.json("rfc/rfc_cases.json")

    static let cases: [TokenCase] = document["cases"]!.arrayValue!.map { node in
        TokenCase(
            id: node["id"]!.stringValue!, token: node["token"]!.stringValue!, expect: node["expect"]!.stringValue!,
            policy: Fixtures.policy(node["config"]!), now: node["now"]!.int64Value!,
            keysFile: node["jwks"]?.stringValue ?? "")
    }

    /// Why each RFC case must be rejected: the specific error, not just "some error".
    static let expectedErrors: [String: String] = [
        "rfc7515_A1_HS256-expired": "expired", "rfc7515_A2_RS256-expired": "expired",
        "rfc7515_A3_ES256-expired": "expired", "rfc7515-A5-unsecured": "algorithm_none",
        "rfc7515-A1-reserialized-header": "bad_signature",
        "rfc7515_A4_ES512-not-a-jwt": "bad_json", "rfc7520_4_1_RS256-not-a-jwt": "bad_json",
        "rfc7520_4_2_PS384-not-a-jwt": "bad_json", "rfc7520_4_3_ES512-not-a-jwt": "bad_json",
        "rfc7520_4_4_HS256-not-a-jwt": "bad_json", "rfc8037_A4_Ed25519-not-a-jwt": "bad_json",
    ]

    @Test(arguments: cases)
    func verdictMatchesConformanceTable(_ testCase: TokenCase) {
        let keys = testCase.keysFile.isEmpty ? JWKSet(keys: []) : Fixtures.keySet("rfc/" + testCase.keysFile)
        let result = Verifier(policy: testCase.policy).verify(token: testCase.token, keys: keys, now: testCase.now)
        if testCase.expect == "accept" {
            #expect(result.outcome == "accept")
        } else {
            #expect(result.outcome == Self.expectedErrors[testCase.id], "\(testCase.id)")
        }
    }

    @Test func acceptedRFCTokensExposeClaims() throws {
        let keys = Fixtures.keySet("rfc/rfc7515_A3_ES256.jwks.json")
        let policy = ProviderPolicy(issuer: "joe", algorithms: [.es256])
        let token = try Verifier(policy: policy).verify(
            token: Self.cases.first { $0.id == "rfc7515_A3_ES256-valid-before-exp" }!.token, keys: keys,
            now: 1_300_819_300
        ).get()
        #expect(token.expiresAt == 1_300_819_380)
        #expect(token.claims["http://example.com/is_root"]?.boolValue == true)
        #expect(token.algorithm == .es256)
    }

    /// The pure JWS fact: every RFC example with a key verifies with MeshCrypto, including payloads that are not
    /// JWT claims (ES512 with P-521, PS384, the RFC 7520 HS256 and Ed25519 examples).
    @Test func everyRFCSignatureVerifies() throws {
        let examples = try #require(Fixtures.json("rfc/rfc_jws_examples.json").arrayValue)
        var verified = 0
        for example in examples {
            let name = example["name"]!.stringValue!
            guard example["jwk"]?.objectValue != nil else { continue }
            let keys = Fixtures.keySet("rfc/\(name).jwks.json")
            let compact = example["compact"]!.stringValue!
            let segments = compact.split(separator: ".", omittingEmptySubsequences: false)
            let header = try JSONReader.parse(Base64URL.decode(segments[0].utf8)!)
            let alg = try #require(SignatureAlgorithm(name: Substring(header["alg"]!.stringValue!)))
            let input = Array(compact.utf8.prefix(segments[0].utf8.count + 1 + segments[1].utf8.count))
            let signature = try #require(Base64URL.decode(segments[2].utf8))
            let key = try #require(keys.keys.first)
            let ok = input.withUnsafeBytes { i in
                signature.withUnsafeBytes { s in
                    switch key.material {
                    case .publicKey(let pk): return alg.verify(publicKey: pk, signingInput: i, signature: s)
                    case .secret(let secret):
                        return secret.withUnsafeBytes { alg.verify(secret: $0, signingInput: i, signature: s) }
                    }
                }
            }
            #expect(ok, "\(name)")
            var flipped = signature
            flipped[flipped.count / 2] ^= 0x40
            let tampered = input.withUnsafeBytes { i in
                flipped.withUnsafeBytes { s in
                    if case .publicKey(let pk) = key.material {
                        return alg.verify(publicKey: pk, signingInput: i, signature: s)
                    }
                    if case .secret(let k) = key.material {
                        return k.withUnsafeBytes { alg.verify(secret: $0, signingInput: i, signature: s) }
                    }
                    return true
                }
            }
            #expect(!tampered, "\(name) tampered")
            verified += 1
        }
        #expect(verified == 9)
    }
}
