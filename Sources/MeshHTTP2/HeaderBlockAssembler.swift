/// Collects one field block across HEADERS and CONTINUATION frames and decodes it as it arrives, so its size is
/// known before END_HEADERS (SPEC §10: a block passing `max_header_bytes` before the end is a CONTINUATION flood
/// or an HPACK bomb and ends the connection; a complete block over it is only "too large", 431).
struct HeaderBlockAssembler: Sendable {
    /// What the connection will do with the block once decoded.
    enum Purpose: Sendable, Equatable {
        /// A stream's header section: a new request (server side) or a response head, informational or final
        /// (client side).
        case head
        /// Trailers of an open stream.
        case trailers
        /// Decoded only to keep HPACK in step (closed or refused stream, or after GOAWAY), then dropped.
        case discard
        /// Decoded, then the stream is reset with this code (e.g. HEADERS on a half-closed stream).
        case reject(HTTP2ErrorCode)
    }

    /// The block in progress.
    struct Pending: Sendable, Equatable {
        var streamID: UInt32
        var purpose: Purpose
        var endStream: Bool
        var selfDependent: Bool
    }

    /// How adding a fragment ended.
    enum Outcome: Sendable {
        /// END_HEADERS not seen yet.
        case needMore
        /// The block is complete; `tooLarge` when its decoded size passed the limit.
        case complete(Pending, HTTP2HeaderList, tooLarge: Bool)
        /// HPACK decoding failed (connection error COMPRESSION_ERROR).
        case compressionError
        /// The block passed the limit before END_HEADERS.
        case tooLargeBeforeEnd
    }

    /// The block in progress, nil between blocks (then only a new HEADERS may start one).
    private(set) var pending: Pending?
    /// Undecoded tail: a representation split across frames.
    private var tail: [UInt8] = []
    /// Fragment octets received for this block.
    private var compressedBytes = 0
    private var list = HTTP2HeaderList()
    /// A finished block's list its taker gave back (`recycle`): the next block is decoded into its storage.
    private var spare: HTTP2HeaderList?

    /// Room reserved for a block's names and values, and its fields: a browser's or a gRPC client's request head
    /// fits, so it is decoded without the arrays growing field by field.
    static let reservedBytes = 512
    static let reservedFields = 24

    /// Starts a block.
    mutating func begin(_ block: Pending, decoder: inout HPACKDecoder) {
        pending = block
        tail.removeAll(keepingCapacity: true)
        compressedBytes = 0
        if var reused = spare {
            spare = nil
            // Emptied now, when its taker has let go of it: emptying a list still shared would copy it.
            reused.removeAll()
            list = reused
        } else {
            list = HTTP2HeaderList(reservingBytes: Self.reservedBytes, fields: Self.reservedFields)
        }
        decoder.beginBlock()
    }

    /// Takes back a finished block's list for the next block to reuse.
    mutating func recycle(_ finished: HTTP2HeaderList) {
        if spare == nil { spare = finished }
    }

    /// Decodes a fragment; `limit` is `maxHeaderBytes` (decoded size, and fragment octets before END_HEADERS).
    mutating func add(
        _ fragment: UnsafeRawBufferPointer, endHeaders: Bool, decoder: inout HPACKDecoder, limit: Int
    ) -> Outcome {
        compressedBytes += fragment.count
        let decoded: Result<Int, HPACKDecoder.DecodeError>
        if tail.isEmpty {
            decoded = decoder.decode(fragment, into: &list)
            if case .success(let used) = decoded, used < fragment.count {
                tail.append(contentsOf: UnsafeRawBufferPointer(rebasing: fragment[used...]))
            }
        } else {
            tail.append(contentsOf: fragment)
            decoded = tail.withUnsafeBytes { decoder.decode($0, into: &list) }
            if case .success(let used) = decoded { tail.removeSubrange(0..<used) }
        }
        guard case .success = decoded else { return .compressionError }
        guard endHeaders else {
            let over = compressedBytes > limit || list.decodedSize > limit
            return over ? .tooLargeBeforeEnd : .needMore
        }
        guard tail.isEmpty, let block = pending else { return .compressionError }  // ended inside a representation
        pending = nil
        let complete = list
        list = HTTP2HeaderList()
        return .complete(block, complete, tooLarge: complete.decodedSize > limit)
    }
}
