import MeshHTTP1

/// A parsed request head over the connection's buffer: borrowed, valid only while that buffer is unchanged.
public struct RequestView {
    public let buffer: UnsafeRawBufferPointer
    public let headers: UnsafeMutableBufferPointer<HTTPHeaderField>
    public let head: RequestHead

    public init(buffer: UnsafeRawBufferPointer, headers: UnsafeMutableBufferPointer<HTTPHeaderField>, head: RequestHead)
    {
        self.buffer = buffer
        self.headers = headers
        self.head = head
    }

    @inline(__always)
    public func bytes(_ start: Int32, _ length: Int32) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[Int(start)..<Int(start + length)])
    }

    public var method: UnsafeRawBufferPointer { bytes(0, head.methodLength) }
    public var rawPath: UnsafeRawBufferPointer { bytes(head.pathStart, head.pathLength) }
    public var query: UnsafeRawBufferPointer { bytes(head.queryStart, head.queryLength) }

    @inline(__always)
    public func name(_ i: Int) -> UnsafeRawBufferPointer { bytes(headers[i].nameStart, headers[i].nameLength) }
    @inline(__always)
    public func value(_ i: Int) -> UnsafeRawBufferPointer { bytes(headers[i].valueStart, headers[i].valueLength) }

    /// The authority the request addresses: absolute-form's host wins over `Host` (SPEC §4). Empty if neither.
    public var authority: UnsafeRawBufferPointer {
        if head.form == .absolute { return bytes(head.authorityStart, head.authorityLength) }
        if head.hostIndex >= 0 { return value(Int(head.hostIndex)) }
        return UnsafeRawBufferPointer(start: nil, count: 0)
    }

    /// The value of the first field of a kind the parser recognized, or nil.
    public func firstValue(of known: KnownHeader) -> UnsafeRawBufferPointer? {
        for i in 0..<head.headerCount where headers[i].known == known { return value(i) }
        return nil
    }

    /// The first header whose lowercase name equals `name` (a lowercase byte array).
    public func firstValue(named name: [UInt8]) -> UnsafeRawBufferPointer? {
        for i in 0..<head.headerCount where Bytes.equalsIgnoringCase(self.name(i), name) {
            return value(i)
        }
        return nil
    }
}

/// Byte helpers shared by the proxy stages. ASCII only; header names and hosts are case-insensitive.
public enum Bytes {
    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { b &- 65 < 26 ? b | 0x20 : b }

    /// `a` equals the lowercase `b`, ignoring ASCII case in `a`.
    public static func equalsIgnoringCase(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<b.count where lower(a[i]) != b[i] { return false }
        return true
    }

    public static func equals(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return b.withUnsafeBytes { rb in a.count == 0 || memcmpBytes(a, rb) }
    }

    public static func hasPrefix(_ a: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        guard a.count >= prefix.count else { return false }
        return equals(UnsafeRawBufferPointer(rebasing: a[0..<prefix.count]), prefix)
    }

    @inline(__always)
    static func memcmpBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }

    /// `host[:port]` without the port (IPv6 `[::1]:80` keeps its brackets).
    public static func hostWithoutPort(_ authority: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var end = authority.count
        var i = authority.count - 1
        while i >= 0 {
            let c = authority[i]
            if c == UInt8(ascii: ":") {
                end = i
                break
            }
            if c < UInt8(ascii: "0") || c > UInt8(ascii: "9") { break }
            i -= 1
        }
        return UnsafeRawBufferPointer(rebasing: authority[0..<end])
    }
}
