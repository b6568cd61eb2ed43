import Foundation
import Testing

/// routes.schema.json must agree with the loader: everything that ships validates, and documents the loader
/// rejects for structural reasons are rejected by the schema too. Uses Python's `jsonschema` (CI installs it).
@Suite struct SchemaTests {
    /// Validates each file against the schema (Draft 2020-12); prints `OK <file>` or `INVALID <file>: <first error>`.
    static let script = """
        import json, sys
        try:
            import jsonschema
        except ImportError:
            print("MISSING jsonschema"); sys.exit(3)
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        for path in sys.argv[2:]:
            errors = sorted(validator.iter_errors(json.load(open(path))), key=lambda e: list(e.path))
            print(("OK " + path) if not errors else ("INVALID " + path + ": " + errors[0].message[:200]))
        """

    /// Runs the script; fails the test (never skips) when python3 or jsonschema is missing.
    static func validate(_ files: [String]) throws -> [String: Bool] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, "\(repoRoot)/routes.schema.json"] + files
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        if text.contains("MISSING jsonschema") {
            Issue.record("Python's jsonschema is not importable: run `pip install jsonschema` (CI installs it)")
        }
        #expect(process.terminationStatus == 0, "python3 failed:\n\(text)")
        var results: [String: Bool] = [:]
        for line in text.split(separator: "\n") {
            if line.hasPrefix("OK ") { results[String(line.dropFirst(3))] = true }
            if line.hasPrefix("INVALID "), let colon = line.range(of: ": ") {
                results[String(line[line.index(line.startIndex, offsetBy: 8)..<colon.lowerBound])] = false
            }
        }
        return results
    }

    @Test func shippedConfigsAndValidFixturesPassTheSchema() throws {
        let files = ShippedConfigTests.shipped.map { "\(repoRoot)/\($0)" } + ["\(fixtures)/valid/everything.json"]
        let results = try Self.validate(files)
        for file in files {
            #expect(results[file] == true, "\(file) should validate against routes.schema.json")
        }
    }

    @Test func invalidFixturesFailTheSchema() throws {
        let files = ShippedConfigTests.invalidFixtures.map { "\(fixtures)/invalid/\($0).json" }
        let results = try Self.validate(files)
        for file in files {
            #expect(results[file] == false, "\(file) should be rejected by routes.schema.json")
        }
    }

    /// The schema agrees with the loader on `tracing.ca_file`: fine with an https:// endpoint or with export off,
    /// refused with an http:// one.
    @Test func tracingCAFileNeedsAnHTTPSEndpointInTheSchemaToo() throws {
        let directory = NSTemporaryDirectory() + "/meshgate-schema-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cases: [(String, Bool)] = [
            (#"{"otlp_endpoint": "https://c:4318/v1/traces", "ca_file": "ca.pem"}"#, true),
            (#"{"otlp_endpoint": null, "ca_file": "ca.pem"}"#, true),
            (#"{"otlp_endpoint": "https://c:4318/v1/traces"}"#, true),
            (#"{"otlp_endpoint": "http://c:4318/v1/traces", "ca_file": "ca.pem"}"#, false),
        ]
        var files: [String] = []
        for (index, (tracing, _)) in cases.enumerated() {
            let file = "\(directory)/tracing-\(index).json"
            try Data(document(extra: #""tracing": \#(tracing)"#).utf8).write(to: URL(fileURLWithPath: file))
            files.append(file)
        }
        let results = try Self.validate(files)
        for (index, (tracing, valid)) in cases.enumerated() {
            #expect(results[files[index]] == valid, "schema on tracing \(tracing)")
            let loads = (try? load(document(extra: #""tracing": \#(tracing)"#)).get()) != nil
            #expect(loads == valid, "loader on tracing \(tracing)")
        }
    }

    @Test func schemaClosesEveryObjectAndDescribesEveryProperty() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(repoRoot)/routes.schema.json"))
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(schema["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
        var problems: [String] = []
        func walk(_ node: Any, _ path: String) {
            if let object = node as? [String: Any] {
                if let properties = object["properties"] as? [String: Any] {
                    if object["additionalProperties"] as? Bool != false { problems.append("\(path) is open") }
                    for (key, value) in properties where (value as? [String: Any])?["description"] == nil {
                        problems.append("\(path).\(key) has no description")
                    }
                }
                // A `not` subschema is a constraint on the enclosing object (public + jwt), not an object shape;
                // closing it would change its meaning.
                for (key, value) in object where key != "not" { walk(value, "\(path)/\(key)") }
            } else if let array = node as? [Any] {
                for (index, value) in array.enumerated() { walk(value, "\(path)[\(index)]") }
            }
        }
        walk(schema, "#")
        #expect(problems.isEmpty, "\(problems)")
    }
}
