import Foundation
import MeshTestSupport
import Testing

/// Just enough PromQL reading to find what an expression depends on: metric names and label names. String
/// literals, range selectors and Grafana variables (always inside those) are dropped first, so what is left is
/// identifiers, numbers and operators.
enum PromQLNames {
    /// Words that are PromQL syntax rather than metric names when not followed by `(`: operators, modifiers,
    /// and aggregations (`sum by (x) (…)` puts the grouping between the name and its argument).
    static let keywords: Set = [
        "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless",
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
        "quantile", "limitk", "limit_ratio",
    ]
    /// Clauses whose parenthesised list holds label names.
    static let labelClauses: Set = ["by", "without", "on", "ignoring", "group_left", "group_right"]

    /// What `expression` reads: metric names, and label names (matchers, grouping, `label_replace` sources).
    /// `created` holds the labels a `label_replace` creates (legal in grouping though no metric has them).
    struct Uses: Equatable {
        var metrics: Set<String> = []
        var labels: Set<String> = []
        var created: Set<String> = []
    }

    static func isIdentifierStart(_ c: Character) -> Bool { c == "_" || c == ":" || (c.isASCII && c.isLetter) }
    static func isIdentifier(_ c: Character) -> Bool { isIdentifierStart(c) || (c.isASCII && c.isNumber) }

    static func uses(_ expression: String) -> Uses {
        var uses = Uses()
        // label_replace(v, "dst", "replacement", "src", "regex"): the last four arguments are strings.
        let replace = try! NSRegularExpression(
            pattern: #"label_replace\(.*?"(\w+)",\s*"[^"]*",\s*"(\w+)",\s*"[^"]*"\s*\)"#)
        let range = NSRange(expression.startIndex..., in: expression)
        for match in replace.matches(in: expression, range: range) {
            uses.created.insert(String(expression[Range(match.range(at: 1), in: expression)!]))
            uses.labels.insert(String(expression[Range(match.range(at: 2), in: expression)!]))
        }
        let text = Array(stripped(expression))
        var index = 0
        var pendingClause: String?
        var braceDepth = 0
        while index < text.count {
            let c = text[index]
            if c == "{" { braceDepth += 1 }
            if c == "}" { braceDepth -= 1 }
            guard isIdentifierStart(c), index == 0 || !isIdentifier(text[index - 1]) && text[index - 1] != "." else {
                if c == ")" { pendingClause = nil }
                index += 1
                continue
            }
            var end = index
            while end < text.count && isIdentifier(text[end]) { end += 1 }
            let word = String(text[index..<end])
            var next = end
            while next < text.count && text[next] == " " { next += 1 }
            let callsOrGroups = next < text.count && text[next] == "("
            if braceDepth > 0 || pendingClause != nil {
                uses.labels.insert(word)  // a matcher's label, or a name in by (...)/on (...)
            } else if labelClauses.contains(word) {
                if callsOrGroups { pendingClause = word }  // `group_left` may stand without a list
            } else if !callsOrGroups && !keywords.contains(word) {
                uses.metrics.insert(word)
            }
            index = end
        }
        return uses
    }

    /// `expression` without string literals and range/subquery selectors (`[5m]`, `[$__rate_interval]`).
    static func stripped(_ expression: String) -> String {
        var out = ""
        var quote: Character?
        var escaped = false
        var bracketDepth = 0
        for c in expression {
            if let open = quote {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == open { quote = nil }
                continue
            }
            if c == "\"" || c == "'" || c == "`" { quote = c; out.append(" "); continue }
            if c == "[" { bracketDepth += 1; continue }
            if c == "]" { bracketDepth -= 1; continue }
            if bracketDepth == 0 { out.append(c) }
        }
        return out
    }
}

/// Issue 14: `deploy/grafana/meshgate.json` is a Grafana 10 dashboard over a Prometheus datasource variable, and
/// it cannot drift from the code: every metric name in every PromQL expression (panels and template variables)
/// is a sample name in a live gateway's `/metrics`, and every label it matches, groups by or prints exists on one
/// of the metrics the expression reads.
@Suite struct GrafanaDashboardTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/deploy/grafana/meshgate.json"

    /// Labels Prometheus adds at scrape time (`instance`, `job`) and the histogram bucket bound (`le`).
    static let scrapeLabels: Set = ["instance", "job", "le"]

