import Testing

@testable import MeshConfig

/// The files that ship (routes.json, examples/) and the fixtures, loaded from disk through `ConfigLoader.load`.
@Suite struct ShippedConfigTests {
    static let shipped = ["routes.json", "examples/minimal.json", "examples/sidecar.json"]
    static let invalidFixtures = [
        "unknown-key", "public-and-jwt", "alg-none", "two-path-kinds", "version-2", "bad-port", "no-key-source",
        "duration-string", "reserved-header",
    ]

    @Test(arguments: shipped)
    func shippedFileLoadsWithoutErrors(file: String) {
        if case .failure(let errors) = ConfigLoader.load(path: "\(repoRoot)/\(file)") {
            Issue.record("\(file):\n\(errors)")
        }
    }

    @Test func demoStackMatchesSpecTable() throws {
        let config = try ConfigLoader.load(path: "\(repoRoot)/routes.json").get()
        let edge = try #require(config.listeners.first)
        #expect(edge.name == "edge")
        #expect(edge.address == HostPort(host: "127.0.0.1", port: 8080))
        #expect(config.admin.address == HostPort(host: "127.0.0.1", port: 9901))
        // profile-grpc: profile-service's gRPC side on the same port, for the transcoded /v1 routes (issue 16).
        #expect(config.upstreamOrder == ["auth", "profile", "profile-grpc", "relationships"])
        #expect(config.upstreams["profile-grpc"]?.upstreamProtocol == .h2c)
        #expect(config.upstreams["profile-grpc"]?.endpoints == config.upstreams["profile"]?.endpoints)
        #expect(config.upstreams["relationships"]?.endpoints == [HostPort(host: "127.0.0.1", port: 9103)])
        #expect(config.upstreams.values.allSatisfy { $0.healthCheck?.path == "/healthz" })
        let local = try #require(config.jwtProviders["local"])
        #expect(local.issuer == "meshgate-auth")
        #expect(local.audiences == ["meshgate"])
        #expect(local.algorithms == ["ES256"])
        for route in edge.routes {
            if route.upstream == "auth" {
                #expect(route.isPublic && route.jwt == nil, "\(route.name)")
                #expect(route.rewrite?.stripPrefix == "/auth")
            } else {
                #expect(route.jwt?.provider == "local", "\(route.name)")
                #expect(route.jwt?.required == true)
                #expect(route.jwt?.claimsToHeaders.first?.claim == "sub")
                #expect(route.jwt?.claimsToHeaders.first?.header == "x-user-id")
            }
        }
        let read = try #require(edge.routes.first { $0.name == "profile-read" })
        #expect(read.match.methods == ["GET"])
        // profile-service's response shape (SPEC §8) with empty values and a default avatar.
        let fallback = #"{"user":"","nickname":"","avatar_url":"/static/default.png","preferences":{}}"#
        #expect(read.fallback?.body == fallback)
        let transcoded = try #require(edge.routes.first { $0.name == "profiles-v1" })
        #expect(transcoded.upstream == "profile-grpc" && transcoded.transcode?.descriptorSet == "backends/protos/profile.pb")
        #expect(transcoded.transcode?.table.transcoders.keys.sorted() == [
            "/profile.v1.Profiles/GetProfile", "/profile.v1.Profiles/GetProfiles",
        ])
        let methods = Set(edge.routes.filter { $0.upstream == "relationships" }.flatMap(\.match.methods))
        #expect(methods == ["PUT", "DELETE", "GET"])
    }

    @Test func everythingFixtureLoads() throws {
        let config = try ConfigLoader.load(path: "\(fixtures)/valid/everything.json").get()
        #expect(config.listeners[0].routes.count == 3)
        #expect(config.admin.address == HostPort(host: "::1", port: 9901))
        #expect(config.watchConfig == false)
        #expect(config.logging.level == .debug)
        #expect(config.tracing.sampleRatio == 0.25)
        #expect(config.upstreams["profile"]?.balance == .leastRequest)
    }

    @Test(arguments: invalidFixtures)
    func invalidFixtureIsRejected(name: String) {
        guard case .failure(let errors) = ConfigLoader.load(path: "\(fixtures)/invalid/\(name).json") else {
            Issue.record("\(name) loaded")
            return
        }
        #expect(errors.errors.count == 1, "\(errors)")
        #expect(errors.errors.allSatisfy { $0.fileName.hasSuffix("\(name).json") && $0.line != nil })
    }

    @Test func missingFileIsOneError() {
        let path = "\(fixtures)/does-not-exist.json"
        guard case .failure(let errors) = ConfigLoader.load(path: path) else {
            Issue.record("loaded a missing file")
            return
        }
        #expect(
            errors.errors == [
                ConfigError(
                    path: "", line: nil, column: nil, message: "cannot read the file: No such file or directory",
                    fileName: path)
            ])
    }
}
