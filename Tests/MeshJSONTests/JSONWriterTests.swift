import MeshJSON
import Testing

@Suite struct JSONWriterTests {
    @Test(arguments: [
        ("plain", #""plain""#),
        ("quote\"", #""quote\"""#),
        ("back\\slash", #""back\\slash""#),
        ("slash/", #""slash/""#),
        ("\u{08}\u{0C}\n\r\t", #""\b\f\n\r\t""#),
        ("\u{0}", #""\u0000""#),
        ("\u{1}\u{1F}", #""\u0001\u001f""#),
        ("\u{0B}", #""\u000b""#),
        ("\u{7F}", "\"\u{7F}\""),
        ("é€😀", "\"é€😀\""),
        ("</script>", #""</script>""#),
    ])
    func escapeTable(input: String, expected: String) throws {
        #expect(JSONWriter.escaped(input) == expected)
        // Everything the writer escapes reads back to the same string.
        #expect(try JSONReader.parse(expected).stringValue == input)
    }

    @Test func everyControlCharacterRoundTrips() throws {
        let all = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        let text = JSONWriter.escaped(all)
        #expect(!text.utf8.contains { $0 < 0x20 })
        #expect(try JSONReader.parse(text).stringValue == all)
    }

    @Test func writesNestedStructureWithCommas() {
        var w = JSONWriter()
        w.beginObject()
        w.key("a")
        w.number(1)
        w.key("b")
        w.beginArray()
        w.bool(true)
        w.null()
        w.string("x")
        w.beginObject()
        w.endObject()
        w.beginArray()
        w.endArray()
        w.number(2.5)
        w.endArray()
        w.key("c")
        w.raw(#"{"pre":"made"}"#)
        w.key("d")
        w.number(-7)
        w.endObject()
        #expect(w.text == #"{"a":1,"b":[true,null,"x",{},[],2.5],"c":{"pre":"made"},"d":-7}"#)
    }

    @Test(arguments: [
        (1.0, "1.0"), (0.1, "0.1"), (-2.5, "-2.5"), (1e-05, "1e-05"), (1e20, "1e+20"),
        (Double.nan, "null"), (Double.infinity, "null"), (-Double.infinity, "null"),
    ])
    func doubles(value: Double, expected: String) throws {
        var w = JSONWriter()
        w.number(value)
        #expect(w.text == expected)
        let node = try JSONReader.parse(w.bytes)
        if value.isFinite { #expect(node.doubleValue == value) } else { #expect(node.isNull) }
    }

    static let roundTripDocuments = [
        #"{"Image":{"Width":800,"Height":600,"Title":"View from 15th Floor","IDs":[116,943,234,38793]}}"#,
        #"[{"precision":"zip","Latitude":37.7668,"Longitude":-122.3959,"Address":""}]"#,
        #"[1e3,-0,0.5,1E-2,12345678901234567890]"#,
        #"{"s":"tab\there \"q\" \\ \u0001 é 😀","n":null,"t":true,"f":false,"e":{},"a":[]}"#,
        #"[[[[{"deep":[[["x"]]]}]]]]"#,
    ]

    @Test(arguments: roundTripDocuments)
    func roundTripIsByteExactForCompactInput(document: String) throws {
        let node = try JSONReader.parse(document)
        var w = JSONWriter()
        w.value(node.value)
        #expect(w.text == document)
    }

    @Test func roundTripOfPrettyInputIsStructurallyEqual() throws {
        let pretty = "{\n  \"a\" : [ 1 , 2.50 ],\n  \"b\" : { \"c\" : \"\\u00e9\" }\n}"
        let node = try JSONReader.parse(pretty)
        var w = JSONWriter()
        w.value(node.value)
        #expect(w.text == #"{"a":[1,2.50],"b":{"c":"é"}}"#)
        let again = try JSONReader.parse(w.bytes)
        // Positions differ (different layout); the values must not.
        #expect(again["a"]?.arrayValue?.map(\.value) == node["a"]?.arrayValue?.map(\.value))
        #expect(again["b"]?["c"]?.stringValue == "é")
    }
}
