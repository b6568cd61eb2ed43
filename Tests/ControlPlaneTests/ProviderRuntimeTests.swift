import Glibc
import MeshConfig
import MeshCrypto
import MeshControl
import MeshGateway
import MeshJWT
import Testing

@Suite("ProviderRuntime and ProviderRegistry")
struct ProviderRuntimeTests {
    static let signer = TestKey(kid: "file-key")

    private func runtime(_ block: String, environment: [String: String] = [:]) throws -> ProviderRuntime {
        let config = try makeConfig(providers: "{\(block)}", environment: environment)
        return ProviderRuntime(config: config.jwtProviders["p"]!)
    }

    private func verify(_ runtime: ProviderRuntime, _ token: String) -> Result<VerifiedToken, JWTError> {
        var cache = VerifiedTokenCache(capacity: 8)
        return runtime.authenticator.authenticate(header: bearer(token), cache: &cache, now: Int64(time(nil))).result
    }

    @Test func loadsJWKSFileAtStart() throws {
        let path = try temporaryFile(TestKey.jwks([Self.signer]))
        defer { unlink(path) }
        let runtime = try runtime(provider("p", jwks: #"{"file": "\#(path)"}"#))
        #expect(runtime.hasKeys)
        #expect(runtime.loadErrors.isEmpty)
        #expect(try verify(runtime, Self.signer.token()).get().subject == "alice")
    }

    @Test func loadsInlineJWKS() throws {
        let runtime = try runtime(provider("p", jwks: #"{"inline": \#(TestKey.jwks([Self.signer]))}"#))
        #expect(runtime.hasKeys)
        #expect(try verify(runtime, Self.signer.token()).get().subject == "alice")
        // A key that is not in the set is an unknown kid, not a crash or a pass.
        guard case .failure(.unknownKid) = verify(runtime, TestKey(kid: "other").token()) else {
            Issue.record("a token from an unpublished key must fail with unknownKid")
            return
        }
    }

    @Test func unreadableFileIsReportedNotFatal() throws {
        let runtime = try runtime(provider("p", jwks: #"{"file": "/nonexistent/meshgate/jwks.json"}"#))
        #expect(!runtime.hasKeys)
        #expect(runtime.loadErrors.count == 1)
        #expect(runtime.loadErrors.first?.contains("/nonexistent/meshgate/jwks.json") == true)
        #expect(runtime.loadErrors.first?.contains("No such file") == true)
    }

    @Test func fileWithoutUsableKeysIsReported() throws {
        let path = try temporaryFile(#"{"keys": [{"kty": "nope"}]}"#)
        defer { unlink(path) }
        let runtime = try runtime(provider("p", jwks: #"{"file": "\#(path)"}"#))
        #expect(!runtime.hasKeys)
        #expect(runtime.loadErrors.first?.contains("no_keys") == true)
    }

    @Test func hmacSecretComesFromTheNamedEnvironmentVariable() throws {
        let variable = "MESHGATE_CONTROL_TEST_SECRET_\(getpid())"
        setenv(variable, "correct horse battery staple", 1)
        defer { unsetenv(variable) }
        let block = provider("p", algorithms: #"["HS256"]"#, extra: #""secret_env": "\#(variable)""#)
        let runtime = try runtime(block, environment: [variable: "correct horse battery staple"])
        #expect(runtime.policy.hmacSecret == Array("correct horse battery staple".utf8))
        #expect(runtime.hasKeys)
        let now = Int64(time(nil))
        let claims = #"{"iss":"meshgate-auth","aud":"meshgate","sub":"svc","exp":\#(now + 60)}"#
        let good = TokenSigner.sign(
            claimsJSON: Array(claims.utf8),
            algorithm: .hs256,
            key: .secret(Array("correct horse battery staple".utf8))
        )!
        let forged = TokenSigner.sign(
            claimsJSON: Array(claims.utf8),
            algorithm: .hs256,
            key: .secret(Array("wrong".utf8))
        )!
        #expect(try verify(runtime, good).get().subject == "svc")
        guard case .failure(.badSignature) = verify(runtime, forged) else {
            Issue.record("a token signed with another secret must fail")
            return
        }
    }

    @Test func unsetSecretVariableMeansNoKeys() throws {
        let variable = "MESHGATE_CONTROL_TEST_UNSET_\(getpid())"
        let block = provider("p", algorithms: #"["HS256"]"#, extra: #""secret_env": "\#(variable)""#)
        // The loader checks its own environment; the runtime reads the process's, where the variable is unset.
        let config = try makeConfig(providers: "{\(block)}", environment: [variable: "x"])
        let runtime = ProviderRuntime(config: config.jwtProviders["p"]!)
        #expect(!runtime.hasKeys)
        #expect(runtime.problems.first?.contains(variable) == true)
    }

    @Test func tokenSourcesFollowFrom() throws {
        let block = provider(
            "p",
            jwks: #"{"inline": \#(TestKey.jwks([Self.signer]))}"#,
            extra: #""from": [{"header": "x-token"}, {"cookie": "at"}]"#
        )
        let runtime = try runtime(block)
        #expect(runtime.extractor.locations == [.header("x-token"), .cookie("at")])
    }

    @Test func registryKeepsRuntimesAndKeysAcrossReload() throws {
        let inline = #"{"inline": \#(TestKey.jwks([Self.signer]))}"#
        let first = try makeConfig(providers: "{\(provider("p", jwks: inline)), \(provider("q", jwks: inline))}")
        let registry = ProviderRegistry()
        registry.update(config: first)
        let p1 = try #require(registry.runtime(named: "p"))
        let q1 = try #require(registry.runtime(named: "q"))

        // Same config: the very same runtime objects.
        registry.update(
            config: try makeConfig(providers: "{\(provider("p", jwks: inline)), \(provider("q", jwks: inline))}")
        )
        #expect(registry.runtime(named: "p") === p1)

        // q changes its leeway only: a new runtime, but the same key material (fetched keys survive).
        let changed = provider("q", jwks: inline, extra: #""leeway_s": 5"#)
        registry.update(config: try makeConfig(providers: "{\(provider("p", jwks: inline)), \(changed)}"))
        let q2 = try #require(registry.runtime(named: "q"))
        #expect(q2 !== q1)
        #expect(q2.keys === q1.keys)
        #expect(q2.policy.leewaySeconds == 5)

        // Different key sources: fresh keys. A provider removed from the config is gone.
        let other = #"{"inline": \#(TestKey.jwks([TestKey(kid: "x")]))}"#
        registry.update(config: try makeConfig(providers: "{\(provider("q", jwks: other))}"))
        #expect(registry.runtime(named: "q")?.keys !== q1.keys)
        #expect(registry.runtime(named: "p") == nil)
        #expect(registry.isReady)
    }

    @Test func reloadRereadsAnEditedKeyFile() throws {
        let old = TestKey(kid: "old")
        let new = TestKey(kid: "new")
        let path = try temporaryFile(TestKey.jwks([old]))
        defer { unlink(path) }
        let config = try makeConfig(providers: "{\(provider("p", jwks: #"{"file": "\#(path)"}"#))}")
        let registry = ProviderRegistry()
        registry.update(config: config)
        let runtime = try #require(registry.runtime(named: "p"))
        let generation = runtime.store.current().generation

        let replacement = try temporaryFile(TestKey.jwks([old, new]))
        defer { unlink(replacement) }
        #expect(rename(replacement, path) == 0)
        registry.update(config: config)
        #expect(registry.runtime(named: "p") === runtime)
        #expect(runtime.store.current().generation == generation + 1)
        #expect(throws: Never.self) { try verify(runtime, new.token()).get() }
    }
}
