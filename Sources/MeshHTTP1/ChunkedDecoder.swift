/// Incremental, byte-resumable chunked-body state machine (RFC 9112 §7.1). It consumes EVERY byte it is given
/// (partial size lines are remembered in its state), so callers never keep bytes back.
///
/// ```
/// chunked-body = *chunk last-chunk trailer-section CRLF
/// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
/// chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
/// ```
/// Strict on purpose (SPEC §4 "invalid chunk sizes" are a 400): no leading whitespace, sign or `0x` in a size,
/// at most 15 hex digits, size lines (extensions included) at most 4 KiB, CRLF and nothing else as line ends,
/// trailer fields validated like header fields. One decoder per body, used by one thread.
public struct ChunkedDecoder: Sendable {
    /// Longest size line we accept, extensions included; bounds the work a peer can make us do per chunk.
    static let maxSizeLineBytes = 4096
    /// Longest chunk-size in hex digits: 15 digits is < 2^60, so the size never overflows an Int.
    static let maxSizeDigits = 15

    /// Where in the grammar the next byte falls.
    enum State: UInt8, Sendable {
        case sizeStart, size, sizeWhitespace
        case extBeforeName, extName, extAfterName, extBeforeValue, extToken, extQuoted, extQuotedPair, extAfterValue
        case sizeLF, data, dataCR, dataLF
        case trailerLineStart, trailerName, trailerValue, trailerLF, finalLF
        case done
    }

    /// Largest trailer section accepted, final CRLF included.
    public let maxTrailerBytes: Int
    private(set) var state = State.sizeStart
    private var chunkSize = 0
    private var sizeDigits = 0
    private var lineBytes = 0
    private var remaining = 0
    private var trailerBytes = 0
    private var failure: HTTPParseError?

    /// Creates a decoder at the start of a chunked body.
    public init(maxTrailerBytes: Int = 8192) {
        self.maxTrailerBytes = maxTrailerBytes
    }

    /// Readies the decoder for the next body.
    public mutating func reset() {
        self = ChunkedDecoder(maxTrailerBytes: maxTrailerBytes)
    }

    /// Validates framing without delivering data: pass-through use, where the raw chunked bytes are forwarded.
    public mutating func scan(_ buffer: UnsafeRawBufferPointer) -> ChunkScan {
        decode(buffer) { _ in }
    }

    /// Whether the last chunk has been read: what follows is the trailer section and the final CRLF.
    public var inTrailerSection: Bool {
        switch state {
        case .trailerLineStart, .trailerName, .trailerValue, .trailerLF, .finalLF, .done: return true
        default: return false
        }
    }

    /// Like `scan`, and also says how many of the scanned bytes come before the trailer section: the bytes a
    /// proxy forwards when it drops trailers (it then ends the body with its own CRLF).
    public mutating func scanUpToTrailers(_ buffer: UnsafeRawBufferPointer) -> (ChunkScan, beforeTrailers: Int) {
        if inTrailerSection { return (scan(buffer), 0) }
        var before = -1
        let result = decode(buffer, onData: { _ in }, trailersAt: &before)
        switch result {
        case .needMore: return (result, before >= 0 ? before : buffer.count)
        case .done(let consumed): return (result, before >= 0 ? before : consumed)
        case .invalid: return (result, 0)
        }
    }

    /// Validates framing and hands each run of chunk-data bytes to `onData` (slices of `buffer`, never empty):
    /// de-chunking use. After `.done`, further calls return `.done(consumed: 0)`.
    public mutating func decode(_ buffer: UnsafeRawBufferPointer, onData: (UnsafeRawBufferPointer) -> Void) -> ChunkScan
    {
        var ignored = -1
        return decode(buffer, onData: onData, trailersAt: &ignored)
    }

    /// `decode`, also appending the bytes of the trailer section (its field lines and the final CRLF) to
    /// `trailers` when it is not nil, however the section is split across calls; `maxTrailerBytes` bounds them.
    public mutating func decode(
        _ buffer: UnsafeRawBufferPointer, onData: (UnsafeRawBufferPointer) -> Void, keepingTrailersIn trailers: inout [UInt8]?
    ) -> ChunkScan {
        guard trailers != nil else { return decode(buffer, onData: onData) }
        let alreadyInTrailers = inTrailerSection
        var at = -1
        let result = decode(buffer, onData: onData, trailersAt: &at)
        let end: Int
        switch result {
        case .needMore: end = buffer.count
        case .done(let consumed): end = consumed
        case .invalid: return result
        }
        // Data bytes come before the trailer section, so a caller moving them within `buffer` leaves these alone.
        let from = alreadyInTrailers ? 0 : at
        if from >= 0 && from < end { trailers!.append(contentsOf: buffer[from..<end]) }
        return result
    }

    /// `decode`, also setting `trailersAt` to the offset in `buffer` where the trailer section starts, when it
    /// starts within `buffer`.
    private mutating func decode(
        _ buffer: UnsafeRawBufferPointer, onData: (UnsafeRawBufferPointer) -> Void, trailersAt: inout Int
    ) -> ChunkScan {
        if let failure { return .invalid(failure) }
        if state == .done { return .done(consumed: 0) }
        var i = 0
        let n = buffer.count
        while i < n {
            if state == .data {
                let take = min(remaining, n - i)
                onData(UnsafeRawBufferPointer(rebasing: buffer[i..<(i + take)]))
                remaining -= take
                i += take
                if remaining == 0 { state = .dataCR }
                continue
            }
            let b = buffer[i]
            i += 1
            if let error = step(b) {
                failure = error
                return .invalid(error)
            }
            if state == .trailerLineStart && chunkSize == 0 && trailerBytes == 0 && trailersAt < 0 { trailersAt = i }
            if state == .done { return .done(consumed: i) }
        }
        return .needMore
    }

