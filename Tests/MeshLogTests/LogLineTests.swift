import MeshJSON
import MeshLog
import Testing

struct LogLineTests {
    static let ts: Int64 = 1_764_057_094_123

    func text(_ line: LogLine) -> String { String(decoding: line.bytes, as: UTF8.self) }

    /// A request line as `WorkerTelemetry` writes it, field for field (SPEC §5).
    @Test func requestLineGolden() {
        let line = LogLine()
        line.begin(timestampMs: Self.ts, level: .info, service: "meshgate", message: "request")
        line.field("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")
        line.field("request_id", "r-1")
        line.field("route", utf8: Array("profile".utf8))
        line.field("method", code: "GET")
        line.field("path", path: "/v1/users/7?access_token=abc&x=1")
        line.field("status", 200)
        line.field("duration_ms", milli: 1.23456)
        line.field("attempts", 1)
        line.fieldNull("error")
        line.end()
        let expected =
            #"{"ts":"2025-11-25T07:51:34.123Z","level":"info","service":"meshgate","msg":"request","#
            + #""trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","request_id":"r-1","route":"profile","method":"GET","#
            + #""path":"/v1/users/7","status":200,"duration_ms":1.235,"attempts":1,"error":null}"# + "\n"
        #expect(text(line) == expected)
    }

    @Test func reuseStartsAFreshLine() {
        let line = LogLine()
        line.begin(timestampMs: 0, level: .warn, service: "a", message: "first")
        line.field("n", -42)
        line.end()
        line.begin(timestampMs: 0, level: .error, service: "b", message: "second")
        line.end()
        #expect(text(line) == #"{"ts":"1970-01-01T00:00:00.000Z","level":"error","service":"b","msg":"second"}"# + "\n")
    }

    @Test(arguments: [
        ("plain", #""plain""#),
        ("quote\"back\\slash", #""quote\"back\\slash""#),
        ("new\nline\ttab\rcr", #""new\nline\ttab\rcr""#),
        ("\u{01}\u{1f}\u{08}\u{0c}", #""\u0001\u001f\b\f""#),
        ("ünï€ode ✓", "\"ünï€ode ✓\""),
    ])
    func escaping(input: String, expected: String) {
        var out: [UInt8] = []
        LogEscaping.appendString(input, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == expected)
        // And the escaped form reads back as the original string.
        let node = try? JSONReader.parse(out)
        #expect(node?.stringValue == input)
    }

    @Test(arguments: [
        ("/p?access_token=s3cr3t", "s3cr3t"),
        ("GET /x?a=1&ACCESS_TOKEN=s3cr3t&b=2", "s3cr3t"),
        ("authorization: Bearer eyJhbGciOi.abc.def", "eyJhbGciOi"),
        ("cookie access_token=s3cr3t; other=1", "s3cr3t"),
    ])
    func secretsAreRedacted(input: String, secret: String) {
        let line = LogLine()
        line.begin(timestampMs: Self.ts, level: .info, service: "meshgate", message: input)
        line.field("detail", input)
        line.field(dynamicKey: input, input)
        line.end()
        let out = text(line)
        #expect(!out.contains(secret))
        #expect(out.contains("[REDACTED]"))
        #expect((try? JSONReader.parse(line.bytes)) != nil)
    }

    @Test func pathNeverCarriesTheQuery() {
        let line = LogLine()
        line.begin(timestampMs: Self.ts, level: .info, service: "s", message: "m")
        line.field("path", path: "/login?access_token=tok123&next=/home")
        line.field("fragment", path: "/a#access_token=tok456")
        line.end()
        let node = try? JSONReader.parse(line.bytes)
        #expect(node?["path"]?.stringValue == "/login")
        #expect(node?["fragment"]?.stringValue == "/a")
        #expect(!text(line).contains("tok"))
    }

    /// Every line built from arbitrary field values is one valid JSON object followed by one newline.
    @Test func linesAreValidJSON() throws {
        let values = [
            "", "\"", "\\", "\u{0}", "line\nbreak", "{\"json\":[1,2]}", "€", String(repeating: "x", count: 5000),
        ]
        for (i, value) in values.enumerated() {
            let line = LogLine()
            line.begin(timestampMs: Self.ts + Int64(i), level: .debug, service: value, message: value)
            line.field("v", value)
            line.field("i", i)
            line.field("d", milli: Double(i) / 7)
            line.end()
            #expect(line.bytes.last == UInt8(ascii: "\n"))
            #expect(line.bytes.dropLast().contains(UInt8(ascii: "\n")) == false)
            let node = try JSONReader.parse(Array(line.bytes.dropLast()))
            #expect(node["v"]?.stringValue == value)
            #expect(node["i"]?.int64Value == Int64(i))
            #expect(node["level"]?.stringValue == "debug")
        }
    }

    @Test(arguments: [
        (0.0, "0.000"), (0.0004, "0.000"), (0.0005, "0.001"), (12.3456, "12.346"), (-1, "0.000"),
        (Double.nan, "0.000"), (1500, "1500.000"),
    ])
    func milliFormatting(value: Double, expected: String) {
        let line = LogLine()
        line.begin(timestampMs: 0, level: .info, service: "s", message: "m")
        line.field("d", milli: value)
        line.end()
        #expect(String(decoding: line.bytes, as: UTF8.self).hasSuffix(",\"d\":\(expected)}\n"))
    }

    @Test(arguments: LogSeverity.allCases)
    func levelFilter(threshold: LogSeverity) {
        for level in LogSeverity.allCases {
            #expect(threshold.admits(level) == (level.rawValue >= threshold.rawValue))
        }
        #expect(LogSeverity(name: "\(threshold.name)") == threshold)
        #expect(LogSeverity(name: "verbose") == nil)
        #expect(LogSeverity.debug.admits(.debug) && !LogSeverity.error.admits(.warn))
    }
}
