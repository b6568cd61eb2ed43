import Glibc
import MeshTestSupport
import Testing

/// The streams of one HTTP/2 connection share the gateway's inner connections (a stream that ended cleanly leaves
/// its bridge and inner connection to the next, `HTTP2StreamBridge`). Stated as a property over generated
/// sequences on one connection: every stream is judged on its own — a verified token on one stream authorizes
/// nothing on the next, a refused stream (which ends its inner connection) does not disturb the next, a body is
/// never carried over — and the upstream receives exactly the streams that passed, each with its own identity.
@Suite struct HTTP2StreamReuseTests {
    enum Kind: CaseIterable {
        case signed, anonymous, forged, publicGet, publicUpload, doubleAuthorization
    }

    @Test(arguments: [0x7265_7573_6531 as UInt64, 0x6B65_7074])
    func eachStreamIsJudgedAlone(seed: UInt64) throws {
        let key = MintingKey(kid: "k1")
        let stranger = MintingKey(kid: "k1")  // same kid, another key: its signatures do not verify
        let jwks = try JWKSServer(document: MintingKey.jwks([key]))
        defer { jwks.stop() }
        let bed = try JWTGatewayTests.testbed(jwks: jwks)
        defer { bed.stop() }

        var rng = SplitMix64(state: seed)
        var kinds: [Kind] = []
        var requests: [HTTP2FrameClient.StreamRequest] = []
        for index in 0..<48 {
            let kind = Kind.allCases.randomElement(using: &rng)!
            kinds.append(kind)
            var fields = [
                (":method", kind == .publicUpload ? "POST" : "GET", "plain", false), (":scheme", "http", "plain", false),
                (":authority", "svc.test", "plain", false),
                (":path", kind == .publicGet || kind == .publicUpload ? "/public/\(index)" : "/api/\(index)", "plain", false),
                ("x-case", "\(index)", "plain", false),
                // A client's own claim header is never what the upstream sees.
                ("x-user-id", "mallory", "index", false),
            ]
            switch kind {
            case .signed: fields.append(("authorization", "Bearer " + key.token(subject: "user\(index)"), "never", true))
            case .forged: fields.append(("authorization", "Bearer " + stranger.token(subject: "user\(index)"), "never", true))
            case .doubleAuthorization:
                fields.append(("authorization", "Bearer " + key.token(subject: "user\(index)"), "plain", false))
                fields.append(("authorization", "Basic dTpw", "plain", false))
            case .anonymous, .publicGet, .publicUpload: break
            }
            let body = kind == .publicUpload ? [("upload-\(index)-" + String(repeating: "x", count: index * 37), -1)] : []
            requests.append(.init(fields: fields, endOnHeaders: body.isEmpty, data: body))
        }
        let results = try HTTP2FrameClient.runStreams(port: bed.ports.listener, requests)
        try #require(results.count == requests.count, "the client stopped after \(results.count) streams")

        for (index, (kind, result)) in zip(kinds, results).enumerated() {
            let context = "stream \(index) (\(kind), seed \(seed)): \(result)"
            let received = bed["app"].requests.filter { $0.head.header("x-case") == "\(index)" }
            #expect(!result.timedOut, "\(context)")
            switch kind {
            case .signed:
                #expect(result.status == 200, "\(context)")
                #expect(received.count == 1 && received.first?.head.headers("x-user-id") == ["user\(index)"], "\(context)")
            case .publicGet, .publicUpload:
                #expect(result.status == 200, "\(context)")
                #expect(received.count == 1 && received.first?.head.headers("x-user-id") == [], "\(context)")
                if kind == .publicUpload, let got = received.first {
                    #expect(got.bodyText == "upload-\(index)-" + String(repeating: "x", count: index * 37), "\(context)")
                }
            case .anonymous, .forged:
                #expect(result.status == 401 && result.body.contains("\"error\":"), "\(context)")
                #expect(received.isEmpty, "\(context)")
            case .doubleAuthorization:
                #expect(result.status == 400 && result.body.contains("\"error\":"), "\(context)")
                #expect(received.isEmpty, "\(context)")
            }
        }
        #expect(bed["app"].requests.count == kinds.filter { [.signed, .publicGet, .publicUpload].contains($0) }.count)
    }
}
