/// "Did you mean …?" for unknown keys and enum values.
enum Suggestion {
    /// The closest candidate, or nil when nothing is close enough to be a plausible typo.
    ///
    /// Uses the optimal-string-alignment distance (a swapped pair of letters costs 1, so `retires` → `retries`)
    /// with a threshold of a third of the word (at least 2), and also accepts a candidate that extends the word
    /// with a unit suffix (`timeout` → `timeout_ms`), the most common mistake in duration keys.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let lowered = word.lowercased()
        if let exactCase = candidates.first(where: { $0.lowercased() == lowered }) { return exactCase }
        if let suffixed = candidates.first(where: { $0 == lowered + "_ms" || $0 == lowered + "_s" }) {
            return suffixed
        }
        let threshold = max(2, lowered.count / 3)
        var best: (candidate: String, distance: Int)? = nil
        for candidate in candidates {
            let d = distance(Array(lowered.utf8), Array(candidate.utf8))
            if d <= threshold, d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        return best?.candidate
    }

    /// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
    static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }

    /// ` (did you mean "x"?)` or, when nothing is close, `; expected one of: a, b, c`.
    static func hint(for word: String, in candidates: [String]) -> String {
        if let match = closest(to: word, in: candidates) { return " (did you mean \"\(match)\"?)" }
        return "; expected one of: " + candidates.joined(separator: ", ")
    }
}
