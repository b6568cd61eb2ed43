import CCrypto

/// Conversion between JWS ECDSA signatures (fixed-width `R || S`, RFC 7518 §3.4) and the DER
/// `ECDSA-Sig-Value` that libcrypto's EVP interface produces and consumes.
enum ECDSASignature {
    /// DER encoding of a raw `R || S` signature; nil unless `raw` is exactly `2 * coordinateBytes` long.
    /// A DER signature handed in as a JWS signature has the wrong length and is rejected here (RFC 7518 §3.4).
    static func der(fromRaw raw: UnsafeRawBufferPointer, coordinateBytes: Int) -> [UInt8]? {
        guard raw.count == 2 * coordinateBytes, let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return nil
        }
        guard let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        guard let r = BN_bin2bn(base, Int32(coordinateBytes), nil) else { return nil }
        guard let s = BN_bin2bn(base + coordinateBytes, Int32(coordinateBytes), nil) else {
            BN_free(r)
            return nil
        }
        // ECDSA_SIG_set0 takes ownership of r and s on success only.
        guard ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        let length = i2d_ECDSA_SIG(signature, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_ECDSA_SIG(signature, &cursor)
        }
        return written == length ? der : nil
    }

    /// Raw `R || S` (each left-padded to `coordinateBytes`) from a DER signature; nil when malformed.
    static func raw(fromDER der: [UInt8], coordinateBytes: Int) -> [UInt8]? {
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, buffer.count)
        }
        guard let signature = parsed else { return nil }
        defer { ECDSA_SIG_free(signature) }
        var r: OpaquePointer? = nil
        var s: OpaquePointer? = nil
        ECDSA_SIG_get0(signature, &r, &s)
        guard let r, let s,
            let rBytes = LibCrypto.bytes(of: r, paddedTo: coordinateBytes),
            let sBytes = LibCrypto.bytes(of: s, paddedTo: coordinateBytes)
        else { return nil }
        return rBytes + sBytes
    }
}
