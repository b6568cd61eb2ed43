import Glibc

/// Unbuffered writes to stdout/stderr (Glibc's `FILE*` globals are not usable from Swift 6 code).
public enum Console {
    public static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                return
            }
            offset += n
        }
        bytes.removeAll()
    }

    public static func error(_ text: String) { write(text, to: 2) }
}
