import Glibc
import MeshHTTP1

/// Test bytes placed so they end exactly at an inaccessible page, as picohttpparser's test.c does: any read past
/// the end of the input crashes the test instead of passing silently.
final class GuardedBuffer {
    private let mapping: UnsafeMutableRawPointer
    private let mappingSize: Int
    /// The input, ending right before the guard page.
    let bytes: UnsafeRawBufferPointer

    init(_ input: [UInt8]) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let dataPages = (input.count + page - 1) / page + 1
        mappingSize = (dataPages + 1) * page
        let p = mmap(nil, mappingSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        precondition(p != MAP_FAILED, "mmap failed")
        mapping = p!
        let guardPage = mapping + dataPages * page
        precondition(mprotect(guardPage, page, PROT_NONE) == 0, "mprotect failed")
        let start = guardPage - input.count
        input.withUnsafeBytes { start.copyMemory(from: $0.baseAddress!, byteCount: input.count) }
        bytes = UnsafeRawBufferPointer(start: start, count: input.count)
    }

    convenience init(_ text: String) {
        self.init(Array(text.utf8))
    }

    deinit {
        munmap(mapping, mappingSize)
    }

    /// The first `n` bytes, as a prefix view (still followed by the rest of the input, as a real read buffer is).
    func prefix(_ n: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[0..<n])
    }

    /// The text of `length` bytes at `start`.
    func string(_ start: Int32, _ length: Int32) -> String {
        String(decoding: bytes[Int(start)..<Int(start + length)], as: UTF8.self)
    }
}

/// Parses a whole request with fresh state; returns the result and the header fields written.
func parseRequest(_ input: GuardedBuffer, limits: HTTPLimits = HTTPLimits(), capacity: Int = 128)
    -> (HeadParseResult<RequestHead>, [HTTPHeaderField])
{
    var parser = RequestParser(limits: limits)
    var headers = [HTTPHeaderField](repeating: .empty, count: capacity)
    let result = headers.withUnsafeMutableBufferPointer { parser.parse(input.bytes, headers: $0) }
    if case .complete(let head) = result { return (result, Array(headers[0..<head.headerCount])) }
    return (result, [])
}

/// Parses a whole response with fresh state.
func parseResponse(_ input: GuardedBuffer, method: HTTPMethod = .get, capacity: Int = 128)
    -> (HeadParseResult<ResponseHead>, [HTTPHeaderField])
{
    var parser = ResponseParser()
    var headers = [HTTPHeaderField](repeating: .empty, count: capacity)
    let result = headers.withUnsafeMutableBufferPointer {
        parser.parse(input.bytes, headers: $0, requestMethod: method)
    }
    if case .complete(let head) = result { return (result, Array(headers[0..<head.headerCount])) }
    return (result, [])
}

extension HeadParseResult {
    /// The head when complete.
    var head: Head? {
        if case .complete(let head) = self { return head }
        return nil
    }

    /// The error when invalid.
    var error: HTTPParseError? {
        if case .invalid(let error) = self { return error }
        return nil
    }

    var isIncomplete: Bool {
        if case .incomplete = self { return true }
        return false
    }
}
