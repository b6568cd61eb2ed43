import Foundation
import Testing

@testable import MeshTrace

/// Runs `Fixtures/tracecontext_cases.json` (95 cases transcribed from the W3C trace-context test suite at
/// acab820 plus spec-derived extras, see /work/shared/conformance/tracecontext_NOTES.md) against the trace
/// stage's pure decision, `TracePropagation.decide`, playing the proxy: header names are matched
/// case-insensitively and OWS around values is stripped, as the HTTP parser does.
@Suite struct ConformanceTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let id: String
        let headers: [(String, String)]
        let expect: [String: JSONValue]
        var testDescription: String { id }
    }

    enum JSONValue: @unchecked Sendable {
        case value(Any)
        var string: String? { if case .value(let v) = self { v as? String } else { nil } }
        var strings: [String] { if case .value(let v) = self { v as? [String] ?? [] } else { [] } }
        var int: Int? { if case .value(let v) = self { v as? Int } else { nil } }
        var bool: Bool? { if case .value(let v) = self { v as? Bool } else { nil } }
        var dict: [String: String] { if case .value(let v) = self { v as? [String: String] ?? [:] } else { [:] } }
    }

    static let cases: [Case] = {
        let url = Bundle.module.url(forResource: "tracecontext_cases", withExtension: "json", subdirectory: "Fixtures")
        guard let url,
            let data = try? Data(contentsOf: url),
            let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = root["cases"] as? [[String: Any]]
        else { return [] }
        return list.map { raw in
            let headers = (raw["request_headers"] as? [[String]] ?? []).map { ($0[0], $0[1]) }
            let expect = (raw["expect"] as? [String: Any] ?? [:]).mapValues { JSONValue.value($0) }
            return Case(id: raw["id"] as? String ?? "?", headers: headers, expect: expect)
        }
    }()

    @Test func fixtureIsPresent() {
        #expect(Self.cases.count == 95)
    }

    /// One pass of the proxy over a request: returns the outgoing traceparent and tracestate (nil = not sent).
    static func proxy(_ headers: [(String, String)], seed: UInt64) -> (String, String?) {
        func trimmed(_ s: String) -> [UInt8] {
            Array(s.utf8.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed())
        }
        let parents = headers.filter { $0.0.lowercased() == "traceparent" }.map { trimmed($0.1) }
        let states = headers.filter { $0.0.lowercased() == "tracestate" }.map { trimmed($0.1) }
        var out = [UInt8](repeating: 0, count: states.reduce(0) { $0 + $1.count + 1 })
        func copy(_ bytes: [UInt8]) -> UnsafeRawBufferPointer {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
            buffer.copyBytes(from: bytes)
            return UnsafeRawBufferPointer(buffer)
        }
        let parentPointers = parents.map(copy)
        let statePointers = states.map(copy)
        defer { (parentPointers + statePointers).forEach { $0.deallocate() } }
        let decision = out.withUnsafeMutableBytes { buffer in
            TracePropagation.decide(
                traceparentLines: parentPointers, tracestateLines: statePointers, newSpan: SpanID(random: seed &* 31),
                newTrace: TraceID(random: (seed &* 0x9E37_79B9_7F4A_7C15, seed)), sampleRatio: 1, sampleRandom: seed,
                traceStateOut: buffer)
        }
        let state = decision.traceStateLength.map { String(decoding: out[..<$0], as: UTF8.self) }
        return (decision.traceParent.headerValue, state)
    }

    /// Parses a forwarded tracestate the way the W3C harness does: members in order, first key wins.
    static func members(_ value: String?) -> [(String, String)] {
        guard let value else { return [] }
        return value.split(separator: ",").compactMap { (member: Substring) -> (String, String)? in
            guard let eq = member.firstIndex(of: "=") else { return nil }
            return (String(member[..<eq]), String(member[member.index(after: eq)...]))
        }
    }

    @Test(arguments: cases)
    func conformance(_ testCase: Case) throws {
        let callbacks = testCase.expect["callbacks"]?.int ?? 1
        // Topology B: every callback is a separate request through the proxy with fresh randomness.
        let outputs = (0..<callbacks).map { Self.proxy(testCase.headers, seed: UInt64($0 + 1) &* 0x1234_5678_9ABC) }
        let inputParent = testCase.headers.first { $0.0.lowercased() == "traceparent" }?.1
        for (traceparent, tracestate) in outputs {
            try check(testCase, traceparent: traceparent, tracestate: tracestate, inputParent: inputParent)
        }
        if let distinct = testCase.expect["distinct_parent_ids"]?.int {
            #expect(Set(outputs.map { $0.0.split(separator: "-")[2] }).count == distinct)
        }
    }

    func check(_ testCase: Case, traceparent: String, tracestate: String?, inputParent: String?) throws {
        let e = testCase.expect
        let fields = traceparent.split(separator: "-").map(String.init)
        try #require(fields.count == 4 && fields[0] == "00" && fields[1].count == 32 && fields[2].count == 16)
        #expect(traceparent.allSatisfy { "0123456789abcdef-".contains($0) })
        #expect(fields[1] != String(repeating: "0", count: 32) && fields[2] != String(repeating: "0", count: 16))
        let inputTrace = inputParent.flatMap { $0.split(separator: "-").dropFirst().first.map(String.init) }
        if e["trace_id"]?.string == "kept" {
            #expect(fields[1] == inputTrace?.trimmingCharacters(in: .whitespaces))
        }
        if e["trace_id"]?.string == "new", let inputTrace { #expect(fields[1] != inputTrace) }
        if let equals = e["trace_id_equals"]?.string { #expect(fields[1] == equals) }
        for not in e["trace_id_not_in"]?.strings ?? [] { #expect(fields[1] != not) }
        if let not = e["parent_id_not"]?.string { #expect(fields[2] != not) }
        let flags = UInt8(fields[3], radix: 16) ?? 0xFF
        if let bit0 = e["flags_bit0"]?.string { #expect(flags & 1 == (bit0.hasPrefix("1") ? 1 : 0)) }
        if e["flags_bit1"]?.string == "1" { #expect(flags & 2 == 2) }
        if e["flags_note"] != nil { #expect(flags & ~3 == 0) }
        if let version = e["output_version"]?.string { #expect(fields[0] == version) }
        checkTraceState(e, tracestate)
    }

    func checkTraceState(_ e: [String: JSONValue], _ tracestate: String?) {
        let members = Self.members(tracestate)
        var map: [String: String] = [:]
        for (k, v) in members where map[k] == nil { map[k] = v }
        if e["trace_id"]?.string == "new" { #expect(tracestate == nil) }
        for (k, v) in e["tracestate_has"]?.dict ?? [:] { #expect(map[k] == v, "\(k)") }
        for k in e["tracestate_lacks"]?.strings ?? [] { #expect(map[k] == nil, "\(k)") }
        if let order = e["tracestate_order"]?.strings { #expect(members.map(\.0) == order) }
        if let count = e["tracestate_member_count"]?.int { #expect(members.count == count) }
        if let any = e["tracestate_contains_member_any_of"]?.strings {
            #expect(any.contains { tracestate?.split(separator: ",").contains(Substring($0)) == true })
        }
        if e["tracestate_empty_or_absent"]?.bool == true { #expect(tracestate == nil || tracestate == "") }
        if e["tracestate_discarded_input"]?.bool == true { #expect(tracestate == nil) }
        #expect(tracestate != "")
    }
}
