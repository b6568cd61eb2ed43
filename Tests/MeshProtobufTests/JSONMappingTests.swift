import MeshJSON
import MeshProtobuf
import Testing

/// Table tests from the proto3 JSON mapping's examples (protobuf.dev/programming-guides/json): input JSON
/// parsed and printed back gives the canonical form; and every error names the JSON path that caused it.
@Suite struct JSONMappingTests {
    static let canonical: [(type: String, input: String, output: String)] = [
        // Timestamp: "Z"-normalized, fractional digits 0, 3, 6 or 9.
        ("WellKnown", #"{"ts":"1972-01-01T10:00:20.021Z"}"#, #"{"ts":"1972-01-01T10:00:20.021Z"}"#),
        ("WellKnown", #"{"ts":"1972-01-01T10:00:20.021000Z"}"#, #"{"ts":"1972-01-01T10:00:20.021Z"}"#),
        ("WellKnown", #"{"ts":"1972-01-01T10:00:20.000001Z"}"#, #"{"ts":"1972-01-01T10:00:20.000001Z"}"#),
        ("WellKnown", #"{"ts":"1972-01-01T10:00:20.1234567Z"}"#, #"{"ts":"1972-01-01T10:00:20.123456700Z"}"#),
        ("WellKnown", #"{"ts":"1972-01-01T10:00:20+01:00"}"#, #"{"ts":"1972-01-01T09:00:20Z"}"#),
        ("WellKnown", #"{"ts":"1970-01-01T00:00:00Z"}"#, #"{"ts":"1970-01-01T00:00:00Z"}"#),
        ("WellKnown", #"{"ts":"1969-12-31T23:59:59.999Z"}"#, #"{"ts":"1969-12-31T23:59:59.999Z"}"#),
        // Duration: "1.000340012s", "1s"; negative with a zero seconds part.
        ("WellKnown", #"{"dur":"1.000340012s"}"#, #"{"dur":"1.000340012s"}"#),
        ("WellKnown", #"{"dur":"1s"}"#, #"{"dur":"1s"}"#),
        ("WellKnown", #"{"dur":"1.5s"}"#, #"{"dur":"1.500s"}"#),
        ("WellKnown", #"{"dur":"-0.5s"}"#, #"{"dur":"-0.500s"}"#),
        ("WellKnown", #"{"dur":"0s"}"#, #"{"dur":"0s"}"#),
        // Wrappers: the wrapped value, 64-bit as strings, defaults printed (presence is the point).
        (
            "WellKnown", #"{"i64":3,"u32":0,"b":false,"s":"","by":"_-8"}"#,
            #"{"i64":"3","u32":0,"b":false,"s":"","by":"/+8="}"#
        ),
        // Struct, Value, ListValue, Empty, NullValue.
        (
            "WellKnown", #"{"st":{"a":null,"b":[true,"x",1.5]},"v":null,"lv":[{}],"e":{},"nullValue":null}"#,
            #"{"st":{"a":null,"b":[true,"x",1.5]},"v":null,"lv":[{}],"e":{}}"#
        ),
        // int64 as string, enum by name (number when unnamed), NaN/Infinity, default values omitted.
        (
            "Scalars", #"{"fInt64":1,"fUint64":"2","fEnum":1,"fInt32":0,"fString":"","fDouble":"-Infinity"}"#,
            #"{"fDouble":"-Infinity","fInt64":"1","fUint64":"2","fEnum":"RED"}"#
        ),
        (
            "Scalars", #"{"fEnum":99,"fFloat":"NaN","optInt32":0,"optString":""}"#,
            #"{"fFloat":"NaN","fEnum":99,"optInt32":0,"optString":""}"#
        ),
        (
            "Scalars", #"{"fBytes":"AQID","renamedField":"r","optString":null}"#,
            #"{"fBytes":"AQID","renamedField":"r"}"#
        ),
        // Maps: keys are strings whatever the key type.
        (
            "Maps", #"{"int64Str":{"1":"a"},"boolMsg":{"false":{}},"u32Enum":{"3":1}}"#,
            #"{"int64Str":{"1":"a"},"boolMsg":{"false":{}},"u32Enum":{"3":"RED"}}"#
        ),
        // FieldMask: lowerCamelCase paths joined by commas; Any: @type first, then the payload's JSON.
        ("WellKnown", #"{"mask":"a.fooBar,bBaz"}"#, #"{"mask":"a.fooBar,bBaz"}"#),
        (
            "WellKnown", #"{"any":{"fInt32":1,"@type":"x/meshtest.v1.Scalars"}}"#,
            #"{"any":{"@type":"x/meshtest.v1.Scalars","fInt32":1}}"#
        ),
        (
            "WellKnown", #"{"any":{"@type":"x/google.protobuf.Duration","value":"1.5s"}}"#,
            #"{"any":{"@type":"x/google.protobuf.Duration","value":"1.500s"}}"#
        ),
        // Oneof members print even at their default.
        ("Oneofs", #"{"number":0}"#, #"{"number":0}"#),
        ("Repeated", #"{"rInt32":[],"rUint64":[1],"rNested":[{}]}"#, #"{"rUint64":["1"],"rNested":[{}]}"#),
    ]

    @Test(arguments: 0..<canonical.count)
    func canonicalForm(index: Int) throws {
        let (type, input, output) = Self.canonical[index]
        let mapping = ProtoJSON(pool: try ProtoTools.pool())
        let message = try mapping.parse(Array(input.utf8), as: "meshtest.v1." + type)
        #expect(String(decoding: try mapping.print(message), as: UTF8.self) == output)
    }

    /// Floats print as their shortest text and parse straight to the same float (no double rounding through
    /// Double), doubles likewise; NaN payloads are the one thing JSON cannot keep.
    @Test func floatsRoundTripExactly() throws {
        let mapping = ProtoJSON(pool: try ProtoTools.pool())
        let floats: [Float] = [
            0.1, -0.0, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, 16_777_215,
            1.0e-7, 3.3554432e7, .infinity, -.infinity, 1 / 3,
        ]
        let doubles: [Double] = [0.1, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e300, 2 / 3, -.infinity]
        for (f, d) in zip(floats, doubles + doubles) {
            var m = ProtoMessage(typeName: ".meshtest.v1.Scalars")
            m[1] = .single(.double(d))
            m[2] = .single(.float(f))
            let back = try mapping.parse(try mapping.print(m), as: "meshtest.v1.Scalars")
            #expect(back == m, "\(f) \(d)")
        }
    }

    @Test func protoFieldNamesOption() throws {
        var options = ProtoJSON.Options()
        options.preserveProtoFieldNames = true
        let mapping = ProtoJSON(pool: try ProtoTools.pool(), options: options)
        let m = try mapping.parse(Array(#"{"fInt32":1,"renamedField":"x"}"#.utf8), as: "meshtest.v1.Scalars")
        #expect(String(decoding: try mapping.print(m), as: UTF8.self) == #"{"f_int32":1,"custom_json":"x"}"#)
    }

    @Test func ignoreUnknownFieldsOption() throws {
        var options = ProtoJSON.Options()
        options.ignoreUnknownFields = true
        let mapping = ProtoJSON(pool: try ProtoTools.pool(), options: options)
        let m = try mapping.parse(Array(#"{"nope":{"x":[1]},"fInt32":2}"#.utf8), as: "meshtest.v1.Scalars")
        #expect(m.fields == [5: .single(.int32(2))])
    }

    // MARK: - Errors name the JSON path

    static let errors: [(type: String, json: String, path: String)] = [
        ("Scalars", #"{"nope":1}"#, "nope"),
        ("Everything", #"{"nested":{"inner":{"bogus":1}}}"#, "nested.inner.bogus"),
        ("Repeated", #"{"rInt32":[1,"x"]}"#, "rInt32[1]"),
        ("Repeated", #"{"rInt32":[null]}"#, "rInt32[0]"),
        ("Repeated", #"{"rInt32":1}"#, "rInt32"),
        ("Repeated", #"{"rNested":[{},{"name":1}]}"#, "rNested[1].name"),
        ("Maps", #"{"strInt":{"k":"notint"}}"#, #"strInt["k"]"#),
        ("Maps", #"{"int64Str":{"x":"a"}}"#, #"int64Str["x"]"#),
        ("Maps", #"{"boolMsg":{"yes":{}}}"#, #"boolMsg["yes"]"#),
        ("Maps", #"{"strInt":{"k":null}}"#, #"strInt["k"]"#),
        ("Maps", #"{"strInt":[]}"#, "strInt"),
        ("Scalars", #"{"fInt32":2147483648}"#, "fInt32"),
        ("Scalars", #"{"fUint32":-1}"#, "fUint32"),
        ("Scalars", #"{"fInt64":"9223372036854775808"}"#, "fInt64"),
        ("Scalars", #"{"fUint64":"-1"}"#, "fUint64"),
        ("Scalars", #"{"fInt32":1.5}"#, "fInt32"),
        ("Scalars", #"{"fInt32":" 1"}"#, "fInt32"),
        ("Scalars", #"{"fBool":"true"}"#, "fBool"),
        ("Scalars", #"{"fString":1}"#, "fString"),
        ("Scalars", #"{"fEnum":"PURPLE"}"#, "fEnum"),
        ("Scalars", #"{"fEnum":true}"#, "fEnum"),
        ("Scalars", #"{"fBytes":"!!!!"}"#, "fBytes"),
        ("Scalars", #"{"fBytes":"A"}"#, "fBytes"),
        ("Scalars", #"{"fFloat":3.5e38}"#, "fFloat"),
        ("Scalars", #"{"fDouble":"nan"}"#, "fDouble"),
        ("Scalars", #"{"fDouble":"0x10"}"#, "fDouble"),
        ("Scalars", #"{"fInt32":1,"f_int32":2}"#, "f_int32"),
        ("Scalars", #"{"fInt32":1,"fInt32":2}"#, "fInt32"),
        ("Maps", #"{"strInt":{"k":1,"k":2}}"#, #"strInt["k"]"#),
        ("WellKnown", #"{"st":{"a":1,"a":2}}"#, #"st["a"]"#),
        ("Oneofs", #"{"name":"a","number":1}"#, "number"),
        ("Everything", #"{"scalars":[]}"#, "scalars"),
        ("Scalars", "[]", ""),
        ("WellKnown", #"{"ts":"1972-13-01T00:00:00Z"}"#, "ts"),
        ("WellKnown", #"{"ts":"1972-02-30T00:00:00Z"}"#, "ts"),
        ("WellKnown", #"{"ts":"0000-12-31T00:00:00Z"}"#, "ts"),
        ("WellKnown", #"{"ts":"1972-01-01T00:00:00"}"#, "ts"),
        ("WellKnown", #"{"ts":"1972-01-01T00:00:00.1234567891Z"}"#, "ts"),
        ("WellKnown", #"{"ts":"1972-01-01 00:00:00Z"}"#, "ts"),
        ("WellKnown", #"{"tss":["1972-01-01T00:00:00Z",5]}"#, "tss[1]"),
        ("WellKnown", #"{"dur":"1.5"}"#, "dur"),
        ("WellKnown", #"{"dur":"315576000001s"}"#, "dur"),
        ("WellKnown", #"{"dur":"-s"}"#, "dur"),
        ("WellKnown", #"{"i32":"x"}"#, "i32"),
        ("WellKnown", #"{"st":[]}"#, "st"),
        ("WellKnown", #"{"lv":{}}"#, "lv"),
        ("WellKnown", #"{"vals":{"a":{"b":[1,{"c":1}]}},"e":{"x":1}}"#, "e.x"),
        ("WellKnown", #"{"mask":"foo_bar"}"#, "mask"),
        ("WellKnown", #"{"mask":["a"]}"#, "mask"),
        ("WellKnown", #"{"any":{"fInt32":1}}"#, "any.@type"),
        ("WellKnown", #"{"any":{"@type":"type.googleapis.com/nope.Missing"}}"#, "any.@type"),
        ("WellKnown", #"{"any":{"@type":"x/google.protobuf.Duration"}}"#, "any.value"),
        ("WellKnown", #"{"any":{"@type":"x/google.protobuf.Duration","value":"1"}}"#, "any.value"),
        ("WellKnown", #"{"anys":[{},{"@type":"x/meshtest.v1.Scalars","bogus":1}]}"#, "anys[1].bogus"),
    ]

    @Test(arguments: 0..<errors.count)
    func errorNamesPath(index: Int) throws {
        let (type, json, path) = Self.errors[index]
        let mapping = ProtoJSON(pool: try ProtoTools.pool())
        #expect(
            performing: { try mapping.parse(Array(json.utf8), as: "meshtest.v1." + type) },
            throws: { error in
                switch error as? ProtobufError {
                case .unknownJSONField(let p)?, .invalidJSON(let p, _)?: p == path
                default: false
                }
            })
    }

    @Test func syntaxErrorsAndDepth() throws {
        let mapping = ProtoJSON(pool: try ProtoTools.pool())
        for json in [#"{"fInt32":"#, #"{"fDouble":NaN}"#, "", #"{"fInt32":1,}"#] {
            #expect(
                performing: { try mapping.parse(Array(json.utf8), as: "meshtest.v1.Scalars") },
                throws: { error in
                    if case .jsonSyntax? = error as? ProtobufError { return true }
                    return false
                })
        }
        let deep = String(repeating: #"{"a":"#, count: 100) + "1" + String(repeating: "}", count: 100)
        #expect(throws: ProtobufError.self) {
            try mapping.parse(Array(#"{"st":\#(deep)}"#.utf8), as: "meshtest.v1.WellKnown")
        }
    }

    @Test func printErrorsNamePath() throws {
        let pool = try ProtoTools.pool()
        let mapping = ProtoJSON(pool: pool)
        var ts = ProtoMessage(typeName: ".google.protobuf.Timestamp")
        ts[1] = .single(.int64(TimeTextLimits.maxTimestamp + 1))
        var m = ProtoMessage(typeName: ".meshtest.v1.WellKnown")
        m[1] = .single(.message(ts))
        #expect(throws: ProtobufError.invalidJSON(path: "ts", message: "Timestamp out of range: 253402300800s 0ns")) {
            try mapping.print(m)
        }
        var value = ProtoMessage(typeName: ".google.protobuf.Value")
        value[2] = .single(.double(.nan))
        var list = ProtoMessage(typeName: ".google.protobuf.ListValue")
        list[1] = .repeated([.message(ProtoMessage(typeName: ".google.protobuf.Value")), .message(value)])
        var w = ProtoMessage(typeName: ".meshtest.v1.WellKnown")
        w[14] = .single(.message(list))
        #expect(throws: ProtobufError.invalidJSON(path: "lv[1]", message: "Value cannot hold NaN or Infinity")) {
            try mapping.print(w)
        }
        var d = ProtoMessage(typeName: ".google.protobuf.Duration")
        d[1] = .single(.int64(1))
        d[2] = .single(.int32(-1))
        var w2 = ProtoMessage(typeName: ".meshtest.v1.WellKnown")
        w2[2] = .single(.message(d))
        #expect(throws: ProtobufError.self) { try mapping.print(w2) }
        // Extreme seconds/nanos (what any bytes can decode to) are range errors, never an abs() overflow.
        for (seconds, nanos) in [(Int64.min, Int32(0)), (0, Int32.min), (Int64.max, Int32.max)] {
            for (number, type) in [(Int32(1), ".google.protobuf.Timestamp"), (2, ".google.protobuf.Duration")] {
                var t = ProtoMessage(typeName: type)
                t[1] = .single(.int64(seconds))
                t[2] = .single(.int32(nanos))
                var holder = ProtoMessage(typeName: ".meshtest.v1.WellKnown")
                holder[number] = .single(.message(t))
                #expect(throws: ProtobufError.self) { try mapping.print(holder) }
            }
        }
        // FieldMask paths JSON cannot carry: a ',' (the separator), uppercase, a lone empty path.
        for paths in [["a,b"], ["fooBar"], ["a_1"], [""]] {
            var mask = ProtoMessage(typeName: ".google.protobuf.FieldMask")
            mask[1] = .repeated(paths.map { .string($0) })
            var holder = ProtoMessage(typeName: ".meshtest.v1.WellKnown")
            holder[21] = .single(.message(mask))
            #expect(throws: ProtobufError.self, "\(paths)") { try mapping.print(holder) }
        }
        // Non-ASCII passes through unchanged both ways (no ß → SS case mapping).
        let ascii = try mapping.parse(Array(#"{"mask":"straße.fooBar,,x"}"#.utf8), as: "meshtest.v1.WellKnown")
        #expect(String(decoding: try mapping.print(ascii), as: UTF8.self) == #"{"mask":"straße.fooBar,,x"}"#)
        // Regression (fuzz): a combining mark after ',' fused with it into one Character, so "a,\u{59F}b" was one
        // path on parsing.
        let fused = try mapping.parse(Array("{\"mask\":\"a,\u{59F}b\"}".utf8), as: "meshtest.v1.WellKnown")
        guard case .single(.message(let fusedMask)) = fused[21] else {
            Issue.record("mask not parsed")
            return
        }
        #expect(fusedMask[1] == .repeated([.string("a"), .string("\u{59F}b")]))
        // A hand-built chain deeper than the printer's bound is an error, not a stack overflow.
        var node = ProtoMessage(typeName: ".meshtest.v1.Node")
        for _ in 0..<200 {
            var parent = ProtoMessage(typeName: ".meshtest.v1.Node")
            parent[1] = .single(.message(node))
            node = parent
        }
        #expect(
            performing: { try mapping.print(node) },
            throws: { error in
                if case .invalidJSON(_, let message)? = error as? ProtobufError { return message.contains("deeper") }
                return false
            })
        // An Any whose payload is not its type's bytes.
        var any = ProtoMessage(typeName: ".google.protobuf.Any")
        any[1] = .single(.string("type.googleapis.com/meshtest.v1.Scalars"))
        any[2] = .single(.bytes([0x0A, 0x05]))
        var w3 = ProtoMessage(typeName: ".meshtest.v1.WellKnown")
        w3[20] = .single(.message(any))
        #expect(
            performing: { try mapping.print(w3) },
            throws: { error in
                if case .invalidJSON("any", _)? = error as? ProtobufError { return true }
                return false
            })
    }
}

/// timestamp.proto's upper bound (9999-12-31T23:59:59Z) in Unix seconds.
enum TimeTextLimits {
    static let maxTimestamp: Int64 = 253_402_300_799
}
