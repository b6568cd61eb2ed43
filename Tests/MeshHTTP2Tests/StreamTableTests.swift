import Testing
import MeshTestSupport

@testable import MeshHTTP2

/// `StreamTable` against `Dictionary` over random operation sequences: after every step both hold the same
/// entries (lookups of present and absent ids, counts, the id and value sets).
@Suite("StreamTable")
struct StreamTableTests {
    private func check(_ table: StreamTable<Int>, _ model: [UInt32: Int], probes: [UInt32]) {
        #expect(table.count == model.count)
        #expect(table.isEmpty == model.isEmpty)
        for id in model.keys { #expect(table[id] == model[id], "id \(id)") }
        for id in probes { #expect(table[id] == model[id], "probe \(id)") }
        #expect(Set(table.ids) == Set(model.keys))
        #expect(table.values.sorted() == model.values.sorted())
    }

    @Test("random inserts, overwrites and removals agree with a Dictionary", arguments: [1, 2, 3, 4, 5])
    func agreesWithDictionary(seed: Int) {
        var random = SystemRandomNumberGenerator()
        var table = StreamTable<Int>()
        var model: [UInt32: Int] = [:]
        // Small id ranges make overwrites, removals of present ids and long probe runs common.
        let range: ClosedRange<UInt32> = seed.isMultiple(of: 2) ? 1...64 : 1...UInt32.max
        for step in 0..<3_000 {
            let id = UInt32.random(in: range, using: &random)
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                table[id] = step
                model[id] = step
            case 5..<8:
                #expect(table.removeValue(forKey: id) == model.removeValue(forKey: id))
            case 8:
                table[id] = nil
                model[id] = nil
            default:
                if Int.random(in: 0..<50, using: &random) == 0 {
                    table.removeAll()
                    model.removeAll()
                }
            }
            if step % 100 == 0 { check(table, model, probes: (0..<20).map { _ in UInt32.random(in: range, using: &random) }) }
        }
        check(table, model, probes: Array(1...64))
    }

    @Test("client stream ids as a connection opens and closes them: odd, increasing, a window of open ones")
    func streamLifecycle() {
        var table = StreamTable<Int>()
        var model: [UInt32: Int] = [:]
        var next: UInt32 = 1
        for round in 0..<2_000 {
            table[next] = round
            model[next] = round
            next += 2
            if model.count > 100, let oldest = model.keys.min() {
                #expect(table.removeValue(forKey: oldest) == model.removeValue(forKey: oldest))
            }
        }
        check(table, model, probes: [2, 4, next, next + 2])
    }

    @Test("a connection's stream ids spread over the table at 128 open streams, for any secret")
    func idsSpreadOverTheTable() {
        // The ids a client opens (odd, increasing), 128 of them open at a time as the oldest close, under 64
        // secrets from a fixed seed: the process's own secret is random, so the spread must hold for every one.
        // (The first hash, a random odd multiplier, left keys 71 slots from home for some secrets; this test
        // then passed or failed with the process.)
        var rng = SplitMix64(state: 0x5EED_7AB1E)
        var worst = 0
        var total = 0
        var keys = 0
        for _ in 0..<64 {
            var table = StreamTable<Int>(secret: UInt32.random(in: 0...UInt32.max, using: &rng))
            for n in 0..<1_000 {
                let id = UInt32(2 * n + 1)
                table[id] = n
                if n >= 128 { table[id - 256] = nil }
                guard n % 8 == 0 else { continue }
                let displacements = table.displacements
                worst = max(worst, displacements.max() ?? 0)
                total += displacements.reduce(0, +)
                keys += displacements.count
            }
        }
        // Linear probing at half load: about half a slot past home on average, a few dozen at the very worst
        // (34 in 300 random secrets). With every key homed at one slot (the bug this guards) the mean was ~64.
        let mean = Double(total) / Double(keys)
        #expect(mean < 1.0, "keys sat \(mean) slots from home on average")
        #expect(worst <= 48, "a key sat \(worst) slots from its home")
    }
}
