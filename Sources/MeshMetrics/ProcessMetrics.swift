import Glibc

/// The standard `process_*` values, read from /proc (Linux), as the Prometheus client libraries do.
///
/// The gateway registers them as callback series; this type declares no metric names.
public struct ProcessMetrics: Sendable, Equatable {
    /// User + system CPU time in seconds (`process_cpu_seconds_total`).
    public let cpuSeconds: Double
    /// Resident set size in bytes (`process_resident_memory_bytes`).
    public let residentBytes: Double
    /// Open file descriptors (`process_open_fds`), not counting the one used to list them.
    public let openFDs: Double
    /// Process start time, seconds since the Unix epoch (`process_start_time_seconds`).
    public let startTimeSeconds: Double

    /// Creates a value (tests).
    public init(cpuSeconds: Double, residentBytes: Double, openFDs: Double, startTimeSeconds: Double) {
        self.cpuSeconds = cpuSeconds
        self.residentBytes = residentBytes
        self.openFDs = openFDs
        self.startTimeSeconds = startTimeSeconds
    }

    /// Reads /proc/self/stat, /proc/self/statm, /proc/self/fd and /proc/stat (`btime`); nil if any is unreadable.
    public static func read() -> ProcessMetrics? {
        guard let stat = readFile("/proc/self/stat"), let statm = readFile("/proc/self/statm"),
            let systemStat = readFile("/proc/stat"), let fds = countOpenFDs()
        else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        guard ticks > 0, let fields = parseStat(stat), let resident = parseStatm(statm),
            let bootTime = parseBootTime(systemStat)
        else { return nil }
        return ProcessMetrics(
            cpuSeconds: Double(fields.utime + fields.stime) / ticks,
            residentBytes: Double(resident) * pageSize,
            openFDs: Double(fds),
            startTimeSeconds: Double(bootTime) + Double(fields.starttime) / ticks)
    }

    /// Fields 14 (utime), 15 (stime) and 22 (starttime) of /proc/self/stat, in clock ticks.
    ///
    /// The second field, `(comm)`, may contain spaces and parentheses, so parsing starts after the last `)`.
    static func parseStat(_ text: [UInt8]) -> (utime: UInt64, stime: UInt64, starttime: UInt64)? {
        guard let close = text.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // After ")": field 3 (state) is the first token.
        let tokens = text[(close + 1)...].split(separator: UInt8(ascii: " "))
        func field(_ n: Int) -> UInt64? {
            let index = n - 3
            guard index < tokens.count else { return nil }
            return UInt64(String(decoding: tokens[tokens.startIndex + index], as: UTF8.self))
        }
        guard let utime = field(14), let stime = field(15), let start = field(22) else { return nil }
        return (utime, stime, start)
    }

    /// Field 2 (resident pages) of /proc/self/statm.
    static func parseStatm(_ text: [UInt8]) -> UInt64? {
        let tokens = text.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") })
        guard tokens.count >= 2 else { return nil }
        return UInt64(String(decoding: tokens[1], as: UTF8.self))
    }

    /// The `btime` line of /proc/stat: boot time in seconds since the epoch.
    static func parseBootTime(_ text: [UInt8]) -> UInt64? {
        for line in text.split(separator: UInt8(ascii: "\n")) where line.starts(with: Array("btime ".utf8)) {
            return UInt64(String(decoding: line.dropFirst(6), as: UTF8.self).filter { $0 != " " })
        }
        return nil
    }

    /// Entries of /proc/self/fd minus `.`, `..` and the directory's own descriptor.
    static func countOpenFDs() -> Int? {
        guard let dir = opendir("/proc/self/fd") else { return nil }
        defer { closedir(dir) }
        let own = dirfd(dir)
        var count = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." || name == String(own) { continue }
            count += 1
        }
        return count
    }

    /// Reads a whole (small) file with open/read; nil on error.
    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { return result }
            result += chunk[..<n]
        }
    }
}
