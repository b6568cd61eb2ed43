import MeshJSON
import Testing

/// Every error the reader produces, with the exact position it reports.
@Suite struct JSONSyntaxErrorTests {
    struct Case: Sendable, CustomStringConvertible {
        let input: [UInt8]
        let line: Int
        let column: Int
        let message: String
        init(_ text: String, _ line: Int, _ column: Int, _ message: String) {
            self.init(bytes: Array(text.utf8), line, column, message)
        }
        init(bytes: [UInt8], _ line: Int, _ column: Int, _ message: String) {
            self.input = bytes
            self.line = line
            self.column = column
            self.message = message
        }
        var description: String { String(decoding: input, as: UTF8.self) }
    }

    static let cases: [Case] = [
        Case("", 1, 1, "empty document: expected a JSON value"),
        Case("  \n ", 2, 2, "empty document: expected a JSON value"),
        Case("[1,]", 1, 3, "trailing comma before ']'"),
        Case("{\"a\": 1,\n}", 1, 8, "trailing comma before '}'"),
        Case("[1 2]", 1, 4, "expected ',' or ']' after an array element, found '2'"),
        Case("{\"a\": 1 \"b\": 2}", 1, 9, "expected ',' or '}' after a member, found '\"'"),
        Case("[1", 1, 3, "unexpected end of input: expected ',' or ']'"),
        Case("{\"a\":1", 1, 7, "unexpected end of input: expected ',' or '}'"),
        Case("[", 1, 2, "unexpected end of input: expected a value"),
        Case("{a: 1}", 1, 2, "expected a string key in double quotes, found 'a'"),
        Case("{\"a\" 1}", 1, 6, "expected ':' after key \"a\", found '1'"),
        Case("{\"a\": }", 1, 7, "expected a value, found '}'"),
        Case("[,1]", 1, 2, "expected a value, found ','"),
        Case("{\n  \"port\": 1,\n  \"port\": 2\n}", 3, 3, "duplicate key \"port\""),
        Case("[1] [2]", 1, 5, "unexpected '[' after the JSON value"),
        Case("01", 1, 1, "leading zeros are not allowed"),
        Case("[-012]", 1, 3, "leading zeros are not allowed"),
        Case("-", 1, 2, "expected a digit after '-', found end of input"),
        Case("-a", 1, 2, "expected a digit after '-', found 'a'"),
        Case("1.", 1, 3, "expected a digit after '.', found end of input"),
        Case("1.e5", 1, 3, "expected a digit after '.', found 'e'"),
        Case("1e", 1, 3, "expected a digit in the exponent, found end of input"),
        Case("1e+x", 1, 4, "expected a digit in the exponent, found 'x'"),
        Case("+1", 1, 1, "expected a value, found '+'"),
        Case(".5", 1, 1, "expected a value, found '.'"),
        Case("[1e400]", 1, 2, "number 1e400 is out of range"),
        Case("NaN", 1, 1, "NaN and Infinity are not valid JSON numbers"),
        Case("[Infinity]", 1, 2, "NaN and Infinity are not valid JSON numbers"),
        Case("-Infinity", 1, 2, "expected a digit after '-', found 'I'"),
        Case("tru", 1, 1, "invalid literal: expected true, false or null"),
        Case("[nul]", 1, 2, "invalid literal: expected true, false or null"),
        Case("True", 1, 1, "expected a value, found 'T'"),
        Case("// c\n1", 1, 1, "comments are not allowed in JSON"),
        Case("[1, /* c */ 2]", 1, 5, "comments are not allowed in JSON"),
        Case("'a'", 1, 1, "strings must use double quotes"),
        Case("{\n  // c\n}", 2, 3, "comments are not allowed in JSON"),
        Case("[1 // c\n]", 1, 4, "comments are not allowed in JSON"),
        Case("{\"a\" /* c */ : 1}", 1, 6, "comments are not allowed in JSON"),
        Case("1 # c", 1, 3, "unexpected '#' after the JSON value"),
        Case("1 /", 1, 3, "comments are not allowed in JSON"),
        Case("\"abc", 1, 5, "unterminated string: expected '\"' before the end of input"),
        Case("\"a\\", 1, 4, "unterminated string: expected an escape after '\\'"),
        Case("\"a\nb\"", 1, 3, "control character U+000A must be escaped in a string"),
        Case("\"\t\"", 1, 2, "control character U+0009 must be escaped in a string"),
        Case("\"\\x\"", 1, 2, "invalid escape '\\x'"),
        Case("\"\\u12G4\"", 1, 2, "invalid \\u escape: expected 4 hex digits"),
        Case("\"\\u12\"", 1, 2, "invalid \\u escape: expected 4 hex digits"),
        Case("\"ab\\uDC00\"", 1, 4, "lone low surrogate \\uDC00"),
        Case("\"\\uD800\"", 1, 2, "lone high surrogate: \\uD800-\\uDBFF must be followed by \\uDC00-\\uDFFF"),
        Case("\"\\uD800\\u0041\"", 1, 2, "lone high surrogate: \\uD800-\\uDBFF must be followed by \\uDC00-\\uDFFF"),
        Case("\"\\uD800\\uD800\"", 1, 2, "lone high surrogate: \\uD800-\\uDBFF must be followed by \\uDC00-\\uDFFF"),
        Case("\"\\uD800\\u00x0\"", 1, 8, "invalid \\u escape: expected 4 hex digits"),
        Case("[1]\n\n  x", 3, 3, "unexpected 'x' after the JSON value"),
        Case("é", 1, 1, "expected a value, found byte 0xC3"),
        Case(bytes: [0x22, 0x61, 0xC0, 0xAF, 0x22], 1, 3, "invalid UTF-8: byte 0xC0 cannot start a character"),
        Case(bytes: [0x22, 0x80, 0x22], 1, 2, "invalid UTF-8: byte 0x80 cannot start a character"),
        Case(bytes: [0x22, 0xE0, 0x80, 0x80, 0x22], 1, 2, "invalid UTF-8: byte 0x80 after 0xE0"),
        Case(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], 1, 2, "invalid UTF-8: byte 0xA0 after 0xED"),
        Case(bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1, 2, "invalid UTF-8: byte 0x90 after 0xF4"),
        Case(bytes: [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], 1, 2, "invalid UTF-8: byte 0xF5 cannot start a character"),
        Case(bytes: [0x22, 0xC3, 0x41, 0x22], 1, 2, "invalid UTF-8: byte 0x41 after 0xC3"),
        Case(bytes: [0x22, 0xE2, 0x82], 1, 2, "invalid UTF-8: truncated sequence"),
        Case(bytes: [0x22, 0x00, 0x22], 1, 2, "control character U+0000 must be escaped in a string"),
    ]

    @Test(arguments: cases)
    func reportsErrorAtPosition(_ testCase: Case) {
        do {
            let node = try JSONReader.parse(testCase.input)
            Issue.record("expected an error, parsed \(node.value)")
        } catch {
            #expect(error.message == testCase.message)
            #expect(error.position.line == testCase.line)
            #expect(error.position.column == testCase.column)
        }
    }

    @Test func descriptionIsLineColonColumn() {
        let error = JSONSyntaxError(message: "boom", position: JSONPosition(line: 3, column: 9, offset: 40))
        #expect(error.description == "3:9: boom")
    }

    @Test func offsetMatchesLineAndColumn() throws {
        // A multi-line document: the offset must be the byte index of the reported position.
        let text = "{\n  \"a\": [1,\n    2,,3]\n}"
        do {
            _ = try JSONReader.parse(Array(text.utf8))
            Issue.record("expected an error")
        } catch {
            let bytes = Array(text.utf8)
            #expect(error.position == JSONPosition(line: 3, column: 7, offset: 19))
            #expect(bytes[error.position.offset] == UInt8(ascii: ","))
        }
    }
}
