import MeshJSON
import Testing

private func parse(_ text: String, options: JSONReader.Options = .init()) throws(JSONSyntaxError) -> JSONNode {
    try JSONReader.parse(Array(text.utf8), options: options)
}

private func syntaxError(_ bytes: [UInt8], options: JSONReader.Options = .init()) -> JSONSyntaxError? {
    do {
        _ = try JSONReader.parse(bytes, options: options)
        return nil
    } catch {
        return error
    }
}

@Suite struct JSONReaderTests {
    // RFC 8259 §13, first example.
    static let rfcImage = """
        {
          "Image": {
              "Width":  800,
              "Height": 600,
              "Title":  "View from 15th Floor",
              "Thumbnail": {
                  "Url":    "http://www.example.com/image/481989943",
                  "Height": 125,
                  "Width":  100
              },
              "Animated" : false,
              "IDs": [116, 943, 234, 38793]
            }
        }
        """

    @Test func rfc8259ImageExample() throws {
        let root = try parse(Self.rfcImage)
        let image = try #require(root["Image"])
        #expect(image["Width"]?.int64Value == 800)
        #expect(image["Title"]?.stringValue == "View from 15th Floor")
        #expect(image["Thumbnail"]?["Url"]?.stringValue == "http://www.example.com/image/481989943")
        #expect(image["Animated"]?.boolValue == false)
        #expect(image["IDs"]?.arrayValue?.compactMap(\.int64Value) == [116, 943, 234, 38793])
        // Positions: `"Image"` key's value starts on line 2, column 12; "IDs" values on line 12.
        #expect(image.position == JSONPosition(line: 2, column: 12, offset: 13))
        #expect(image["IDs"]?.position.line == 12)
        let members = try #require(image.objectValue)
        #expect(members.map(\.key) == ["Width", "Height", "Title", "Thumbnail", "Animated", "IDs"])
        #expect(members[0].keyPosition == JSONPosition(line: 3, column: 7, offset: 21))
    }

    // RFC 8259 §13, second example (array of two objects, negative and fractional numbers).
    @Test func rfc8259ArrayExample() throws {
        let text = """
            [
              {"precision": "zip", "Latitude":  37.7668, "Longitude": -122.3959,
               "Address": "", "City": "SAN FRANCISCO", "State": "CA", "Zip": "94107", "Country": "US"},
              {"precision": "zip", "Latitude":  37.371991, "Longitude": -122.026020,
               "Address": "", "City": "SUNNYVALE", "State": "CA", "Zip": "94085", "Country": "US"}
            ]
            """
        let items = try #require(try parse(text).arrayValue)
        #expect(items.count == 2)
        #expect(items[0]["Latitude"]?.doubleValue == 37.7668)
        #expect(items[1]["Longitude"]?.doubleValue == -122.026020)
        #expect(items[1]["Longitude"]?.int64Value == nil)
        #expect(items[1]["City"]?.stringValue == "SUNNYVALE")
        #expect(items[1].position == JSONPosition(line: 4, column: 3, offset: 165))
    }

    // RFC 8259 §13: scalar texts are JSON texts too.
    @Test(arguments: [
        ("\"Hello world!\"", JSONValue.string("Hello world!")),
        ("42", .number(JSONNumber(42))),
        ("true", .bool(true)),
        (" null ", .null),
        ("[]", .array([])),
        ("{}", .object([])),
    ])
    func scalarTexts(text: String, expected: JSONValue) throws {
        #expect(try parse(text).value == expected)
    }

