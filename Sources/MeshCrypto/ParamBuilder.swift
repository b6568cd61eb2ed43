import CCrypto

/// Builds an `OSSL_PARAM` array for `EVP_PKEY_fromdata` / `EVP_KDF_derive` (OpenSSL 3 provider API).
///
/// `OSSL_PARAM_BLD` keeps *pointers* to keys and pushed buffers until `build()`, and the built params keep the
/// key pointers, so keys are `StaticString`s (static storage) and pushed bytes are copied into memory this
/// builder owns until it is released. Used on one thread, for the duration of one call.
final class ParamBuilder {
    private let builder: OpaquePointer
    private var buffers: [UnsafeMutableRawPointer] = []
    private var bignums: [OpaquePointer] = []
    private var failed = false

    init?() {
        guard let builder = OSSL_PARAM_BLD_new() else { return nil }
        self.builder = builder
    }

    deinit {
        OSSL_PARAM_BLD_free(builder)
        for buffer in buffers { buffer.deallocate() }
        for bignum in bignums { BN_free(bignum) }
    }

    /// Pushes an octet string (copied).
    func octets(_ key: StaticString, _ bytes: [UInt8]) {
        let copy = retain(bytes, extraZero: false)
        if OSSL_PARAM_BLD_push_octet_string(builder, cName(key), copy, bytes.count) != 1 { failed = true }
    }

    /// Pushes a UTF-8 string (copied, NUL-terminated).
    func utf8(_ key: StaticString, _ value: String) {
        let bytes = Array(value.utf8)
        let copy = retain(bytes, extraZero: true)
        if OSSL_PARAM_BLD_push_utf8_string(builder, cName(key), copy.assumingMemoryBound(to: CChar.self), bytes.count)
            != 1
        {
            failed = true
        }
    }

    /// Pushes an unsigned big-endian integer as a BIGNUM.
    func bignum(_ key: StaticString, bigEndian bytes: [UInt8]) {
        guard let number = bytes.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress, Int32($0.count), nil) }) else {
            failed = true
            return
        }
        bignums.append(number)
        if OSSL_PARAM_BLD_push_BN(builder, cName(key), number) != 1 { failed = true }
    }

    /// Pushes a `uint64_t`.
    func uint64(_ key: StaticString, _ value: UInt64) {
        if OSSL_PARAM_BLD_push_uint64(builder, cName(key), value) != 1 { failed = true }
    }

    /// Pushes a `uint32_t`.
    func uint32(_ key: StaticString, _ value: UInt32) {
        if OSSL_PARAM_BLD_push_uint32(builder, cName(key), value) != 1 { failed = true }
    }

    /// Runs `body` with the built array (freed afterwards); nil when any push or the build failed.
    func withParams<R>(_ body: (UnsafeMutablePointer<OSSL_PARAM>) -> R) -> R? {
        guard !failed, let params = OSSL_PARAM_BLD_to_param(builder) else { return nil }
        defer { OSSL_PARAM_free(params) }
        return body(params)
    }

    private func retain(_ bytes: [UInt8], extraZero: Bool) -> UnsafeMutableRawPointer {
        let copy = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count + (extraZero ? 1 : 0)), alignment: 1)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { copy.copyMemory(from: base, byteCount: source.count) }
        }
        if extraZero { copy.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self) }
        buffers.append(copy)
        return copy
    }

    private func cName(_ key: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(key.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}

/// Small libcrypto helpers shared by the key types.
enum LibCrypto {
    /// Big-endian bytes of a BIGNUM left-padded to `width` (nil when it does not fit).
    static func bytes(of number: OpaquePointer, paddedTo width: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: width)
        let written = out.withUnsafeMutableBufferPointer { BN_bn2binpad(number, $0.baseAddress, Int32(width)) }
        return written == Int32(width) ? out : nil
    }

    /// Minimal big-endian bytes of a BIGNUM (JWK `n`/`e` have no leading zeros, RFC 7518 §6.3.1).
    static func minimalBytes(of number: OpaquePointer) -> [UInt8] {
        let count = (Int(BN_num_bits(number)) + 7) / 8
        return bytes(of: number, paddedTo: count) ?? []
    }

    /// Reads a BIGNUM parameter of a key (e.g. "n", "e", "qx").
    static func bignumParameter(_ pkey: OpaquePointer, _ name: String) -> OpaquePointer? {
        var number: OpaquePointer? = nil
        guard EVP_PKEY_get_bn_param(pkey, name, &number) == 1 else { return nil }
        return number
    }

    /// Drops this thread's queued OpenSSL errors: failures are reported through our return values, and the
    /// per-thread queue would otherwise grow with every rejected token.
    static func clearErrors() {
        ERR_clear_error()
    }
}
