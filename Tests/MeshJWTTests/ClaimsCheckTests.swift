import MeshJSON
import MeshJWT
import Testing

@Suite struct ClaimsCheckTests {
    static let claims = try! JSONReader.parse(
        """
        {"sub":"user-42","scope":"profile:read profile:write","roles":["admin","ops",7],"level":3,"ratio":1.5,
         "verified":true,"org":{"id":1},"nothing":null,"evil":"a\\r\\nx-admin: 1","tabbed":"a\\tb"}
        """)

    /// SPEC §3 require_claims: equal, or array contains, or space-separated string contains.
    @Test(
        arguments: [
            ("sub", "user-42", nil), ("sub", "user", "mismatch"), ("scope", "profile:write", nil),
            ("scope", "profile", "mismatch"), ("scope", "profile:read profile:write", nil), ("roles", "ops", nil),
            ("roles", "7", nil), ("roles", "root", "mismatch"), ("level", "3", nil), ("verified", "true", nil),
            ("verified", "false", "mismatch"), ("org", "1", "mismatch"), ("absent", "x", "missing"),
            ("nothing", "null", "missing"),
        ] as [(String, String, String?)])
    func requireClaims(claim: String, value: String, failure: String?) {
        let check = ClaimsCheck(requirements: [.init(claim: claim, value: value)])
        let result = check.check(Self.claims)
        switch failure {
        case nil: #expect(result == nil)
        case "missing": #expect(result == .claimMissing(claim))
        default: #expect(result == .claimMismatch(claim))
        }
        #expect(result?.isForbidden ?? true)
    }

    @Test func allRequirementsMustHold() {
        let check = ClaimsCheck(requirements: [
            .init(claim: "sub", value: "user-42"), .init(claim: "roles", value: "x"),
        ])
        #expect(check.check(Self.claims) == .claimMismatch("roles"))
    }

    @Test func claimsToHeaders() {
        let check = ClaimsCheck(headerMappings: [
            .init(claim: "sub", header: "x-user-id"), .init(claim: "level", header: "x-level"),
            .init(claim: "ratio", header: "x-ratio"), .init(claim: "verified", header: "x-verified"),
            .init(claim: "roles", header: "x-roles"), .init(claim: "org", header: "x-org"),
            .init(claim: "nothing", header: "x-nothing"), .init(claim: "absent", header: "x-absent"),
            .init(claim: "evil", header: "x-evil"), .init(claim: "tabbed", header: "x-tabbed"),
        ])
        let headers = check.headers(from: Self.claims)
        #expect(headers.map(\.name) == ["x-user-id", "x-level", "x-ratio", "x-verified", "x-tabbed"])
        #expect(headers.map(\.value) == ["user-42", "3", "1.5", "true", "a\tb"])
    }
}
