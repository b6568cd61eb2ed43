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
        switch series.storage {
        case .counter(let word):
            let total = shards.reduce(UInt64(0)) { $0 &+ $1.load(word) }
            PrometheusText.sample(
                &out, name: family.name, labelNames: family.labelNames, labelValues: series.labels,
                value: String(total))
        case .statusCounter(let word):
            let names = Array(family.labelNames.dropLast())
            let statusLabel = family.labelNames[family.labelNames.count - 1]
            for (status, count) in statusCounts(word: word).sorted(by: { $0.key < $1.key }) {
                PrometheusText.sample(
                    &out, name: family.name, labelNames: names, labelValues: series.labels,
                    extra: (statusLabel, String(status)), value: String(count))
            }
        case .gauge(let word, let registryIndex):
            let value = gaugeValue(word: word, registryIndex: registryIndex)
            PrometheusText.sample(
                &out, name: family.name, labelNames: family.labelNames, labelValues: series.labels,
                value: PrometheusText.formatDouble(value))
        case .callback(let read):
            PrometheusText.sample(
                &out, name: family.name, labelNames: family.labelNames, labelValues: series.labels,
                value: PrometheusText.formatDouble(read()))
        case .histogram(let word, _, let boundsCount):
            renderHistogram(series, of: family, word: word, boundsCount: boundsCount, into: &out)
        }
    }

    private func renderHistogram(
        _ series: SeriesRecord, of family: FamilyRecord, word: Int, boundsCount: Int, into out: inout String
    ) {
        let (buckets, sum) = histogramValues(word: word, boundsCount: boundsCount)
        var cumulative: UInt64 = 0
        for i in 0...boundsCount {
            cumulative &+= buckets[i]
            let le = i < boundsCount ? PrometheusText.formatDouble(family.buckets[i]) : "+Inf"
            PrometheusText.sample(
                &out, name: family.name + "_bucket", labelNames: family.labelNames, labelValues: series.labels,
                extra: ("le", le), value: String(cumulative))
        }
        PrometheusText.sample(
            &out, name: family.name + "_sum", labelNames: family.labelNames, labelValues: series.labels,
            value: PrometheusText.formatDouble(sum))
        PrometheusText.sample(
            &out, name: family.name + "_count", labelNames: family.labelNames, labelValues: series.labels,
            value: String(cumulative))
    }
}
