import Glibc
import MeshTestSupport
import Testing

/// SPEC §2/§7 sidecar mode: `meshgate run --config F -- APP ARGS...`.
@Suite struct SidecarTests {
    /// One sidecar with its app, the "other" service behind the outbound listener, and cleanup that never
    /// leaves the app running (its pid is read from the app's own file).
    final class World {
        let other: TestUpstream
        let gateway: GatewayProcess
        let admin: AdminClient
        let state: String
        let inboundPort: UInt16
        let appPort: UInt16

        /// `jwksPort`: also a JWT provider (on the inbound listener) whose key set comes from that port.
        init(jwksPort: UInt16? = nil) throws {
            other = try TestUpstream(.failThenSucceed(failures: 1))
            let python = try SidecarApp.python()
            let directory = try GatewayProcess.makeTempDirectory()
            state = directory
            inboundPort = try TestSocket.freePort()
            let outboundPort = try TestSocket.freePort()
            appPort = try TestSocket.freePort()
            let adminPort = try TestSocket.freePort()
            try ChildProcess.writeFile(directory + "/app.py", SidecarApp.script)
            let config = World.config(
                ports: (admin: adminPort, inbound: inboundPort, outbound: outboundPort, app: appPort),
                other: other.port, jwksPort: jwksPort)
            try ChildProcess.writeFile(directory + "/routes.json", config)
            do {
                gateway = try GatewayProcess.start(
                    configPath: directory + "/routes.json", directory: directory, port: outboundPort,
                    adminPort: adminPort,
                    app: [python, directory + "/app.py", directory, "\(appPort)", "\(outboundPort)"])
            } catch {
                other.shutdown()
                throw error
            }
            admin = AdminClient(port: adminPort)
        }

        /// Inbound listener → the app (JWT-checked when there is a provider); outbound listener, by `Host: other`,
        /// → "other" with retries on 502/503/504; the app's health URL; a quick drain.
        static func config(
            ports: (admin: UInt16, inbound: UInt16, outbound: UInt16, app: UInt16), other: UInt16, jwksPort: UInt16?
        ) -> String {
            let jwt = jwksPort == nil ? "" : ", \"jwt\": { \"provider\": \"mesh\", \"required\": true }"
            let retry =
                "\"retry\": { \"retries\": 2, \"on\": [\"gateway-error\"], "
                + "\"backoff_base_ms\": 5, \"backoff_max_ms\": 20 }"
            let outbound =
                "{ \"name\": \"other\", \"match\": { \"path_prefix\": \"/\", \"host\": \"other\" }, "
                + "\"upstream\": \"other\", \(retry) }"
            var extra =
                "\"app\": { \"health_url\": \"http://127.0.0.1:\(ports.app)/healthz\", "
                + "\"startup_timeout_ms\": 20000 }"
            if let jwksPort { extra += ",\n  \"jwt_providers\": " + SidecarTests.provider(jwksPort: jwksPort) }
            return OpsConfig.document(
                admin: ports.admin,
                listeners: [
                    OpsConfig.listener(
                        "inbound", port: ports.inbound,
                        routes: [
                            OpsConfig.route("app", prefix: "/", to: "app", "\"retry\": { \"retries\": 0 }" + jwt)
                        ]),
                    OpsConfig.listener("outbound", port: ports.outbound, routes: [outbound]),
                ],
                upstreams: ["app": ports.app, "other": other],
                limits: "{ \"drain_grace_ms\": 0, \"drain_timeout_ms\": 5000 }", watch: false, extra: extra)
        }

        deinit {
            if gateway.isRunning { gateway.stop(graceMs: 3000) }
            if let pid = Int32(file("pid")), kill(pid, 0) == 0 { kill(pid, SIGKILL) }
            other.shutdown()
        }

        /// The contents of a file the app wrote, or "".
        func file(_ name: String) -> String { ChildProcess.readFile(state + "/" + name) }

        /// Waits (bounded) until the app wrote `name`.
        func waitForFile(_ name: String) -> Bool { Poll.until(timeoutMs: 10_000) { !file(name).isEmpty } }

        /// Makes the app healthy and waits (bounded) for `/readyz` 200.
        func becomeReady() -> Bool {
            _ = try? ChildProcess.writeFile(state + "/healthy", "yes")
            return Poll.until(timeoutMs: 5000) { admin.readyStatus() == 200 }
        }
    }

    @Test func appStartsAfterTheSidecarAndReadinessFollowsItsHealth() throws {
        let world = try World()
        #expect(world.waitForFile("pid"), "the app never started:\n\(world.gateway.stdout)")
        #expect(world.file("first-connect") == "ok", "the app's first connect to its sidecar failed")
        // The app is up and answers its health URL with 503: the sidecar is not ready.
        #expect(
            Poll.until(timeoutMs: 10_000) {
                try RawClient(port: world.appPort).get("/healthz").status == 503
            })
        #expect(world.admin.readyStatus() == 503)
        #expect(world.becomeReady(), "/readyz never turned 200 once the app was healthy")

