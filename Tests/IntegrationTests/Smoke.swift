import MeshTestSupport
import Testing

@Test func smoke() throws {
    let upstream = try TestUpstream(.echo)
    defer { upstream.shutdown() }
    let port = try TestSocket.freePort()
    let gateway = try GatewayProcess(
        configJSON: TestConfig.json(port: port, routes: [TestConfig.route("/", to: "app")], upstreams: ["app": upstream.port]),
        port: port)
    let client = try RawClient(port: port)
    let response = try client.request("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
    #expect(response.status == 200)
    print(response.head.text, response.bodyText)
    #expect(gateway.stop() == .exited(0))
}
