import Foundation
import Glibc
import MeshJSON
import MeshJWT
import Testing

/// auth-service over real sockets: registration rules, login tokens that verify against the served JWKS with
/// MeshJWT, key persistence across restarts, and `rotate-key`.
@Suite struct AuthServiceTests {
    static func register(
        _ service: ServiceProcess,
        _ user: String,
        _ password: String = "correct horse"
    ) throws
        -> HTTPReply
    {
        try HTTPClient.json(
            port: service.port,
            "POST",
            "/register",
            #"{"username":"\#(user)","password":"\#(password)"}"#
        )
    }

    static func login(
        _ service: ServiceProcess,
        _ user: String,
        _ password: String = "correct horse"
    ) throws
        -> HTTPReply
    {
        try HTTPClient.json(port: service.port, "POST", "/login", #"{"username":"\#(user)","password":"\#(password)"}"#)
    }

    static func jwks(_ service: ServiceProcess) throws -> JWKSet {
        let reply = try HTTPClient.request(port: service.port, "GET", "/.well-known/jwks.json")
        #expect(reply.status == 200)
        return try JWKSet.parse(reply.body, source: .url).get()
    }

    static func kids(_ service: ServiceProcess) throws -> Set<String> {
        Set(try jwks(service).keys.compactMap(\.kid))
    }

    @Test func loginTokenVerifiesAgainstTheServedJWKS() throws {
        let service = try ServiceProcess("auth-service", arguments: ["--token-ttl-s", "600"])
        #expect(try Self.register(service, "alice").status == 201)
        let login = try Self.login(service, "alice")
        #expect(login.status == 200)
        let json = try #require(login.json)
        #expect(json["token_type"]?.stringValue == "Bearer")
        #expect(json["expires_in"]?.int64Value == 600)
        let token = try #require(json["access_token"]?.stringValue)
        let policy = ProviderPolicy(issuer: "meshgate-auth", audiences: ["meshgate"], algorithms: [.es256])
        let now = Int64(Date().timeIntervalSince1970)
        let verified = try Verifier(policy: policy).verify(token: token, keys: try Self.jwks(service), now: now).get()
        #expect(verified.subject == "alice")
        #expect(verified.algorithm == .es256)
        #expect(try Self.kids(service).contains(try #require(verified.kid)))
        let iat = try #require(verified.claims["iat"]?.int64Value)
        #expect(verified.expiresAt == iat + 600)
        #expect(verified.claims["scope"]?.stringValue?.split(separator: " ").contains("profile:write") == true)
        // A verifier expecting another audience must refuse it: the claim is really checked.
        let other = ProviderPolicy(issuer: "meshgate-auth", audiences: ["elsewhere"], algorithms: [.es256])
        #expect(
            (try? Verifier(policy: other).verify(token: token, keys: try Self.jwks(service), now: now).get()) == nil
        )
    }

