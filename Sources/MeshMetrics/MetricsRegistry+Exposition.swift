extension MetricsRegistry {
    /// Renders every family in the Prometheus text format 0.0.4.
    ///
    /// Families are sorted by name; each has `# HELP` and `# TYPE`; its samples are sorted by label values
    /// (status codes numerically within a series). Histograms list cumulative `_bucket{le=…}` lines ending with
    /// `le="+Inf"`, then `_sum` and `_count` (`_count` is the `+Inf` bucket, so the two always agree).
    /// Allocates freely: this runs once per scrape on the admin thread, never on the request path.
    public func exposition() -> String {
        var out = ""
        out.reserveCapacity(4096)
        for family in families {
            out += "# HELP \(family.name) \(PrometheusText.escapeHelp(family.help))\n"
            out += "# TYPE \(family.name) \(family.type.rawValue)\n"
            for series in family.series.sorted(by: { $0.labels.lexicographicallyPrecedes($1.labels) }) {
                render(series, of: family, into: &out)
            }
        }
        return out
    }

    private func render(_ series: SeriesRecord, of family: FamilyRecord, into out: inout String) {
        let name = family.name
        let labels = series.labels
        if case .callback(let read) = series.storage {
            PrometheusText.sample(
                &out, name: name, labelNames: family.labelNames, labelValues: labels,
                value: PrometheusText.formatDouble(read()))
            return
        }
        guard let value = totalValue(key: MetricsRegistryBuilder.seriesKey(name, labels)) else { return }
        switch value {
        case .counter(let total):
            PrometheusText.sample(
                &out, name: name, labelNames: family.labelNames, labelValues: labels, value: String(total))
        case .gaugeDelta(let deltas):
            guard case .gauge(_, let registryIndex) = series.storage else { return }
            let base = Double(bitPattern: gauges[registryIndex].load(ordering: .relaxed))
            PrometheusText.sample(
                &out, name: name, labelNames: family.labelNames, labelValues: labels,
                value: PrometheusText.formatDouble(base + Double(deltas)))
        case .status(let counts):
            let names = Array(family.labelNames.dropLast())
            let statusLabel = family.labelNames[family.labelNames.count - 1]
            for (status, count) in counts.sorted(by: { $0.key < $1.key }) {
                PrometheusText.sample(
                    &out, name: name, labelNames: names, labelValues: labels, extra: (statusLabel, String(status)),
                    value: String(count))
            }
        case .histogram(let buckets, let sum):
            renderHistogram(family, labels, buckets, sum, into: &out)
        }
    }

    private func renderHistogram(
        _ family: FamilyRecord, _ labels: [String], _ buckets: [UInt64], _ sum: Double, into out: inout String
    ) {
        var cumulative: UInt64 = 0
        for (i, count) in buckets.enumerated() {
            cumulative &+= count
            let le = i < family.buckets.count ? PrometheusText.formatDouble(family.buckets[i]) : "+Inf"
            PrometheusText.sample(
                &out, name: family.name + "_bucket", labelNames: family.labelNames, labelValues: labels,
                extra: ("le", le), value: String(cumulative))
        }
        PrometheusText.sample(
            &out, name: family.name + "_sum", labelNames: family.labelNames, labelValues: labels,
            value: PrometheusText.formatDouble(sum))
        PrometheusText.sample(
            &out, name: family.name + "_count", labelNames: family.labelNames, labelValues: labels,
            value: String(cumulative))
    }
}
