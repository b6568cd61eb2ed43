/// The text `meshgate demo` prints once everything is up: a curl session through the gateway.
enum DemoWalkthrough {
    static func text(
        edge: String, admin: String?, profile: String?, https: String?, certificate: String, logs: String
    ) -> String {
        var metrics = ""
        if let admin { metrics += "curl -s \(admin)/metrics | head\n" }
        if let profile { metrics += "curl -s \(profile)/metrics | head\n" }
        var tls = ""
        if let https {
            tls = """

                # 5. the same API over HTTPS, HTTP/1.1 and HTTP/2 (a certificate made at start, trusted with --cacert)
                curl -s --cacert \(certificate) \(https)/profiles/alice -H "Authorization: Bearer $TOKEN"
                curl -s --http2 --cacert \(certificate) -o /dev/null -w '%{http_version}\\n' \\
                     \(https)/profiles/alice -H "Authorization: Bearer $TOKEN"

                """
        }
        return """

            meshgate demo is running: gateway on \(edge), backends behind it.
            Output of every process goes to \(logs)/ (gateway.log, auth-service.log, …). Ctrl-C stops everything.

            # 1. register two users and log in as alice (public routes)
            curl -s -X POST \(edge)/auth/register -d '{"username":"alice","password":"wonderland1"}'
            curl -s -X POST \(edge)/auth/register -d '{"username":"bob","password":"builder123"}'
            TOKEN=$(curl -s -X POST \(edge)/auth/login -d '{"username":"alice","password":"wonderland1"}' \\
                    | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')
            BOB=$(curl -s -X POST \(edge)/auth/login -d '{"username":"bob","password":"builder123"}' \\
                    | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')

            # 2. write and read your profile (the gateway checks the token and sets x-user-id from "sub")
            curl -s -X PUT \(edge)/profiles/alice -H "Authorization: Bearer $TOKEN" \\
                 -d '{"nickname":"Alice","avatar_url":"https://example.com/alice.png","preferences":{"theme":"dark"}}'
            curl -s \(edge)/profiles/alice -H "Authorization: Bearer $TOKEN"
            curl -s -i -X PUT \(edge)/profiles/bob -H "Authorization: Bearer $TOKEN" -d '{}'     # 403: not yours
            curl -s -i \(edge)/profiles/alice                                                  # 401: no token
            # the same profile as REST the gateway turns into gRPC (profile.v1.Profiles, transcoded with
            # backends/protos/profile.pb), one user and a batch
            curl -s \(edge)/v1/profiles/alice -H "Authorization: Bearer $TOKEN"
            curl -s -X POST \(edge)/v1/profiles:batchGet -H "Authorization: Bearer $TOKEN" -d '{"users":["alice","bob"]}'

            # 3. follow each other and list friends; lists carry each user's nickname and avatar, which
            #    relationship-service asks profile-service for over gRPC (h2c), through its own meshgate sidecar
            curl -s -X PUT \(edge)/follows/bob -H "Authorization: Bearer $TOKEN"
            curl -s -X PUT \(edge)/follows/alice -H "Authorization: Bearer $BOB"
            curl -s "\(edge)/friends/alice?limit=10" -H "Authorization: Bearer $TOKEN"
            curl -s \(edge)/followers/bob -H "Authorization: Bearer $BOB"

            # 4. metrics: the gateway's admin listener and a backend's own /metrics
            \(metrics)\(tls)
            # 6. degradation at the caller: with profile-service stopped, followers still answer, with the default
            #    avatar and an empty nickname ("profiles_degraded":true); start it again with the command the demo
            #    prints, and the profiles are back once the sidecar's breaker half-opens (at most 30 s)
            kill $(cat \(logs)/profile-service.pid) && sleep 1
            curl -s \(edge)/followers/bob -H "Authorization: Bearer $BOB"
            """
    }
}
