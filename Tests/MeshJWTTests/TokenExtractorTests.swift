import MeshJWT
import Testing

@Suite struct TokenExtractorTests {
    /// A header lookup over a fixed list of (lowercase name, value) fields.
    static func lookup(_ fields: [(String, String)]) -> (String) -> [Substring] {
        { name in fields.filter { $0.0 == name }.map { Substring($0.1) } }
    }

    @Test(
        arguments: [
            ("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer abc.def.ghi", "abc.def.ghi"),
            ("BEARER  abc.def.ghi ", "abc.def.ghi"),
            ("Bearer\tabc", nil), ("Basic dXNlcjpwYXNz", nil), ("Bearerabc", nil),
        ] as [(String, String?)])
    func bearerScheme(value: String, token: String?) {
        let result = TokenExtractor().extract(header: Self.lookup([("authorization", value)]))
        if let token {
            #expect((try? result.get()).map(String.init) == token)
        } else {
            #expect(throws: JWTError.missing) { try result.get() }
        }
    }

    @Test func bearerWithoutTokenOrWithSpacesIsMalformed() {
        for value in ["Bearer", "Bearer   ", "Bearer a b"] {
            #expect(throws: JWTError.malformed) {
                try TokenExtractor().extract(header: Self.lookup([("authorization", value)])).get()
            }
        }
    }

    @Test func returnsASliceOfTheHeaderValue() throws {
        let value: Substring = Substring("Bearer tok.en.x")
        let token = try TokenExtractor().extract(header: { _ in [value] }).get()
        #expect(token == "tok.en.x")
        #expect(token.startIndex >= value.startIndex && token.endIndex == value.endIndex)  // same storage, no copy
    }

    @Test func namedHeaderAndCookieInConfiguredOrder() throws {
        let extractor = TokenExtractor(locations: [.header("X-Token"), .cookie("access_token"), .bearer])
        let fromCookie = try extractor.extract(
            header: Self.lookup([
                ("cookie", "theme=dark; access_token=\"c.o.k\"; x=1"), ("authorization", "Bearer b.e.r"),
            ])
        ).get()
        #expect(fromCookie == "c.o.k")
        let fromHeader = try extractor.extract(
            header: Self.lookup([("x-token", " h.d.r "), ("cookie", "access_token=c")])
        ).get()
        #expect(fromHeader == "h.d.r")
    }

    @Test func cookieParsing() {
        #expect(TokenExtractor.cookie(named: "a", in: "a=1") == "1")
        #expect(TokenExtractor.cookie(named: "a", in: "ab=2; a=3") == "3")
        #expect(TokenExtractor.cookie(named: "a", in: "b=2") == nil)
        #expect(TokenExtractor.cookie(named: "a", in: "A=2") == nil)  // RFC 6265: names are case-sensitive
        #expect(TokenExtractor.cookie(named: "a", in: "a=\"q\"") == "q")
    }

    @Test func nothingAnywhereIsMissing() {
        let extractor = TokenExtractor(locations: [.header("x-token"), .cookie("t")])
        #expect(throws: JWTError.missing) { try extractor.extract(header: Self.lookup([("cookie", "other=1")])).get() }
    }
}
