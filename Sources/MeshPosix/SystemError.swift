import Glibc

/// A failed system call: the errno it set and the call's name, for logs.
///
/// `EINTR` never reaches here (the funnel retries it) and `EAGAIN` is `IOResult.wouldBlock`.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    public let errno: Int32
    public let call: String

    public init(errno: Int32, call: String) {
        self.errno = errno
        self.call = call
    }

    public var description: String {
        "\(call): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// The outcome of a non-blocking call: it did something, or the kernel said "try later".
public enum IOResult<Value: Sendable>: Sendable {
    case processed(Value)
    case wouldBlock
}