    /// Sample name → label names, from a Prometheus text page.
    static func sampleLabels(_ metrics: String) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for line in metrics.split(separator: "\n") where !line.hasPrefix("#") {
            let name = String(line.prefix { PromQLNames.isIdentifier($0) })
            var labels = result[name] ?? []
            // Label pairs are `key="value"`; values may hold escaped quotes, so walk them.
            var rest = line.dropFirst(name.count)
            if rest.first == "{" {
                rest = rest.dropFirst()
                while let equals = rest.firstIndex(of: "=") {
                    labels.insert(rest[..<equals].trimmingCharacters(in: CharacterSet(charactersIn: ", ")))
                    var cursor = rest.index(equals, offsetBy: 2)
                    while cursor < rest.endIndex && rest[cursor] != "\"" {
                        cursor = rest.index(cursor, offsetBy: rest[cursor] == "\\" ? 2 : 1)
                    }
                    rest = rest[rest.index(after: cursor)...]
                    if rest.first == "}" { break }
                }
            }
            result[name] = labels
        }
        return result
    }

    /// Every (place, PromQL text, legend) in the dashboard: panel targets and query variables.
    static func expressions(_ dashboard: [String: Any]) -> [(String, String, String)] {
        var found: [(String, String, String)] = []
        for panel in dashboard["panels"] as? [[String: Any]] ?? [] {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                found.append(("panel \"\(panel["title"] ?? "?")\"", target["expr"] as? String ?? "",
                              target["legendFormat"] as? String ?? ""))
            }
        }
        let variables = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        for variable in variables where variable["type"] as? String == "query" {
            let query = (variable["query"] as? [String: Any])?["query"] as? String ?? ""
            // label_values(metric, label) is Grafana's syntax, not PromQL: read it as `metric{label=""}`.
            let rewritten = query.replacingOccurrences(
                of: #"label_values\((\w+),\s*(\w+)\)"#, with: "$1{$2=\"\"}", options: .regularExpression)
            found.append(("variable \(variable["name"] ?? "?")", rewritten, ""))
        }
        return found
    }

    @Test func theNameReaderFindsMetricsAndLabels() {
        let uses = PromQLNames.uses(#"""
            histogram_quantile(0.99, sum by (route, le) (rate(meshgte_typo_bucket{listener=~"$l", x="a\"}"}[5m])))
              / on (route) group_left label_replace(other_total offset 5m, "class", "${1}xx", "code", "(.)..")
            """#)
        #expect(uses.metrics == ["meshgte_typo_bucket", "other_total"])
        #expect(uses.labels == ["route", "le", "listener", "x", "code"])
        #expect(uses.created == ["class"])
    }

    @Test func everyDashboardExpressionReadsMetricsTheGatewayExports() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.path))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((dashboard["schemaVersion"] as? Int ?? 0) >= 36, "not a Grafana 10 dashboard model")
        let variables = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        #expect(variables.contains { $0["type"] as? String == "datasource" && $0["query"] as? String == "prometheus" })
        for panel in dashboard["panels"] as? [[String: Any]] ?? [] where panel["type"] as? String != "row" {
            let source = (panel["datasource"] as? [String: Any])?["uid"] as? String
            #expect(source == "${datasource}", "panel \(panel["title"] ?? "?") does not use the datasource variable")
        }

        let (bed, metrics) = try LiveMetricsWorld.start()
        defer { bed.stop() }
        let exported = Self.sampleLabels(metrics)
        let expressions = Self.expressions(dashboard)
        #expect(expressions.count >= 20)
        var used: Set<String> = []
        for (place, expression, legend) in expressions {
            let uses = PromQLNames.uses(expression)
            #expect(!uses.metrics.isEmpty, "\(place): no metric found in \(expression)")
            used.formUnion(uses.metrics)
            var known = Self.scrapeLabels.union(uses.created)
            for metric in uses.metrics {
                if let labels = exported[metric] {
                    known.formUnion(labels)
                } else {
                    Issue.record("\(place): \(metric) is not in the live /metrics (\(expression))")
                }
            }
            let legendLabels = legend.components(separatedBy: "{{").dropFirst().compactMap {
                $0.components(separatedBy: "}}").first
            }
            for label in uses.labels.union(legendLabels) where !known.contains(label) {
                Issue.record("\(place): label \(label) is on none of \(uses.metrics.sorted()) (\(expression))")
            }
        }
        // The panels issue 14 asks for: rates, latency, attempts, retries, breakers, fallbacks, rate limits, TLS,
        // connections.
        for family in [
            "http_requests_total", "http_request_duration_seconds_bucket", "meshgate_upstream_requests_total",
            "meshgate_retries_total", "meshgate_circuit_breaker_state", "meshgate_fallbacks_total",
            "meshgate_rate_limited_total", "meshgate_tls_handshakes_total",
            "meshgate_tls_certificate_expiry_timestamp_seconds", "meshgate_connections_active",
            "meshgate_upstream_connections",
        ] {
            #expect(used.contains(family), "the dashboard has no panel reading \(family)")
        }
        #expect(bed.stop() == .exited(0))
    }
}
