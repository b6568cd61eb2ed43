/// Reading samples back out of an exposition.
enum MetricsText {
    /// The value of the sample whose line starts with `series` + " " (e.g. `up{job="x"}`), nil when absent.
    static func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}
