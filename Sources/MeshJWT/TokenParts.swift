/// The three segments of a compact JWS (RFC 7515 §7.1) as byte ranges into the caller's token; no copying.
struct TokenParts {
    /// Encoded protected header.
    let header: Range<Int>
    /// Encoded payload.
    let payload: Range<Int>
    /// Encoded signature.
    let signature: Range<Int>

    /// The signing input `header.payload` (RFC 7515 §5.2 step 8: the received bytes, never a re-serialisation).
    var signingInput: Range<Int> { header.lowerBound..<payload.upperBound }

    /// Splits on exactly two dots; nil for any other count or an empty header or payload.
    static func split(_ token: UnsafeRawBufferPointer) -> TokenParts? {
        var first = -1
        var second = -1
        for index in 0..<token.count where token[index] == UInt8(ascii: ".") {
            if first < 0 {
                first = index
            } else if second < 0 {
                second = index
            } else {
                return nil  // a fourth part: JWE has five, but we never accept JWE
            }
        }
        guard first > 0, second > first + 1 else { return nil }
        return TokenParts(header: 0..<first, payload: (first + 1)..<second, signature: (second + 1)..<token.count)
    }
}