    /// Advances the state machine by one byte outside chunk data.
    private mutating func step(_ b: UInt8) -> HTTPParseError? {
        switch state {
        case .sizeStart, .size, .sizeWhitespace:
            return stepSize(b)
        case .extBeforeName, .extName, .extAfterName, .extBeforeValue, .extToken, .extQuoted, .extQuotedPair,
            .extAfterValue:
            lineBytes += 1
            if lineBytes > Self.maxSizeLineBytes { return .invalidChunkExtension }
            return stepExtension(b)
        case .sizeLF:
            guard b == ASCII.lf else { return .invalidChunkTerminator }
            if chunkSize == 0 {
                state = .trailerLineStart
            } else {
                remaining = chunkSize
                state = .data
            }
        case .data:
            preconditionFailure("chunk data is consumed in bulk by decode")
        case .dataCR:
            guard b == ASCII.cr else { return .invalidChunkTerminator }
            state = .dataLF
        case .dataLF:
            guard b == ASCII.lf else { return .invalidChunkTerminator }
            state = .sizeStart
            chunkSize = 0
            sizeDigits = 0
            lineBytes = 0
        case .trailerLineStart, .trailerName, .trailerValue, .trailerLF, .finalLF:
            trailerBytes += 1
            if trailerBytes > maxTrailerBytes { return .invalidTrailer }
            return stepTrailer(b)
        case .done:
            break
        }
        return nil
    }

    /// chunk-size = 1*HEXDIG, then optional BWS before ";" (RFC 9112 §7.1.1), then CRLF.
    private mutating func stepSize(_ b: UInt8) -> HTTPParseError? {
        lineBytes += 1
        if let digit = ASCII.hexValue(b) {
            guard state != .sizeWhitespace else { return .invalidChunkSize }
            sizeDigits += 1
            if sizeDigits > Self.maxSizeDigits { return .chunkTooLarge }
            chunkSize = chunkSize << 4 | Int(digit)
            state = .size
            return nil
        }
        // An empty size, a sign, "0x" or leading whitespace all fail here: only hex digits may start the line.
        guard state != .sizeStart else { return .invalidChunkSize }
        if lineBytes > Self.maxSizeLineBytes { return .invalidChunkExtension }
        if state == .sizeWhitespace {
            // Whitespace after the size is only BWS before an extension: "5 \r\n" is refused.
            switch b {
            case ASCII.sp, ASCII.htab: return nil
            case ASCII.semicolon: state = .extBeforeName
            default: return .invalidChunkSize
            }
            return nil
        }
        switch b {
        case ASCII.cr: state = .sizeLF
        case ASCII.semicolon: state = .extBeforeName
        case ASCII.sp, ASCII.htab: state = .sizeWhitespace
        case ASCII.lf: return .invalidChunkTerminator
        default: return .invalidChunkSize
        }
        return nil
    }

    /// `;name[=token|quoted-string]`, repeated, with BWS around ";" and "=" (RFC 9112 §7.1.1).
    private mutating func stepExtension(_ b: UInt8) -> HTTPParseError? {
        let ws = ASCII.isWhitespace(b)
        switch state {
        case .extBeforeName:
            if ws { return nil }
            guard ASCII.isToken(b) else { return .invalidChunkExtension }
            state = .extName
        case .extName, .extAfterName, .extToken, .extAfterValue:
            if state == .extName || state == .extToken, ASCII.isToken(b) { return nil }
            if ws {
                state = state == .extName || state == .extAfterName ? .extAfterName : .extAfterValue
                return nil
            }
            switch b {
            case ASCII.semicolon: state = .extBeforeName
            case ASCII.cr: state = .sizeLF
            case ASCII.equals where state == .extName || state == .extAfterName: state = .extBeforeValue
            default: return .invalidChunkExtension
            }
        case .extBeforeValue:
            if ws { return nil }
            if b == ASCII.quote {
                state = .extQuoted
            } else if ASCII.isToken(b) {
                state = .extToken
            } else {
                return .invalidChunkExtension
            }
        case .extQuoted:
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4)
            if b == ASCII.quote {
                state = .extAfterValue
            } else if b == ASCII.backslash {
                state = .extQuotedPair
            } else if !ASCII.isFieldValue(b) {
                return .invalidChunkExtension
            }
        case .extQuotedPair:
            guard ASCII.isFieldValue(b) else { return .invalidChunkExtension }
            state = .extQuoted
        default:
            break
        }
        return nil
    }

    /// trailer-section = *( field-line CRLF ), then the final CRLF (RFC 9112 §7.1.2); fields as in §5.
    private mutating func stepTrailer(_ b: UInt8) -> HTTPParseError? {
        switch state {
        case .trailerLineStart:
            if b == ASCII.cr {
                state = .finalLF
            } else if ASCII.isToken(b) {
                state = .trailerName
            } else {
                return .invalidTrailer  // obs-fold, empty name, CTL
            }
        case .trailerName:
            if b == ASCII.colon {
                state = .trailerValue
            } else if !ASCII.isToken(b) {
                return .invalidTrailer  // includes whitespace before the colon
            }
        case .trailerValue:
            if b == ASCII.cr {
                state = .trailerLF
            } else if !ASCII.isFieldValue(b) {
                return .invalidTrailer
            }
        case .trailerLF:
            guard b == ASCII.lf else { return .invalidTrailer }
            state = .trailerLineStart
        case .finalLF:
            guard b == ASCII.lf else { return .invalidTrailer }
            state = .done
        default:
            break
        }
        return nil
    }
}
