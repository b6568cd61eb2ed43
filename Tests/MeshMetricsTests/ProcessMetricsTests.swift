import Glibc
import Testing

@testable import MeshMetrics

@Suite struct ProcessMetricsTests {
    @Test func parsesStatWithAwkwardCommandNames() throws {
        // Fields after "(comm)": 3 state … 14 utime 15 stime … 22 starttime.
        let line = "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 4 0 98765 1000 200\n"
        let fields = try #require(ProcessMetrics.parseStat(Array(line.utf8)))
        #expect(fields.utime == 250 && fields.stime == 130 && fields.starttime == 98_765)
        #expect(ProcessMetrics.parseStat(Array("4242 no-paren S 1".utf8)) == nil)
        #expect(ProcessMetrics.parseStat(Array("4242 (short) S 1 2".utf8)) == nil)
    }

    @Test func parsesStatmAndBootTime() {
        #expect(ProcessMetrics.parseStatm(Array("2048 512 100 10 0 300 0\n".utf8)) == 512)
        let stat = "cpu  1 2 3\nintr 5\nbtime 1764000000\nprocesses 9\n"
        #expect(ProcessMetrics.parseBootTime(Array(stat.utf8)) == 1_764_000_000)
        #expect(ProcessMetrics.parseBootTime(Array("cpu 1\n".utf8)) == nil)
    }

    @Test func readsThisProcess() throws {
        // Other tests run in parallel and open descriptors too, so only a lower bound is exact: the one
        // opened here is counted.
        let fd = open("/proc/self/stat", O_RDONLY)
        defer { close(fd) }
        let metrics = try #require(ProcessMetrics.read())
        #expect(fd >= 0 && metrics.openFDs >= 1)
        #expect(metrics.residentBytes > 1_000_000)
        #expect(metrics.cpuSeconds >= 0)
        let now = Double(time(nil))
        #expect(metrics.startTimeSeconds > 1_500_000_000 && metrics.startTimeSeconds <= now + 1)
    }
}
