/// Prometheus text-format (0.0.4) helpers for tests: find samples by name and a subset of their labels.
public enum PrometheusText {
    /// The value of the first sample named `name` whose labels include every `labels` pair, or nil.
    /// Label order does not matter.
    public static func value(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples(text, name, labels).first
    }

    /// The sum of every sample named `name` whose labels include every `labels` pair (0 when none).
    public static func sum(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double {
        samples(text, name, labels).reduce(0, +)
    }

    /// Values of the samples named `name` (`name{a="x",b="y"} value` lines) whose labels include `labels`.
    public static func samples(_ text: String, _ name: String, _ labels: [String: String]) -> [Double] {
        var values: [Double] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let nameEnd = line.firstIndex { $0 == "{" || $0 == " " } ?? line.endIndex
            guard line[..<nameEnd] == name, let space = line.lastIndex(of: " ") else { continue }
            let labelText = line[nameEnd..<space]
            guard labels.allSatisfy({ labelText.contains("\($0.key)=\"\($0.value)\"") }) else { continue }
            if let value = Double(line[line.index(after: space)...]) { values.append(value) }
        }
        return values
    }

    /// The sum of the samples named exactly `metric` whose labels include every pair of `labels`, or nil when
    /// no sample matches.
    public static func value(of metric: String, labels: [String: String] = [:], in text: String) -> Double? {
        let found = samples(text, metric, labels)
        return found.isEmpty ? nil : found.reduce(0, +)
    }
}
