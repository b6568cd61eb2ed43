/// Prometheus text exposition format 0.0.4 helpers: escaping and number formatting.
enum PrometheusText {
    /// The `Content-Type` of the exposition.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Escapes a label value: `\` → `\\`, `"` → `\"`, newline → `\n` (format 0.0.4).
    static func escapeLabelValue(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return value }
        var out = ""
        out.reserveCapacity(value.utf8.count + 4)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Escapes `# HELP` text: `\` → `\\`, newline → `\n` (quotes stay as they are there).
    static func escapeHelp(_ help: String) -> String {
        guard help.utf8.contains(where: { $0 == 0x5C || $0 == 0x0A }) else { return help }
        var out = ""
        for scalar in help.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Formats a sample value or an `le` bound so that Prometheus (Go `ParseFloat`) parses it exactly:
    /// `+Inf`, `-Inf`, `NaN`; integral values below 2^53 without a fraction or exponent (`1`, `10`); everything
    /// else in Swift's shortest round-trip form (`0.0005`, `2.5`, `1e-07`).
    static func formatDouble(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(.towardZero), abs(value) < 0x1p53 { return String(Int64(value)) }
        return value.description
    }

    /// Renders one sample line `name{l1="v1",l2="v2"} value\n` into `out`.
    static func sample(
        _ out: inout String, name: String, labelNames: [String], labelValues: [String], extra: (String, String)? = nil,
        value: String
    ) {
        out += name
        if !labelNames.isEmpty || extra != nil {
            out += "{"
            var first = true
            for (label, value) in zip(labelNames, labelValues) {
                if !first { out += "," }
                first = false
                out += label
                out += "=\""
                out += escapeLabelValue(value)
                out += "\""
            }
            if let (label, value) = extra {
                if !first { out += "," }
                out += label
                out += "=\""
                out += escapeLabelValue(value)
                out += "\""
            }
            out += "}"
        }
        out += " "
        out += value
        out += "\n"
    }
}
