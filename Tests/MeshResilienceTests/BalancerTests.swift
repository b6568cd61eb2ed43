import Testing

@testable import MeshResilience

@Suite struct BalancerTests {
    /// Deterministic "random" words for the tests (splitmix64 of the index).
    static func word(_ i: Int) -> UInt64 {
        var z = UInt64(i) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @Test func roundRobinCyclesEvenly() {
        var rr = RoundRobin()
        let picks = (0..<9).map { _ in rr.pick(count: 3) { _ in true }! }
        #expect(picks == [0, 1, 2, 0, 1, 2, 0, 1, 2])
    }

    @Test func roundRobinSkipsIneligible() {
        var rr = RoundRobin()
        let picks = (0..<6).map { _ in rr.pick(count: 4) { $0 != 1 && $0 != 2 }! }
        #expect(picks == [0, 3, 0, 3, 0, 3])
    }

    @Test func roundRobinPrefersAnotherEndpointButFallsBack() {
        var rr = RoundRobin()
        let picks = [
            rr.pick(count: 3, avoiding: 0) { _ in true },
            rr.pick(count: 3, avoiding: 2) { _ in true },
            rr.pick(count: 3, avoiding: 1) { $0 == 1 },
            rr.pick(count: 3, avoiding: 1) { _ in false },
            rr.pick(count: 0) { _ in true },
        ]
        #expect(picks == [1, 0, 1, nil, nil])
    }

    @Test func randomSpreadsEvenlyAndSkipsIneligible() {
        var counts = [Int](repeating: 0, count: 5)
        for i in 0..<10_000 {
            counts[RandomPick().pick(count: 5, random: Self.word(i)) { $0 != 2 }!] += 1
        }
        #expect(counts[2] == 0)
        for index in [0, 1, 3, 4] { #expect((2_250...2_750).contains(counts[index]), "\(counts)") }
    }

    @Test func randomAvoidsAndReturnsNilWhenNoneEligible() {
        for i in 0..<100 {
            #expect(RandomPick().pick(count: 2, avoiding: 0, random: Self.word(i)) { _ in true } == 1)
        }
        #expect(RandomPick().pick(count: 2, avoiding: 0, random: 1) { $0 == 0 } == 0)
        #expect(RandomPick().pick(count: 3, random: 1) { _ in false } == nil)
    }

    @Test func leastRequestPrefersTheLessLoaded() {
        let active = [10, 0, 10, 10]
        var wins = [Int](repeating: 0, count: 4)
        for i in 0..<4_000 {
            let pick = LeastRequest().pick(count: 4, random: Self.word(i), eligible: { _ in true }) { active[$0] }
            wins[pick!] += 1
        }
        // Endpoint 1 wins whenever it is one of the two draws: 1 - (3/4 · 2/3) = 1/2 of the time.
        #expect((1_800...2_200).contains(wins[1]), "\(wins)")
        // The two draws are distinct, so a loaded endpoint wins only against another loaded one.
        #expect(wins.reduce(0, +) == 4_000)
    }

    @Test func leastRequestSpreadsEvenlyWhenLoadIsEqual() {
        var wins = [Int](repeating: 0, count: 4)
        for i in 0..<8_000 {
            wins[LeastRequest().pick(count: 4, random: Self.word(i), eligible: { $0 != 3 }) { _ in 0 }!] += 1
        }
        #expect(wins[3] == 0)
        for index in 0..<3 { #expect((2_400...2_933).contains(wins[index]), "\(wins)") }
    }

    @Test func leastRequestEdgeCases() {
        #expect(LeastRequest().pick(count: 3, random: 7, eligible: { $0 == 2 }) { _ in 0 } == 2)
        #expect(LeastRequest().pick(count: 3, avoiding: 2, random: 7, eligible: { $0 == 2 }) { _ in 0 } == 2)
        #expect(LeastRequest().pick(count: 3, avoiding: 0, random: 7, eligible: { $0 != 1 }) { _ in 0 } == 2)
        #expect(LeastRequest().pick(count: 3, random: 7, eligible: { _ in false }) { _ in 0 } == nil)
    }

    @Test func loadBalancerDispatchesByKind() {
        #expect(BalanceKind(rawValue: "least_request") == .leastRequest)
        #expect(BalanceKind(rawValue: "weighted") == nil)
        var lb = LoadBalancer(kind: .roundRobin)
        let picks = (0..<4).map { _ in lb.pick(count: 2, random: 0, eligible: { _ in true }, active: { _ in 0 })! }
        #expect(picks == [0, 1, 0, 1])
        var lr = LoadBalancer(kind: .leastRequest)
        let least = lr.pick(count: 2, random: 0, eligible: { _ in true }, active: { $0 == 1 ? 0 : 5 })
        #expect(least == 1)
        var rnd = LoadBalancer(kind: .random)
        let random = rnd.pick(count: 3, random: 5, eligible: { _ in true }, active: { _ in 0 })
        #expect(random == 2)
    }
}
