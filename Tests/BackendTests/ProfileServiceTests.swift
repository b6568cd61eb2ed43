import Foundation
import Glibc
import Testing

/// profile-service over real sockets with a real SQLite file (SPEC §8, issue 7).
@Suite struct ProfileServiceTests {
    @Test func putThenGetReturnsTheProfile() throws {
        let service = try ServiceProcess("profile-service")
        let body =
            #"{"nickname":"Ally","avatar_url":"https://img.example/a.png","preferences":{"theme":"dark","n":[1,2]}}"#
        let put = try HTTPClient.json(
            port: service.port,
            "PUT",
            "/profiles/alice",
            body,
            headers: [("x-user-id", "alice")]
        )
        #expect(put.status == 200)
        let get = try HTTPClient.request(port: service.port, "GET", "/profiles/alice")
        #expect(get.status == 200)
        #expect(get.header("content-type") == "application/json")
        let json = try #require(get.json)
        #expect(json["user"]?.stringValue == "alice")
        #expect(json["nickname"]?.stringValue == "Ally")
        #expect(json["avatar_url"]?.stringValue == "https://img.example/a.png")
        #expect(json["preferences"]?["theme"]?.stringValue == "dark")
        #expect(json["preferences"]?["n"]?.arrayValue?.count == 2)
    }

    @Test func putReplacesTheWholeProfile() throws {
        let service = try ServiceProcess("profile-service")
        let headers = [("x-user-id", "carol")]
        _ = try HTTPClient.json(
            port: service.port,
            "PUT",
            "/profiles/carol",
            #"{"nickname":"C","avatar_url":"http://a.b/c"}"#,
            headers: headers
        )
        _ = try HTTPClient.json(port: service.port, "PUT", "/profiles/carol", #"{"nickname":"D"}"#, headers: headers)
        let json = try #require(try HTTPClient.request(port: service.port, "GET", "/profiles/carol").json)
        #expect(json["nickname"]?.stringValue == "D")
        #expect(json["avatar_url"]?.isNull == true)
        #expect(json["preferences"]?.objectValue?.isEmpty == true)
    }

    @Test func unknownUserIs404JSON() throws {
        let service = try ServiceProcess("profile-service")
        let reply = try HTTPClient.request(port: service.port, "GET", "/profiles/nobody")
        #expect(reply.status == 404)
        #expect(reply.errorCode == "not_found")
    }

    /// Every bad PUT body gets a 400 JSON naming the problem; the process survives all of them.
    @Test func badBodiesAre400AndTheServiceSurvives() throws {
        let service = try ServiceProcess("profile-service")
        let bad: [String] = [
            "{", "[]", "\"text\"", "null", "{\"nickname\":5}", "{\"nickname\":\"x\",}", "{\"nick\":\"typo\"}",
            "{\"nickname\":\"" + String(repeating: "é", count: 65) + "\"}",
            "{\"nickname\":\"bell\\u0007\"}",
            "{\"avatar_url\":\"ftp://files.example/a.png\"}", "{\"avatar_url\":\"http://\"}",
            "{\"avatar_url\":\"https://a.example/has space\"}",
            "{\"avatar_url\":\"https://a.example/" + String(repeating: "x", count: 2048) + "\"}",
            "{\"avatar_url\":7}", "{\"preferences\":[1]}", "{\"preferences\":\"dark\"}",
            "{\"preferences\":{\"blob\":\"" + String(repeating: "p", count: 16 * 1024) + "\"}}",
            "{\"nickname\":\"a\",\"nickname\":\"b\"}",
        ]
        for body in bad {
            let reply = try HTTPClient.json(
                port: service.port,
                "PUT",
                "/profiles/dave",
                body,
                headers: [("x-user-id", "dave")]
            )
            #expect(reply.status == 400, "\(body.prefix(60)) → \(reply.status) \(reply.text)")
            #expect(reply.errorCode == "bad_request")
            #expect(reply.json?["detail"]?.stringValue?.isEmpty == false)
        }
        #expect(try HTTPClient.request(port: service.port, "GET", "/healthz").status == 200)
        #expect(try HTTPClient.request(port: service.port, "GET", "/profiles/dave").status == 404)
    }

    @Test func aOneMebibyteNicknameIsRefusedNotACrash() throws {
        let service = try ServiceProcess("profile-service")
        for size in [(1 << 20) - 64, 1 << 20] {
            let body = "{\"nickname\":\"" + String(repeating: "n", count: size) + "\"}"
            let reply = try HTTPClient.json(
                port: service.port,
                "PUT",
                "/profiles/erin",
                body,
                headers: [("x-user-id", "erin")]
            )
            #expect(reply.status == 400 || reply.status == 413)
            #expect(reply.errorCode != nil)
        }
        #expect(service.isRunning)
        #expect(try HTTPClient.request(port: service.port, "GET", "/healthz").status == 200)
    }

    @Test(arguments: [
        (nil as String?, 401, "unauthorized"), ("mallory", 403, "forbidden"), ("NOT OK", 400, "bad_request"),
    ])
    func writesOnlyForTheUserNamedByTheGateway(caller: String?, status: Int, code: String) throws {
        let service = try ServiceProcess("profile-service")
        let headers = caller.map { [("x-user-id", $0)] } ?? []
        let reply = try HTTPClient.json(
            port: service.port,
            "PUT",
            "/profiles/frank",
            #"{"nickname":"F"}"#,
            headers: headers
        )
        #expect(reply.status == status)
        #expect(reply.errorCode == code)
        #expect(try HTTPClient.request(port: service.port, "GET", "/profiles/frank").status == 404)
    }

    @Test func invalidUserInPathIs400() throws {
        let service = try ServiceProcess("profile-service")
        for path in ["/profiles/A", "/profiles/%00abc", "/profiles/" + String(repeating: "a", count: 33)] {
            let reply = try HTTPClient.request(port: service.port, "GET", path)
            #expect(reply.status == 400, "\(path)")
        }
    }

    /// SPEC §8: a write acknowledged with 2xx survives kill -9 of the backend.
    @Test func acknowledgedWriteSurvivesKill9() throws {
        let service = try ServiceProcess("profile-service")
        let put = try HTTPClient.json(
            port: service.port,
            "PUT",
            "/profiles/grace",
            #"{"nickname":"durable"}"#,
            headers: [("x-user-id", "grace")]
        )
        #expect(put.status == 200)
        #expect(service.stop(SIGKILL) == -SIGKILL)
        try service.restart()
        let get = try HTTPClient.request(port: service.port, "GET", "/profiles/grace")
        #expect(get.status == 200)
        #expect(get.json?["nickname"]?.stringValue == "durable")
        #expect(service.stop(SIGTERM) == 0)
    }
}
