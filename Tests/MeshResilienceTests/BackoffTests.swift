import Testing

@testable import MeshResilience

@Suite struct BackoffTests {
    @Test(arguments: 0...70)
    func jitterStaysWithinZeroAndCap(attempt: Int) {
        let cap = Backoff.capMs(attempt: attempt, baseMs: 25, maxMs: 250)
        #expect(cap == min(250, attempt < 4 ? 25 << attempt : 250))
        for random: UInt64 in [0, 1, 7, 12_345, UInt64(cap), UInt64(cap) + 1, .max / 3, .max - 1, .max] {
            let delay = Backoff.fullJitter(attempt: attempt, baseMs: 25, maxMs: 250, random: random)
            #expect(delay >= 0 && delay <= cap)
        }
        // random = 0 gives 0 and random = cap gives the cap: the whole closed range is reachable.
        #expect(Backoff.fullJitter(attempt: attempt, baseMs: 25, maxMs: 250, random: 0) == 0)
        #expect(Backoff.fullJitter(attempt: attempt, baseMs: 25, maxMs: 250, random: UInt64(cap)) == cap)
    }

    @Test(arguments: 0...70)
    func hugeBaseAndMaxNeverOverflow(attempt: Int) {
        let cap = Backoff.capMs(attempt: attempt, baseMs: Int.max / 2, maxMs: Int.max)
        #expect(cap > 0 && cap <= Int.max)
        let delay = Backoff.fullJitter(attempt: attempt, baseMs: Int.max / 2, maxMs: Int.max, random: .max)
        #expect(delay >= 0 && delay <= cap)
    }

    @Test func capDoublesUntilMax() {
        let caps = (0..<6).map { Backoff.capMs(attempt: $0, baseMs: 25, maxMs: 250) }
        #expect(caps == [25, 50, 100, 200, 250, 250])
    }

    @Test func degenerateInputsGiveZeroOrClamp() {
        #expect(Backoff.fullJitter(attempt: 3, baseMs: 0, maxMs: 250, random: 99) == 0)
        #expect(Backoff.fullJitter(attempt: 3, baseMs: 25, maxMs: 0, random: 99) == 0)
        #expect(Backoff.fullJitter(attempt: -4, baseMs: -1, maxMs: -1, random: 99) == 0)
        #expect(Backoff.capMs(attempt: -1, baseMs: 25, maxMs: 250) == 25)
    }

    @Test func distributionCoversTheRange() {
        // 1,000 evenly spaced random words hit every one of the 26 values in [0, 25].
        var seen = Set<Int>()
        for i in 0..<1_000 {
            let random = UInt64(i) &* 0x9E37_79B9_7F4A_7C15
            seen.insert(Backoff.fullJitter(attempt: 0, baseMs: 25, maxMs: 250, random: random))
        }
        #expect(seen == Set(0...25))
    }
}
