import Testing

@testable import MeshConfig

@Suite struct ErrorReportingTests {
    @Test(arguments: [
        ("{\n  \"version\": 1,\n  \"listeners\": [,]\n}", 3, 17, "invalid JSON: expected a value, found ','"),
        ("{\"version\": 1\n\"listeners\": []}", 2, 1, "invalid JSON: expected ',' or '}' after a member, found '\"'"),
        ("{\n  // comment\n}", 2, 3, "invalid JSON: comments are not allowed in JSON"),
        ("", 1, 1, "invalid JSON: empty document: expected a JSON value"),
        ("{\"version\": 1, \"version\": 1}", 1, 16, "invalid JSON: duplicate key \"version\""),
    ])
    func syntaxErrorIsOneErrorWithLineAndColumn(text: String, line: Int, column: Int, message: String) {
        let errors = loadErrors(text)
        #expect(errors == [ConfigError(path: "", line: line, column: column, message: message)])
    }

    /// A misspelled top-level key is the cause: it comes first, and the errors that only follow from it (the key
    /// it was meant to be "missing", routes naming upstreams "none are defined under") are not listed.
    @Test func aMisspelledTopLevelKeyIsReportedFirstWithoutItsConsequences() {
        let upstreamTypo = """
            {
              "version": 1,
              "logging": { "level": "loud" },
              "listeners": [
                { "name": "edge", "address": "127.0.0.1:8080",
                  "routes": [ { "match": { "path": "/a" }, "upstream": "app" },
                              { "match": { "path": "/b" }, "upstream": "app" } ] }
              ],
              "upstream": { "app": { "endpoints": ["127.0.0.1:9000"] } }
            }
            """
        let errors = loadErrors(upstreamTypo)
        #expect(errors.map(\.path) == ["upstream", "logging.level"], "\(errors)")
        #expect(errors.first?.message == "unknown key \"upstream\" (did you mean \"upstreams\"?)")
        let listenersTypo = """
            { "version": 1, "listners": [], "upstreams": { "app": { "endpoints": ["127.0.0.1:9000"] } } }
            """
        #expect(loadErrors(listenersTypo).map(\.path) == ["listners"])
    }

    @Test func allErrorsAreCollectedInFileOrder() {
        // Upstreams come after listeners in the file but are decoded first: the output must still be in file order.
        let text = """
            {
              "version": 1,
              "listners": [],
              "listeners": [
                { "name": "edge", "address": "127.0.0.1:80800",
                  "routes": [
                    { "match": { "path": "/" }, "upstream": "nope", "timeout_ms": "3s" }
                  ] }
              ],
              "upstreams": { "app": { "endpoints": [] } },
              "logging": { "level": "loud" }
            }
            """
        let errors = loadErrors(text)
        #expect(
            errors.map(\.path) == [
                "listners", "listeners[0].address", "listeners[0].routes[0].upstream",
                "listeners[0].routes[0].timeout_ms", "upstreams.app.endpoints", "logging.level",
            ])
        #expect(errors.map(\.line) == [3, 5, 7, 7, 10, 11])
        #expect(errors[0].message == "unknown key \"listners\" (did you mean \"listeners\"?)")
        #expect(errors[2].message == "unknown upstream \"nope\"; known upstreams: app")
        #expect(errors[0].column == 3)
    }

    @Test func descriptionIsCompilerStyle() {
        let error = ConfigError(
            path: "listeners[0].routes[1].retry.retires", line: 12, column: 7,
            message: "unknown key \"retires\" (did you mean \"retries\"?)")
        #expect(
            error.description
                == "routes.json:12:7: listeners[0].routes[1].retry.retires: unknown key \"retires\" (did you mean \"retries\"?)"
        )
        let root = ConfigError(path: "", line: nil, column: nil, message: "cannot read the file", fileName: "/x.json")
        #expect(root.description == "/x.json: cannot read the file")
        let errors = ConfigErrors(errors: [error, root])
        #expect(errors.description.split(separator: "\n").count == 2)
    }

    @Test func unknownKeyWithoutCloseMatchListsAllowedKeys() {
        let errors = loadErrors(document(extra: #""limits": {"banana": 1}"#))
        #expect(errors.first?.message.hasPrefix("unknown key \"banana\"; expected one of: max_header_bytes,") == true)
    }

    @Test(arguments: [
        ("retires", "retries"), ("timeout", "timeout_ms"), ("Timeout_MS", "timeout_ms"), ("upsteam", "upstream"),
        ("path_prefx", "path_prefix"), ("per_try_timeout", "per_try_timeout_ms"), ("methds", "methods"),
        ("claims_to_header", "claims_to_headers"), ("pubic", "public"), ("rewite", "rewrite"),
    ])
    func suggestion(word: String, expected: String) {
        #expect(
            Suggestion.closest(
                to: word,
                in: ConfigDecoder.routeKeys + ConfigDecoder.ruleKeys + ConfigDecoder.matchKeys + ConfigDecoder.retryKeys
            ) == expected)
    }

    @Test(arguments: ["banana", "x", "zzzzzzzz", "fallen"])
    func noSuggestionForUnrelatedWords(word: String) {
        #expect(Suggestion.closest(to: word, in: ConfigDecoder.routeKeys) == nil)
    }

    @Test(arguments: [("kitten", "sitting", 3), ("ab", "ba", 1), ("", "abc", 3), ("same", "same", 0), ("ca", "abc", 3)])
    func editDistance(a: String, b: String, expected: Int) {
        #expect(Suggestion.distance(Array(a.utf8), Array(b.utf8)) == expected)
    }
}
