import Glibc
import MeshJSON
import MeshLog
import Testing

struct LogWriterTests {
    func requestLine(_ i: Int, padding: Int = 0) -> LogLine {
        let line = LogLine()
        line.begin(timestampMs: 1_764_057_094_123, level: .info, service: "meshgate", message: "request")
        line.field("i", i)
        line.field("path", path: "/items/\(i)?access_token=secret\(i)")
        if padding > 0 { line.field("pad", String(repeating: "p", count: padding)) }
        line.end()
        return line
    }

    /// Regression guard for SPEC §5 "Logging never blocks the event loop": stdout is a pipe nobody reads.
    @Test func fullPipeDropsInsteadOfBlocking() {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let writer = LogWriter(fd: fds[1], producers: 1, ringBytes: 64 * 1024, idleMs: 2, stopTimeoutMs: 100)
        let ring = writer.ring(0)
        var accepted = 0
        // ~2.3 MB of lines against a 64 KiB pipe and a 64 KiB ring: most must be dropped, none may block.
        for i in 0..<10_000 {
            let line = requestLine(i, padding: 120)
            if line.bytes.withUnsafeBufferPointer({ ring.push($0) }) { accepted += 1 }
        }
        #expect(accepted > 0)
        #expect(writer.droppedLines > 0)
        #expect(UInt64(accepted) + writer.droppedLines == 10_000)
        writer.stop()
        // After stop, shared submissions are dropped (and counted) rather than queued forever.
        let before = writer.droppedLines
        writer.submitShared(requestLine(0).bytes)
        #expect(writer.droppedLines == before + 1)
    }

    @Test func everyLineArrivesWholeAndValid() throws {
        var template = Array("/tmp/meshlog-test-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        #expect(fd >= 0)
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { close(fd); unlink(path) }

        let writer = LogWriter(fd: fd, producers: 2, ringBytes: 1 << 20, idleMs: 2)
        for i in 0..<500 {
            let line = requestLine(i)
            _ = line.bytes.withUnsafeBufferPointer { writer.ring(i % 2).push($0) }
        }
        for i in 500..<520 { writer.submitShared(requestLine(i).bytes) }
        writer.stop()
        #expect(writer.droppedLines == 0)

        lseek(fd, 0, SEEK_SET)
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            content += chunk[0..<n]
        }
        let lines = content.split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == 520)
        var seen = Set<Int64>()
        for line in lines {
            let node = try JSONReader.parse(Array(line))
            if let i = node["i"]?.int64Value { seen.insert(i) }
            #expect(node["path"]?.stringValue?.contains("?") == false)
        }
        #expect(seen == Set((0..<520).map { Int64($0) }))
        #expect(!String(decoding: content, as: UTF8.self).contains("secret"))
        #expect(writer.writtenBytes == UInt64(content.count))
    }
}
