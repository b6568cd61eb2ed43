import Testing

@testable import MeshConfig

/// `upstreams.*.protocol` (SPEC §10): `http1` by default, `h2c` and `h2` (with `tls`) taken; `h2` without `tls`
/// and `h2c` beside `tls` refused with what to do — each error at its JSON path.
@Suite struct UpstreamProtocolConfigTests {
    static func upstreams(_ extra: String) -> String {
        #"{"app": {"endpoints": ["127.0.0.1:3000"]\#(extra)}}"#
    }

    @Test func defaultIsHTTP1AndH2cIsTaken() throws {
        #expect(try loadValid(document()).upstreams["app"]?.upstreamProtocol == .http1)
        let h2c = try loadValid(document(upstreams: Self.upstreams(#", "protocol": "h2c""#)))
        #expect(h2c.upstreams["app"]?.upstreamProtocol == .h2c)
        #expect(ConfigLoader.render(h2c).contains(#""protocol":"h2c""#))
        let h2 = try loadValid(document(upstreams: Self.upstreams(#", "protocol": "h2", "tls": {}"#)))
        #expect(h2.upstreams["app"]?.upstreamProtocol == .h2)
        #expect(ConfigLoader.render(h2).contains(#""protocol":"h2""#))
    }

    @Test(arguments: [
        (#", "protocol": "h2""#, "has no \"tls\""),
        (#", "protocol": "h2c", "tls": {}"#, "cleartext HTTP/2"),
        (#", "protocol": "http2""#, "unknown value"),
    ])
    func refusedValuesNameTheirPath(extra: String, message: String) {
        let errors = loadErrors(document(upstreams: Self.upstreams(extra)))
        #expect(errors.map(\.path) == ["upstreams.app.protocol"], "\(errors)")
        #expect(errors.first?.message.contains(message) == true, "\(errors)")
    }
}
