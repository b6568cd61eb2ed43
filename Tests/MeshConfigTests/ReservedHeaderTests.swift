import Testing

@testable import MeshConfig

/// Config validation refuses header edits that target framing or gateway-owned fields (SPEC §3, §4): every
/// reserved name, in every spelling a config or an upstream could read as it, in every place a header name
/// is configured, gives exactly one error at its JSON path; free names load.
@Suite struct ReservedHeaderTests {
    static let r0 = "listeners[0].routes[0]"

    /// Spellings that all mean `name`: as listed, upper case, and with `_` for `-`.
    static func spellings(_ name: String) -> [String] {
        var all = [name, name.uppercased()]
        if name.contains("-") { all.append(String(name.map { $0 == "-" ? "_" : $0 })) }
        return all
    }

    /// Where a request-side name goes: (document, expected error path).
    static func requestPlaces(_ name: String) -> [(String, String)] {
        let route = { (fields: String) in #"{"match": {"path": "/"}, "upstream": "app", \#(fields)}"# }
        return [
            (
                document(route: route(#""request_headers": {"set": {"\#(name)": "v"}}"#)),
                "\(r0).request_headers.set.\(name)"
            ),
            (
                document(route: route(#""request_headers": {"remove": ["\#(name)"]}"#)),
                "\(r0).request_headers.remove[0]"
            ),
            (
                document(route: route(#""jwt": {"provider": "local", "claims_to_headers": {"sub": "\#(name)"}}"#)),
                "\(r0).jwt.claims_to_headers.sub"
            ),
            (
                document(listenerExtra: #""jwt": {"provider": "local", "claims_to_headers": {"sub": "\#(name)"}},"#),
                "listeners[0].jwt.claims_to_headers.sub"
            ),
        ]
    }

    static func responsePlaces(_ name: String) -> [(String, String)] {
        let route = { (fields: String) in #"{"match": {"path": "/"}, "upstream": "app", \#(fields)}"# }
        return [
            (
                document(route: route(#""response_headers": {"set": {"\#(name)": "v"}}"#)),
                "\(r0).response_headers.set.\(name)"
            ),
            (
                document(route: route(#""response_headers": {"remove": ["\#(name)"]}"#)),
                "\(r0).response_headers.remove[0]"
            ),
            (
                document(route: route(#""fallback": {"status": 200, "headers": {"\#(name)": "1"}}"#)),
                "\(r0).fallback.headers.\(name)"
            ),
        ]
    }

    static func expectOneError(_ text: String, at path: String, _ name: String) {
        let errors = loadErrors(text)
        #expect(errors.count == 1, "\(name): \(errors)")
        #expect(errors.first?.path == path, "\(name): \(errors)")
        #expect(errors.first?.message.contains("written by the gateway") == true, "\(name): \(errors)")
        #expect(errors.first?.line != nil, "\(name): every validation error has a position")
    }

    // Regression: issue 10 — request_headers / claims_to_headers could set framing and gateway-owned headers.
    @Test(arguments: ReservedHeaders.request.sorted())
    func requestSideNamesAreRefusedEverywhere(_ name: String) {
        for spelling in Self.spellings(name) {
            for (text, path) in Self.requestPlaces(spelling) { Self.expectOneError(text, at: path, spelling) }
        }
    }

    @Test(arguments: ReservedHeaders.response.sorted())
    func responseSideNamesAreRefusedEverywhere(_ name: String) {
        for spelling in Self.spellings(name) {
            for (text, path) in Self.responsePlaces(spelling) { Self.expectOneError(text, at: path, spelling) }
        }
    }

    @Test func theListsCoverWhatSpecSaysTheGatewayOwns() {
        for name in [
            "content-length", "transfer-encoding", "host", "connection", "keep-alive", "proxy-connection", "te",
            "trailer", "upgrade", "expect", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded",
            "x-request-id", "traceparent", "tracestate", "x-meshgate-deadline-ms",
        ] {
            #expect(ReservedHeaders.request.contains(name), "\(name)")
        }
        for name in ["content-length", "transfer-encoding", "connection"] {
            #expect(ReservedHeaders.response.contains(name), "\(name)")
        }
    }

    @Test(arguments: ["x-env", "x-user-id", "authorization", "cookie", "x-content-length", "via", "server"])
    func freeNamesLoad(_ name: String) throws {
        for (text, _) in Self.requestPlaces(name) + Self.responsePlaces(name) { _ = try loadValid(text) }
    }

    @Test func invalidTokensAreStillRefusedWithTheirOwnMessage() {
        let text = document(
            route: #"{"match": {"path": "/"}, "upstream": "app", "request_headers": {"set": {"bad name": "v"}}}"#)
        let errors = loadErrors(text)
        #expect(errors.count == 1 && errors.first?.message.contains("not a valid header name") == true, "\(errors)")
    }
}
