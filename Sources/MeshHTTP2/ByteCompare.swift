import Glibc

extension Collection where Element == UInt8 {
    /// Byte equality with an ASCII literal: the length first, then one `memcmp` over contiguous storage.
    /// (`elementsEqual(_:)` against a `String.UTF8View` walks both iterators byte by byte; on every field of
    /// every HTTP/2 head that showed in profiles.)
    @inline(__always)
    public func equals(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard self.count == count else { return false }
        if count == 0 { return true }
        return withContiguousStorageIfAvailable { memcmp($0.baseAddress!, literal.utf8Start, count) == 0 }
            ?? elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: count))
    }

    /// Byte equality with another byte collection, length first.
    @inline(__always)
    public func equalsBytes<Other: Collection<UInt8>>(_ other: Other) -> Bool {
        guard count == other.count else { return false }
        if isEmpty { return true }
        let fast: Bool? = withContiguousStorageIfAvailable { mine in
            other.withContiguousStorageIfAvailable { theirs in memcmp(mine.baseAddress!, theirs.baseAddress!, mine.count) == 0 }
        } ?? nil
        return fast ?? elementsEqual(other)
    }
}
