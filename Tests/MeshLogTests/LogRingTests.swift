import MeshLog
import Testing

struct LogRingTests {
    func push(_ ring: LogRing, _ s: String) -> Bool {
        Array(s.utf8).withUnsafeBufferPointer { ring.push($0) }
    }

    @Test func wholeLinesComeOutInOrderAcrossTheWrap() {
        let ring = LogRing(capacity: 4096)
        var out: [UInt8] = []
        var expected = ""
        // 3000 lines of ~20 bytes through a 4 KiB ring: wraps many times.
        for i in 0..<3000 {
            let line = "line number \(i)\n"
            #expect(push(ring, line))
            expected += line
            if i % 100 == 99 { _ = ring.pop(into: &out, max: 4096) }
        }
        while ring.pop(into: &out, max: 4096) > 0 {}
        #expect(String(decoding: out, as: UTF8.self) == expected)
        #expect(ring.droppedLines == 0)
    }

    @Test func fullRingDropsAndCounts() {
        let ring = LogRing(capacity: 4096)
        let line = String(repeating: "x", count: 99) + "\n"
        var accepted = 0
        for _ in 0..<100 where push(ring, line) { accepted += 1 }
        #expect(accepted == 40)
        #expect(ring.droppedLines == 60)
        var out: [UInt8] = []
        #expect(ring.pop(into: &out, max: 1 << 20) == 4000)
        #expect(push(ring, line))
    }

    @Test func popStopsAtTheLastNewline() {
        let ring = LogRing(capacity: 4096)
        #expect(push(ring, "aaaa\nbbbb\n"))
        var out: [UInt8] = []
        // 7 bytes allowed: only "aaaa\n" is whole.
        #expect(ring.pop(into: &out, max: 7) == 5)
        #expect(String(decoding: out, as: UTF8.self) == "aaaa\n")
        #expect(ring.available == 5)
        #expect(ring.pop(into: &out, max: 3) == 0)
    }
}