    @Test(arguments: [
        ("0", 0.0, Int64?.some(0)),
        ("-0", -0.0, 0),
        ("123", 123, 123),
        ("-9223372036854775808", -9223372036854775808.0, Int64.min),
        ("9223372036854775807", 9223372036854775807.0, Int64.max),
        ("9223372036854775808", 9223372036854775808.0, nil),
        ("1.5", 1.5, nil),
        ("2.0", 2, 2),
        ("1e3", 1000, 1000),
        ("1E+2", 100, 100),
        ("25e-1", 2.5, nil),
        ("-1.25e-2", -0.0125, nil),
        ("1e300", 1e300, nil),
    ])
    func numbers(text: String, double: Double, int: Int64?) throws {
        let node = try parse(text)
        guard case .number(let number) = node.value else {
            Issue.record("not a number: \(node.value)")
            return
        }
        #expect(number.text == text)
        #expect(number.double == double)
        #expect(number.int == int)
    }

    @Test(arguments: [
        (#""a\"b""#, "a\"b"),
        (#""\\\/\b\f\n\r\t""#, "\\/\u{08}\u{0C}\n\r\t"),
        (#""\u0041\u00e9\u20AC""#, "Aé€"),
        (#""\u0000""#, "\u{0}"),
        (#""\uD834\uDD1E""#, "𝄞"),
        (#""\ud83d\ude00 ok""#, "😀 ok"),
        ("\"é€𝄞\"", "é€𝄞"),
        ("\"\u{7F}\"", "\u{7F}"),
    ])
    func strings(text: String, expected: String) throws {
        #expect(try parse(text).stringValue == expected)
    }

    @Test func byteOrderMarkIsSkipped() throws {
        let node = try JSONReader.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8))
        #expect(node.arrayValue?.first?.int64Value == 1)
        #expect(node.position.offset == 3)
    }

    @Test func duplicateKeysAllowedWhenOptedOut() throws {
        var options = JSONReader.Options()
        options.rejectDuplicateKeys = false
        let node = try parse(#"{"a": 1, "a": 2}"#, options: options)
        #expect(node.objectValue?.count == 2)
        #expect(node["a"]?.int64Value == 1)
    }

    @Test func duplicateKeyInLargeObjectIsFound() {
        // Past 16 members the reader switches to a hash set; the check must still work.
        let members = (0..<40).map { "\"k\($0)\": \($0)" }.joined(separator: ", ")
        let error = syntaxError(Array("{\(members), \"k7\": 0}".utf8))
        #expect(error?.message == "duplicate key \"k7\"")
    }

    @Test func hundredThousandNestedArraysFailWithoutCrashing() {
        let deep = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        let error = syntaxError(deep)
        #expect(
            error
                == JSONSyntaxError(
                    message: "nesting deeper than 128 levels", position: JSONPosition(line: 1, column: 129, offset: 128)
                ))
        // With the limit lifted the explicit stack still copes and the error is the missing end.
        var options = JSONReader.Options()
        options.maxDepth = 1_000_000
        let unlimited = syntaxError(deep, options: options)
        #expect(unlimited?.message == "unexpected end of input: expected a value")
        #expect(unlimited?.position.offset == 100_000)
    }

    @Test func depthLimitIsInclusive() throws {
        var options = JSONReader.Options()
        options.maxDepth = 3
        _ = try parse("[[[]]]", options: options)
        _ = try parse(#"{"a":{"b":[1]}}"#, options: options)
        #expect(syntaxError(Array("[[[[]]]]".utf8), options: options)?.position.column == 4)
    }

    @Test func sizeLimit() {
        var options = JSONReader.Options()
        options.maxBytes = 4
        #expect(
            syntaxError(Array("[1,2]".utf8), options: options)?.message == "document is 5 bytes, over the limit of 4")
    }

    @Test func parsesFromRawBuffer() throws {
        let bytes = Array(#"{"x": [true, null]}"#.utf8)
        let node = try bytes.withUnsafeBytes { buffer throws(JSONSyntaxError) in try JSONReader.parse(buffer) }
        #expect(node["x"]?.arrayValue?.count == 2)
        #expect(node["x"]?.arrayValue?[1].isNull == true)
        #expect(node["missing"] == nil)
        #expect(node["x"]?["nested"] == nil)
    }
}