        // The app reaches "other" through the outbound listener; the first attempt gets a 503 and is retried.
        let call = try RawClient(port: world.inboundPort).get("/call")
        #expect(call.status == 200 && call.bodyText == "200 ok", "\(call)")
        #expect(world.other.requests.count == 2)
        #expect(world.other.requests.first?.head.header("host") == "other")
        #expect(try world.admin.metric("meshgate_retries_total", ["route": "other"]) == 1)

        // The app exits 7: the sidecar drains and exits 7 too.
        let bye = try RawClient(port: world.inboundPort).get("/exit/7")
        #expect(bye.status == 200 && bye.bodyText == "bye")
        let ended = world.gateway.child.wait(timeoutMs: 10_000)
        #expect(ended == .exited(7), "meshgate ended with \(String(describing: ended))")
    }

    @Test(arguments: [(SIGTERM, "SIGTERM", 42), (SIGINT, "SIGINT", 43)])
    func signalIsForwardedToTheAppAndItsExitCodeReturned(signal: Int32, name: String, code: Int32) throws {
        let world = try World()
        #expect(world.waitForFile("pid"), "the app never started:\n\(world.gateway.stdout)")
        #expect(world.becomeReady())
        world.gateway.signal(signal)
        let ended = world.gateway.child.wait(timeoutMs: 10_000)
        #expect(world.file("signal") == name, "the app did not get \(name)")
        // The app's handler exits 42 (SIGTERM) or 43 (SIGINT); the sidecar reports exactly that.
        #expect(ended == .exited(code), "meshgate ended with \(String(describing: ended))")
    }

    /// An app killed by a signal: the sidecar exits 128 + the signal number, as a shell reports it.
    @Test func appKilledBySignalGivesTheShellExitCode() throws {
        let world = try World()
        #expect(world.waitForFile("pid"), "the app never started:\n\(world.gateway.stdout)")
        let pid = try #require(Int32(world.file("pid")))
        kill(pid, SIGKILL)
        let ended = world.gateway.child.wait(timeoutMs: 10_000)
        #expect(ended == .exited(128 + SIGKILL), "meshgate ended with \(String(describing: ended))")
    }

    /// The app starts only once every JWT provider has keys (SPEC §7): the JWKS server holds its answer for
    /// `delayMs`, so the app cannot have started earlier than that after the gateway asked for the keys.
    @Test func appStartsOnlyOnceTheJWTProviderHasKeys() throws {
        let delayMs = 2500
        let jwks = try TestUpstream(
            .slow(
                delayMs: delayMs,
                reply: UpstreamReply(
                    headers: [("content-type", "application/json")], body: SidecarTests.jwks)))
        defer { jwks.shutdown() }
        let world = try World(jwksPort: jwks.port)
        let fetches = jwks.waitForRequests(1, timeoutMs: 10_000)
        #expect(fetches.count >= 1, "the JWKS was never fetched")
        // When the request arrived (a test thread may notice it late on a loaded machine).
        let asked = fetches.first?.receivedAtMs ?? TestSocket.nowMs()
        #expect(world.waitForFile("pid"), "the app never started:\n\(world.gateway.stdout)")
        let started = TestSocket.nowMs()
        // A lower bound only (the key set cannot have arrived sooner); the margin covers the 2 ms poll steps.
        #expect(started - asked >= delayMs - 200, "the app started \(started - asked) ms after the JWKS request")
        #expect(world.file("first-connect") == "ok")
        #expect(world.becomeReady(), "/readyz never turned 200:\n\(world.gateway.stdout.suffix(2000))")
    }

    /// SIGTERM while the sidecar still waits for JWT keys (auth-service down, a rollout cancelled): the signal
    /// must be served now, not after `startup_timeout_ms`, and the app has no reason to start any more.
    @Test func sigtermWhileWaitingForKeysStopsAtOnce() throws {
        let jwks = try TestUpstream(.neverAnswer)
        defer { jwks.shutdown() }
        let world = try World(jwksPort: jwks.port)
        #expect(jwks.waitForRequests(1, timeoutMs: 10_000).count >= 1, "the JWKS was never fetched")
        world.gateway.signal(SIGTERM)
        // startup_timeout_ms is 20 s; drain_timeout_ms 5 s bounds a prompt exit.
        let ended = world.gateway.child.wait(timeoutMs: 7000)
        #expect(ended == .exited(0), "SIGTERM was not served while waiting for keys: \(String(describing: ended))")
        #expect(world.file("pid").isEmpty, "the app was started after SIGTERM")
    }

    /// A JWT provider entry whose key set is served on `jwksPort`.
    static func provider(jwksPort: UInt16) -> String {
        """
        { "mesh": { "issuer": "meshgate-auth", "audiences": ["meshgate"], "algorithms": ["ES256"],
                    "jwks": { "url": "http://127.0.0.1:\(jwksPort)/jwks.json", "refresh_ms": 300000 } } }
        """
    }

    /// One P-256 public key (from the JWT tests' generated fixtures).
    static let jwks = """
        {"keys":[{"kty":"EC","crv":"P-256","kid":"ec-256",\
        "x":"kL7011qYAn-yeZ9QidXc5riDDKwnaRMTA6AocvgLmRg","y":"hyN5k7Tf_y-4gj9eF-cNGLSwONDWRrSLeFx0rgk2efM"}]}
        """
}
