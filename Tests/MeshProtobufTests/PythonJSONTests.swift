import MeshJSON
import MeshProtobuf
import MeshTestSupport
import Testing

/// The JSON mapping against Python's `google.protobuf.json_format` loading the same descriptor set: JSON parsed
/// by us and encoded must equal `json_format.Parse` + `SerializeToString`; bytes printed by us must mean the
/// same JSON as `json_format.MessageToJson` (compared as parsed values, not as text).
@Suite struct PythonJSONTests {
    static let jsonInputs: [(type: String, json: String)] = [
        (
            "meshtest.v1.Scalars",
            """
            {"fDouble":1.5,"fFloat":-2.25,"fInt64":"-9223372036854775808","fUint64":"18446744073709551615",
             "fInt32":-42,"fFixed64":"1234567890123","fFixed32":4294967295,"fBool":true,"fString":"h\\u00e9llo",
             "fBytes":"AAH/","fUint32":300,"fEnum":"NEGATIVE","fSfixed32":-5,"fSfixed64":"-6",
             "fSint32":-2147483648,"fSint64":"9223372036854775807","optInt32":0,"optString":"",
             "bigNumberField":7,"renamedField":"c"}
            """
        ),
        // Accepted alternatives: proto names, 64-bit ints as numbers, 32-bit ints as strings, integral
        // exponents, NaN/-Infinity strings, URL-safe base64 without padding, enum by number and numeric string.
        (
            "meshtest.v1.Scalars",
            """
            {"f_int64":5,"f_uint64":12,"fDouble":"NaN","fFloat":"-Infinity","fBytes":"-_8","fEnum":2,
             "fInt32":"12","fSint32":1e2,"fFixed32":"7","fSfixed64":3,"custom_json":"x","fUint32":1.0}
            """
        ),
        ("meshtest.v1.Scalars", #"{"fEnum":"5","fFloat":"1.5","fInt64":"1e3","fUint64":1.8e19,"fString":null}"#),
        ("meshtest.v1.Scalars", #"{"fInt32":0,"fString":"","fBool":false,"fEnum":"COLOR_UNSPECIFIED","fBytes":""}"#),
        (
            "meshtest.v1.Repeated",
            """
            {"rInt32":[1,-1,300],"rString":["a",""],"rEnum":["RED",2,"NEGATIVE"],"rNested":[{"name":"x"},{}],
             "unpackedInt32":[1,2],"rDouble":["Infinity",0.5],"rBytes":["","AA=="],"rUint64":["1",2],
             "rSint64":["-9223372036854775808"],"rFloat":[0.1],"rBool":[true,false],"unpackedDouble":[-0.0]}
            """
        ),
        (
            "meshtest.v1.Maps",
            """
            {"strInt":{"b":1,"a":2,"":3,"ab":4},"int64Str":{"-1":"x","10":"y","5":"z"},
             "boolMsg":{"true":{"name":"t"},"false":{}},"u32Enum":{"7":"GREEN","0":"RED"},
             "sint64Bytes":{"-9":"AQ=="},"fixed32Double":{"4":0.25},"strScalars":{"s":{"fInt32":1}},
             "int32Uint64":{"0":"0","-3":"18446744073709551615"}}
            """
        ),
        // Canonically equivalent but different strings are different keys (protobuf compares bytes).
        ("meshtest.v1.Maps", #"{"strInt":{"\u00e9":1,"e\u0301":2},"int64Str":{"1":"\u00e9","2":"e\u0301"}}"#),
        ("meshtest.v1.WellKnown", #"{"st":{"\u00e9":1,"e\u0301":2}}"#),
        ("meshtest.v1.Oneofs", #"{"nested":{"name":"x"},"other":3}"#),
        ("meshtest.v1.Oneofs", #"{"number":0}"#),
        ("meshtest.v1.Oneofs", #"{"color":"COLOR_UNSPECIFIED","raw":null}"#),
        ("meshtest.v1.Oneofs", #"{"raw":""}"#),
        ("meshtest.v1.Nested", #"{"inner":{"child":{"child":{"note":"deep"}}},"inners":[{},{"depth":2}]}"#),
        (
            "meshtest.v1.WellKnown",
            """
            {"ts":"1972-01-01T10:00:20.021Z","dur":"-1.5s","i32":0,"i64":"-5","u32":7,
             "u64":"18446744073709551615","f":1.5,"d":"NaN","b":false,"s":"","by":"AQID",
             "st":{"a":[1,null,"x",{"b":true}],"n":null},"v":{"k":[]},"lv":[1,"two",null],"e":{},
             "tss":["2020-02-29T23:59:59.999999999Z","0001-01-01T00:00:00Z","9999-12-31T23:59:59Z"],
             "vals":{"x":null,"y":"s","z":2.5},"nullValue":null,"rI32":[1,0]}
            """
        ),
        (
            "meshtest.v1.WellKnown",
            """
            {"ts":"1972-01-01T10:00:20.021+05:30","dur":"0.000000001s","v":null,"st":{},"lv":[],
             "tss":["1969-12-31T23:59:59.5-00:01","2038-01-19T03:14:08.1Z"],"d":1e300,"by":"_-8"}
            """
        ),
        ("meshtest.v1.WellKnown", #"{"dur":"315576000000.999999999s","v":"str","i64":3}"#),
        ("meshtest.v1.WellKnown", #"{"dur":"-0.5s","v":true,"st":{"deep":{"deeper":{"x":[[]]}}}}"#),
        (
            "meshtest.v1.WellKnown",
            """
            {"any":{"@type":"type.googleapis.com/meshtest.v1.Scalars","fInt32":5,"f_string":"x","fInt64":"7"},
             "mask":"fInt32,nested.fooBar,a,,b"}
            """
        ),
        (
            "meshtest.v1.WellKnown",
            """
            {"anys":[{"@type":"type.googleapis.com/google.protobuf.Timestamp","value":"2020-01-01T00:00:00Z"},
             {"@type":"type.googleapis.com/google.protobuf.Int32Value","value":5},
             {"@type":"type.googleapis.com/google.protobuf.Empty"},
             {"@type":"type.googleapis.com/google.protobuf.Any",
              "value":{"@type":"type.googleapis.com/meshtest.v1.Nested","name":"deep","inner":{"depth":1}}},
             {},
             {"@type":"type.googleapis.com/google.protobuf.Struct","value":{"a":[1,{"b":null}]}},
             {"@type":"example.com/x/google.protobuf.FieldMask","value":""},
             {"@type":"meshtest.v1.Oneofs","number":0}],
             "mask":""}
            """
        ),
    ]

    @Test(arguments: 0..<jsonInputs.count)
    func jsonToBinaryMatchesPython(index: Int) throws {
        let (type, json) = Self.jsonInputs[index]
        let pool = try ProtoTools.pool()
        let message = try ProtoJSON(pool: pool).parse(Array(json.utf8), as: type)
        let ours = try ProtoEncoder(pool: pool).encode(message)
        let python = try ProtoTools.pythonJSONToBinary(type, json)
        #expect(
            try sameEncoding(ours, python, type: type, pool: pool),
            "\(json)\nours   \(hex(ours))\npython \(hex(python))")
    }

    /// Python's bytes for each JSON input, printed by us and by Python: the same JSON values.
    @Test(arguments: 0..<jsonInputs.count)
    func binaryToJSONMatchesPython(index: Int) throws {
        let (type, json) = Self.jsonInputs[index]
        try checkPrint(type, try ProtoTools.pythonJSONToBinary(type, json))
    }

    /// The protoc text-format cases of ProtocConformanceTests, printed by us and by Python.
    @Test(arguments: 0..<ProtocConformanceTests.cases.count)
    func protocBytesToJSONMatchesPython(index: Int) throws {
        let (type, text) = ProtocConformanceTests.cases[index]
        try checkPrint(type, try ProtoTools.encode(type, text))
    }

    private func checkPrint(_ type: String, _ bytes: [UInt8]) throws {
        let pool = try ProtoTools.pool()
        let mapping = ProtoJSON(pool: pool)
        let message = try ProtoDecoder(pool: pool).decode(bytes, as: type)
        let ours = String(decoding: try mapping.print(message), as: UTF8.self)
        let python = try ProtoTools.pythonBinaryToJSON(type, bytes)
        #expect(try JSONMeaning(ours) == JSONMeaning(python), "ours:\n\(ours)\npython:\n\(python)")
        // Our JSON parses back to the same message (unknown fields aside: JSON drops them).
        var known = message
        known.unknownFields = []
        let back = try mapping.parse(Array(ours.utf8), as: type)
        #expect(try ProtoEncoder(pool: pool).encode(back) == ProtoEncoder(pool: pool).encode(known), "\(ours)")
    }
}