    @Test func issuerAndAudienceFlagsAreUsed() throws {
        let service = try ServiceProcess("auth-service", arguments: ["--issuer", "iss-x", "--audience", "aud-y"])
        _ = try Self.register(service, "bob")
        let token = try #require(try Self.login(service, "bob").json?["access_token"]?.stringValue)
        let policy = ProviderPolicy(issuer: "iss-x", audiences: ["aud-y"], algorithms: [.es256])
        let now = Int64(Date().timeIntervalSince1970)
        #expect(
            (try? Verifier(policy: policy).verify(token: token, keys: try Self.jwks(service), now: now).get()) != nil
        )
    }

    @Test func duplicateRegistrationIs409AndWrongPasswordsAre401() throws {
        let service = try ServiceProcess("auth-service")
        #expect(try Self.register(service, "carol").status == 201)
        let again = try Self.register(service, "carol", "another password")
        #expect(again.status == 409)
        #expect(again.errorCode == "conflict")
        for (user, password) in [("carol", "wrong password"), ("nobody", "correct horse")] {
            let reply = try Self.login(service, user, password)
            #expect(reply.status == 401)
            #expect(reply.errorCode == "unauthorized")
            #expect(reply.json?["access_token"] == nil)
        }
        #expect(try Self.login(service, "carol").status == 200)
    }

    @Test func badInputToEveryEndpointIs4xxJSON() throws {
        let service = try ServiceProcess("auth-service")
        let registerBodies = [
            "", "{", "[]", "{}", #"{"username":"dave"}"#, #"{"password":"long enough"}"#,
            #"{"username":5,"password":"long enough"}"#, #"{"username":"dave","password":true}"#,
            #"{"username":"Dave","password":"long enough"}"#, #"{"username":"da","password":"long enough"}"#,
            #"{"username":"dave!","password":"long enough"}"#, #"{"username":"dave","password":"short"}"#,
            #"{"username":"dave","password":"\#(String(repeating: "p", count: 129))"}"#,
            #"{"username":"dave","password":"long enough","admin":true}"#,
        ]
        for body in registerBodies {
            let reply = try HTTPClient.json(port: service.port, "POST", "/register", body)
            #expect(reply.status == 400, "register \(body) → \(reply.status)")
            #expect(reply.errorCode == "bad_request")
        }
        for body in ["", "{", #"{"username":"dave"}"#, #"{"username":1,"password":"x"}"#] {
            let reply = try HTTPClient.json(port: service.port, "POST", "/login", body)
            #expect(reply.status == 400, "login \(body) → \(reply.status)")
        }
        let wrongMethod = try HTTPClient.request(port: service.port, "GET", "/login")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.header("allow") == "POST")
        #expect(try HTTPClient.request(port: service.port, "POST", "/.well-known/jwks.json").status == 405)
        #expect(try HTTPClient.request(port: service.port, "GET", "/nope").errorCode == "not_found")
        #expect(service.isRunning)
        #expect(try Self.register(service, "dave", "long enough").status == 201)
    }

    @Test func signingKeyIsKeptAcrossRestartsAndStoredPrivately() throws {
        let service = try ServiceProcess("auth-service")
        let before = try Self.kids(service)
        #expect(before.count == 1)
        let files = try FileManager.default.contentsOfDirectory(atPath: service.dataDirectory + "/keys")
        let pem = try #require(files.first { $0.hasSuffix(".pem") })
        var info = stat()
        #expect(stat(service.dataDirectory + "/keys/" + pem, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        _ = try Self.register(service, "erin")
        let token = try #require(try Self.login(service, "erin").json?["access_token"]?.stringValue)
        #expect(service.stop() == 0)
        try service.restart()
        #expect(try Self.kids(service) == before)
        // The token issued before the restart still verifies, and the user is still there.
        let policy = ProviderPolicy(issuer: "meshgate-auth", audiences: ["meshgate"], algorithms: [.es256])
        let now = Int64(Date().timeIntervalSince1970)
        #expect(
            (try? Verifier(policy: policy).verify(token: token, keys: try Self.jwks(service), now: now).get()) != nil
        )
        #expect(try Self.login(service, "erin").status == 200)
    }

    @Test func rotateKeyPublishesBothKidsAndSignsWithTheNewOne() throws {
        let service = try ServiceProcess("auth-service")
        let old = try Self.kids(service)
        let rotate = Process()
        rotate.executableURL = URL(fileURLWithPath: ServiceProcess.binaryDirectory + "/auth-service")
        rotate.arguments = ["rotate-key", "--data-dir", service.dataDirectory]
        rotate.standardOutput = FileHandle.nullDevice
        try rotate.run()
        rotate.waitUntilExit()
        #expect(rotate.terminationStatus == 0)
        // The running service notices the new key without a restart.
        let both = try Self.kids(service)
        #expect(both.count == 2)
        #expect(both.isSuperset(of: old))
        _ = try Self.register(service, "frank")
        let token = try #require(try Self.login(service, "frank").json?["access_token"]?.stringValue)
        let header = try #require(token.split(separator: ".").first)
        let headerJSON = try JSONReader.parse(try #require(base64URLDecode(String(header))))
        let kid = try #require(headerJSON["kid"]?.stringValue)
        #expect(both.subtracting(old) == [kid])
        #expect(service.stop() == 0)
        try service.restart()
        #expect(try Self.kids(service) == both)
    }
}

/// Unpadded base64url (RFC 4648 §5) through Foundation, kept independent of MeshCrypto's decoder.
func base64URLDecode(_ text: String) -> [UInt8]? {
    var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while s.count % 4 != 0 { s += "=" }
    return Data(base64Encoded: s).map { [UInt8]($0) }
}
