/// "Did you mean …?" for unknown keys and enum values.
enum Suggestion {
    /// The closest candidate, or nil when nothing is close enough to be a plausible typo.
    ///
    /// Uses the optimal-string-alignment distance, case-insensitively (a swapped pair of letters costs 1, so
    /// `retires` → `retries`), with a threshold of a third of the word (at least 2). When nothing is that close, a
    /// candidate that the word is a prefix of, or that is a prefix of the word, is taken (`timeout` → `timeout_ms`,
    /// `warning` → `warn`): truncated and over-long names are the other common mistake.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let lowered = Array(word.lowercased().utf8)
        let threshold = max(2, lowered.count / 3)
        var best: (candidate: String, distance: Int)? = nil
        var prefixBest: (candidate: String, distance: Int)? = nil
        for candidate in candidates {
            let other = Array(candidate.lowercased().utf8)
            let d = distance(lowered, other)
            if d <= threshold, d < (best?.distance ?? Int.max) { best = (candidate, d) }
            let shorter = min(lowered.count, other.count)
            let isPrefix = shorter >= 3 && lowered.prefix(shorter) == other.prefix(shorter)
            if isPrefix, d < (prefixBest?.distance ?? Int.max) { prefixBest = (candidate, d) }
        }
        return best?.candidate ?? prefixBest?.candidate
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
