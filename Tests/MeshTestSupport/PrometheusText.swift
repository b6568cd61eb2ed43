/// Prometheus text helpers for tests.
public enum PrometheusText {
    /// The value of the first sample named `name` whose labels include every `labels` pair, or nil.
    /// Reads the 0.0.4 text format line by line (`name{a="x",b="y"} value`); label order does not matter.
    public static func value(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let nameEnd = line.firstIndex { $0 == "{" || $0 == " " } ?? line.endIndex
            guard line[..<nameEnd] == name, let space = line.lastIndex(of: " ") else { continue }
            let labelText = line[nameEnd..<space]
            if labels.allSatisfy({ labelText.contains("\($0.key)=\"\($0.value)\"") }) {
                return Double(line[line.index(after: space)...])
            }
        }
        return nil
    }

    /// The sum of every sample named `name` whose labels include every `labels` pair (0 when none).
    public static func sum(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double {
        var total = 0.0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let nameEnd = line.firstIndex { $0 == "{" || $0 == " " } ?? line.endIndex
            guard line[..<nameEnd] == name, let space = line.lastIndex(of: " ") else { continue }
            let labelText = line[nameEnd..<space]
            if labels.allSatisfy({ labelText.contains("\($0.key)=\"\($0.value)\"") }) {
                total += Double(line[line.index(after: space)...]) ?? 0
            }
        }
        return total
    }
}
