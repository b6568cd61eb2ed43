import Foundation
import Glibc
import Testing

/// Bad input sent through the gateway (not straight to the services, which their own tests cover) to every public
/// and protected endpoint of routes.json: each answer is a 4xx with a JSON `error`, from the gateway or the
/// service, never a 5xx, never a fallback, and every process is still running afterwards (SPEC §8).
@Suite struct DegradationBadInputTests {
    /// One request and the status it must get.
    struct Case: CustomStringConvertible {
        let name: String
        let method: String
        let path: String
        let body: [UInt8]?
        /// Whether to send alice's token.
        let authenticated: Bool
        let status: Int

        init(_ name: String, _ method: String, _ path: String, _ body: String?, auth: Bool = true, status: Int = 400) {
            self.init(name, method, path, bytes: body.map { Array($0.utf8) }, auth: auth, status: status)
        }

        init(_ name: String, _ method: String, _ path: String, bytes: [UInt8]?, auth: Bool = true, status: Int) {
            self.name = name
            self.method = method
            self.path = path
            body = bytes
            authenticated = auth
            self.status = status
        }

        var description: String { "\(name): \(method) \(path)" }
    }

    static let mebibyte = 1 << 20
    /// A nickname that alone makes the body larger than the services' 1 MiB body limit.
    static let hugeNickname = #"{"nickname":""# + String(repeating: "a", count: mebibyte) + #""}"#
    /// Just under the limit: the service reads it all, then refuses the nickname (at most 64 characters).
    static let longNickname = #"{"nickname":""# + String(repeating: "a", count: mebibyte - 64) + #""}"#
    /// Far deeper than MeshJSON's nesting limit (128): must be refused, not recursed into.
    static let deepArray = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
    static let deepPreferences =
        #"{"preferences":"# + String(repeating: #"{"a":"#, count: 200) + "1"
        + String(repeating: "}", count: 200) + "}"
    static let invalidUTF8: [UInt8] =
        Array(#"{"username":""#.utf8) + [0xC3, 0x28, 0xFF] + Array(#"","password":"longenough1"}"#.utf8)

    /// The same body mistakes, against both public auth routes.
    static let authBodies: [(String, String?, Int)] = [
        ("no body", nil, 400), ("empty object", "{}", 400), ("truncated", #"{"username":"#, 400),
        ("array", "[]", 400), ("null", "null", 400), ("trailing comma", #"{"username":"zed",}"#, 400),
        ("wrong types", #"{"username":1,"password":true}"#, 400),
        ("missing password", #"{"username":"zed"}"#, 400),
        ("unknown field", #"{"username":"zed","password":"longenough1","admin":true}"#, 400),
        ("deep nesting", deepArray, 400),
        ("over 1 MiB", #"{"username":"zed","password":""# + String(repeating: "p", count: mebibyte) + #""}"#, 413),
    ]

    static let authCases: [Case] =
        authBodies.map { Case("register, \($0.0)", "POST", "/auth/register", $0.1, auth: false, status: $0.2) }
        + authBodies.map { Case("login, \($0.0)", "POST", "/auth/login", $0.1, auth: false, status: $0.2) } + [
            Case(
                "register, bad name",
                "POST",
                "/auth/register",
                #"{"username":"Bad Name!","password":"longenough1"}"#,
                auth: false
            ),
            Case(
                "register, short password",
                "POST",
                "/auth/register",
                #"{"username":"zed","password":"short"}"#,
                auth: false
            ),
            Case(
                "register, NUL in name",
                "POST",
                "/auth/register",
                #"{"username":"ze\u0000d","password":"longenough1"}"#,
                auth: false
            ),
            Case("register, invalid UTF-8", "POST", "/auth/register", bytes: invalidUTF8, auth: false, status: 400),
            Case(
                "login, wrong password",
                "POST",
                "/auth/login",
                #"{"username":"alice","password":"nope-nope"}"#,
                auth: false,
                status: 401
            ),
            Case(
                "login, huge password",
                "POST",
                "/auth/login",
                #"{"username":"alice","password":""# + String(repeating: "p", count: 100_000) + #""}"#,
                auth: false,
                status: 401
            ),
            Case("register, wrong method", "GET", "/auth/register", nil, auth: false, status: 404),
        ]

    static let profileCases: [Case] = [
        Case("malformed JSON", "PUT", "/profiles/alice", "{"),
        Case("not an object", "PUT", "/profiles/alice", "[]"),
        Case("nickname a number", "PUT", "/profiles/alice", #"{"nickname":5}"#),
        Case("preferences an array", "PUT", "/profiles/alice", #"{"preferences":[]}"#),
        Case("avatar not http", "PUT", "/profiles/alice", #"{"avatar_url":"javascript:alert(1)"}"#),
        Case("unknown field", "PUT", "/profiles/alice", #"{"nick":"typo"}"#),
        Case("control character", "PUT", "/profiles/alice", #"{"nickname":"bell\u0007"}"#),
        Case(
            "65 characters",
            "PUT",
            "/profiles/alice",
            #"{"nickname":""# + String(repeating: "é", count: 65) + #""}"#
        ),
        Case("1 MiB nickname, body over the limit", "PUT", "/profiles/alice", hugeNickname, status: 413),
        Case("1 MiB nickname, body under the limit", "PUT", "/profiles/alice", longNickname),
        Case("deep preferences", "PUT", "/profiles/alice", deepPreferences),
        Case(
            "preferences over 16 KiB",
            "PUT",
            "/profiles/alice",
            #"{"preferences":{"x":""# + String(repeating: "x", count: 17_000) + #""}}"#
        ),
        Case("bad user in path", "PUT", "/profiles/Bad%20Name", #"{"nickname":"x"}"#),
        Case("NUL in path", "GET", "/profiles/%00", nil),
        Case("someone else's profile", "PUT", "/profiles/bob", #"{"nickname":"x"}"#, status: 403),
        Case("no token", "PUT", "/profiles/alice", #"{"nickname":"x"}"#, auth: false, status: 401),
        Case("unknown profile", "GET", "/profiles/nobody", nil, status: 404),
        Case("9 KiB path", "GET", "/profiles/" + String(repeating: "a", count: 9 * 1024), nil, status: 414),
        Case("dot-segments above the root", "GET", "/profiles/../../etc/passwd", nil),
    ]

    static let relationshipCases: [Case] = [
        Case("follow yourself", "PUT", "/follows/alice", nil),
        Case("follow a bad name", "PUT", "/follows/BAD!!", nil),
        Case("unfollow a too-short name", "DELETE", "/follows/x", nil),
        Case("follow a 1000-character name", "PUT", "/follows/" + String(repeating: "b", count: 1000), nil),
        Case("limit 0", "GET", "/friends/alice?limit=0", nil),
        Case("limit 101", "GET", "/following/alice?limit=101", nil),
        Case("limit not a number", "GET", "/followers/alice?limit=abc", nil),
        Case("limit overflows", "GET", "/followers/alice?limit=99999999999999999999999", nil),
        Case("after a bad name", "GET", "/friends/alice?after=%21%21", nil),
        Case("bad user in path", "GET", "/followers/A%20B", nil),
        Case("garbage token", "GET", "/friends/alice", nil, auth: false, status: 401),
    ]

    @Test func authEndpoints() throws {
        try Self.run(Self.authCases)
    }

    @Test func profileEndpoints() throws {
        try Self.run(Self.profileCases)
    }

    @Test func relationshipEndpoints() throws {
        try Self.run(Self.relationshipCases, extraHeaders: [("authorization", "Bearer not.a.jwt")])
    }

    /// A client sending bodies over a service's 1 MiB limit (but under the gateway's 10 MiB) gets the service's
    /// 413 each time. The service answers early and closes while the gateway is still streaming the body; the
    /// complete 413 arrived before the connection went down, so it is a response, not a `reset` (SPEC §3), and the
    /// client's mistakes must not count against the upstream and open its breaker for every other user.
    @Test func oversizedBodiesGetThe413AndLeaveTheBreakerClosed() throws {
        let stack = try DegradationStack()
        let body =
            Array(#"{"username":"zed","password":""#.utf8) + [UInt8](repeating: 0x70, count: 8 << 20)
            + Array(#""}"#.utf8)
        for attempt in 1...8 {
            do {
                let reply = try HTTPClient.request(
                    port: stack.edgePort,
                    "POST",
                    "/auth/register",
                    headers: [("content-type", "application/json")],
                    body: body
                )
                #expect(reply.status == 413, "attempt \(attempt): \(reply.status) \(reply.text)")
            } catch {
                Issue.record("attempt \(attempt): no reply at all (\(error))")
            }
        }
        #expect(try stack.metric("meshgate_circuit_breaker_state", ["upstream": "auth"]) == 0)
        #expect(try stack.breakerInUpstreams("auth") == "closed")
        let login = try stack.call("POST", "/auth/login", json: #"{"username":"zed","password":"longenough1"}"#)
        #expect(login.status == 401, "login after the oversized requests: \(login.text)")
    }

    /// `x-meshgate-deadline-ms` is the gateway's header (SPEC §3: what is left of the route's `timeout_ms`). A
    /// client's own copy must not reach the backend: there it would win (ServiceKit reads the first value), a `0`
    /// turns every request into a 504 `deadline_exceeded`, and those 5xx count against the upstream's breaker.
    @Test func clientDeadlineHeaderDoesNotReachTheBackend() throws {
        let stack = try DegradationStack()
        let alice = try stack.login("alice")
        // "0" and "-5" first: six 504s in a row (one try and two retries each) would open the breaker.
        for value in ["0", "-5", "1", "abc"] {
            let spoofed = [("x-meshgate-deadline-ms", value)]
            let reply = try stack.call("GET", "/friends/alice", token: alice, headers: spoofed)
            #expect(reply.status == 200, "x-meshgate-deadline-ms: \(value) → \(reply.status) \(reply.text)")
        }
        #expect(try stack.metric("meshgate_circuit_breaker_state", ["upstream": "relationships"]) == 0)
        let other = try stack.call("GET", "/following/alice", token: alice)
        #expect(other.status == 200, "another client after the spoofed deadlines: \(other.text)")
    }

    /// Runs `cases` against one stack (alice and bob registered), then checks every process survived and the
    /// normal paths still work.
    static func run(_ cases: [Case], extraHeaders: [(String, String)] = []) throws {
        let stack = try DegradationStack()
        let alice = try stack.login("alice")
        _ = try stack.login("bob")
        for item in cases {
            let headers = item.authenticated ? [("authorization", "Bearer \(alice)")] : extraHeaders
            let reply: HTTPReply
            do {
                reply = try HTTPClient.request(
                    port: stack.edgePort,
                    item.method,
                    item.path,
                    headers: [("content-type", "application/json")] + headers,
                    body: item.body
                )
            } catch {
                Issue.record("\(item): no reply (\(error))")
                continue
            }
            #expect(reply.status == item.status, "\(item): \(reply.status) \(reply.text.prefix(300))")
            #expect(reply.errorCode?.isEmpty == false, "\(item): not a JSON error: \(reply.text.prefix(300))")
            #expect(reply.header("x-meshgate-fallback") == nil, "\(item)")
        }
        for process in [stack.auth, stack.profile, stack.relationships] {
            #expect(process.isRunning, "\(process.binary) died: \(process.log().suffix(2000))")
        }
        #expect(stack.gateway.isRunning, "meshgate died: \(stack.log().suffix(2000))")
        // Still serving, and nothing the bad requests sent was stored.
        let put = try stack.call("PUT", "/profiles/alice", token: alice, json: #"{"nickname":"Alice"}"#)
        #expect(put.status == 200, "\(put.text)")
        #expect(try stack.call("GET", "/following/alice", token: alice).json?["users"]?.arrayValue?.isEmpty == true)
        let bad = try stack.call("POST", "/auth/login", json: #"{"username":"zed","password":"longenough1"}"#)
        #expect(bad.status == 401, "an account was created by bad input: \(bad.text)")
    }
}
