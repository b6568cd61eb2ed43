// Shared by the libFuzzer targets (compiled into each target's main module by scripts/fuzz.sh).

/// Traps with `message` unless `condition` holds: libFuzzer saves the input that broke the invariant.
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant violated: \(message())") }
}

/// Reads control bytes from the front of a fuzzer input; past the end it reads zeros, so every input is usable.
struct ControlBytes {
    private let data: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ data: UnsafeRawBufferPointer) { self.data = data }

    /// The next byte, 0 once the input is used up.
    mutating func byte() -> UInt8 {
        guard offset < data.count else { return 0 }
        defer { offset += 1 }
        return data[offset]
    }

    /// The next byte reduced to `0..<count` (one of `count` choices).
    mutating func choice(_ count: Int) -> Int { Int(byte()) % count }

    /// Everything not read yet.
    var rest: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: data[min(offset, data.count)...]) }
}

/// ASCII lowercase of a byte string, for case-insensitive field names.
func lowercased(_ bytes: some Sequence<UInt8>) -> [UInt8] {
    bytes.map { $0 &- 65 < 26 ? $0 | 0x20 : $0 }
}

/// `bytes` as text for failure messages (invalid UTF-8 shown with replacement characters).
func show(_ bytes: some Collection<UInt8>) -> String {
    String(decoding: Array(bytes), as: UTF8.self).debugDescription
}
