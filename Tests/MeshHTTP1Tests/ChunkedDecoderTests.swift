import MeshHTTP1
import Testing

/// A valid chunked body (followed by `next`, the bytes of the next message) and its de-chunked data.
struct ValidChunkedBody: CustomTestStringConvertible, Sendable {
    var name: String
    var body: String
    var data: String
    var testDescription: String { name }
}

let validChunkedBodies: [ValidChunkedBody] = [
    ValidChunkedBody(name: "empty", body: "0\r\n\r\n", data: ""),
    ValidChunkedBody(name: "two chunks", body: "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n", data: "hello, world"),
    ValidChunkedBody(
        name: "upper and lower hex, leading zeros", body: "00A\r\n0123456789\r\nb\r\nabcdefghijk\r\n000\r\n\r\n",
        data: "0123456789abcdefghijk"),
    ValidChunkedBody(
        name: "extensions", body: "3;a=b;c\r\nabc\r\n2 ; q=\"x\\\"y\" ;r = s\r\nde\r\n0;last\r\n\r\n",
        data: "abcde"),
    ValidChunkedBody(name: "trailers", body: "4\r\nwiki\r\n0\r\nExpires: never\r\nX-Sum:  abc \r\n\r\n", data: "wiki"),
    ValidChunkedBody(name: "CRLF inside data", body: "4\r\n\r\n\r\n\r\n0\r\n\r\n", data: "\r\n\r\n"),
    ValidChunkedBody(
        name: "15 hex digits", body: "00000000000000f\r\nfifteen bytes!!\r\n0\r\n\r\n",
        data: "fifteen bytes!!"),
]

/// Runs `decode` over `bytes` cut at the given split points; returns the final result and the data delivered.
private func decodeInPieces(_ bytes: [UInt8], splits: [Int]) -> (ChunkScan, [UInt8], consumedTotal: Int) {
    var decoder = ChunkedDecoder()
    var data: [UInt8] = []
    var start = 0
    var consumedTotal = 0
    var result = ChunkScan.needMore
    for end in splits + [bytes.count] where end >= start {
        result = bytes[start..<end].withUnsafeBytes { piece in
            decoder.decode(piece) { data.append(contentsOf: $0) }
        }
        switch result {
        case .needMore: consumedTotal += end - start
        case .done(let consumed): return (result, data, consumedTotal + consumed)
        case .invalid: return (result, data, consumedTotal)
        }
        start = end
    }
    return (result, data, consumedTotal)
}

@Suite("ChunkedDecoder")
struct ChunkedDecoderTests {
    @Test(arguments: validChunkedBodies)
    func decodesInEverySingleAndDoubleSplit(_ body: ValidChunkedBody) {
        let next = "GET / HTTP/1.1\r\n"
        let bytes = Array((body.body + next).utf8)
        let bodyLength = body.body.utf8.count
        var splitSets: [[Int]] = [[]]
        for a in 0...bytes.count {
            splitSets.append([a])
            for b in stride(from: a, through: bytes.count, by: 3) { splitSets.append([a, b]) }
        }
        for splits in splitSets {
            let (result, data, consumed) = decodeInPieces(bytes, splits: splits)
            guard case .done = result else {
                Issue.record("splits \(splits): \(result)")
                continue
            }
            #expect(consumed == bodyLength, "splits \(splits)")
            #expect(data == Array(body.data.utf8), "splits \(splits)")
        }
    }

    @Test(arguments: validChunkedBodies)
    func scanConsumesEveryByteGivenUntilDone(_ body: ValidChunkedBody) {
        let bytes = Array(body.body.utf8)
        var decoder = ChunkedDecoder()
        for (index, byte) in bytes.enumerated() {
            let result = [byte].withUnsafeBytes { decoder.scan($0) }
            #expect(result == (index == bytes.count - 1 ? .done(consumed: 1) : .needMore), "byte \(index)")
        }
        #expect([UInt8(0x41)].withUnsafeBytes { decoder.scan($0) } == .done(consumed: 0))
        decoder.reset()
        #expect(bytes.withUnsafeBytes { decoder.scan($0) } == .done(consumed: bytes.count))
    }

    @Test(arguments: [
        ("", ChunkScan.needMore),
        ("\r\n", .invalid(.invalidChunkSize)),
        (" 5\r\nhello\r\n0\r\n\r\n", .invalid(.invalidChunkSize)),
        ("+5\r\nhello\r\n0\r\n\r\n", .invalid(.invalidChunkSize)),
        ("-5\r\nhello\r\n0\r\n\r\n", .invalid(.invalidChunkSize)),
        ("0x5\r\nhello\r\n0\r\n\r\n", .invalid(.invalidChunkSize)),
        ("5g\r\nhello\r\n0\r\n\r\n", .invalid(.invalidChunkSize)),
        ("5 \r\nhello\r\n0\r\n\r\n", .invalid(.invalidChunkSize)),
        ("1000000000000000\r\n", .invalid(.chunkTooLarge)),
        ("0000000000000005\r\nhello\r\n0\r\n\r\n", .invalid(.chunkTooLarge)),
        ("5\nhello\r\n0\r\n\r\n", .invalid(.invalidChunkTerminator)),
        ("5\rhello\r\n0\r\n\r\n", .invalid(.invalidChunkTerminator)),
        ("5\r\nhelloX\r\n0\r\n\r\n", .invalid(.invalidChunkTerminator)),
        ("5\r\nhello\n0\r\n\r\n", .invalid(.invalidChunkTerminator)),
        ("5\r\nhello\r\r0\r\n\r\n", .invalid(.invalidChunkTerminator)),
        ("5;\r\nhello\r\n0\r\n\r\n", .invalid(.invalidChunkExtension)),
        ("5;a=\r\nhello\r\n0\r\n\r\n", .invalid(.invalidChunkExtension)),
        ("5;a=\"x\r\nhello\r\n0\r\n\r\n", .invalid(.invalidChunkExtension)),
        ("5;a b\r\nhello\r\n0\r\n\r\n", .invalid(.invalidChunkExtension)),
        ("5;a=b c\r\nhello\r\n0\r\n\r\n", .invalid(.invalidChunkExtension)),
        ("0\r\nX : y\r\n\r\n", .invalid(.invalidTrailer)),
        ("0\r\n y\r\n\r\n", .invalid(.invalidTrailer)),
        ("0\r\nX: a\0b\r\n\r\n", .invalid(.invalidTrailer)),
        ("0\r\nX: y\n\r\n", .invalid(.invalidTrailer)),
        ("0\r\nNoColon\r\n\r\n", .invalid(.invalidTrailer)),
        ("0\r\n\rX", .invalid(.invalidTrailer)),
    ])
    func rejectsInvalidFraming(text: String, expected: ChunkScan) {
        var decoder = ChunkedDecoder()
        let result = Array(text.utf8).withUnsafeBytes { decoder.scan($0) }
        #expect(result == expected)
        if case .invalid = expected {
            // A failed decoder stays failed: the connection must be closed, not resynchronised.
            #expect(Array("0\r\n\r\n".utf8).withUnsafeBytes { decoder.scan($0) } == expected)
        }
    }

    @Test func extensionLineIsBoundedAt4KiB() {
        let ok = "1;" + String(repeating: "a", count: 4000) + "\r\nx\r\n0\r\n\r\n"
        let long = "1;" + String(repeating: "a", count: 5000) + "\r\nx\r\n0\r\n\r\n"
        var decoder = ChunkedDecoder()
        #expect(Array(ok.utf8).withUnsafeBytes { decoder.scan($0) } == .done(consumed: ok.utf8.count))
        decoder.reset()
        #expect(Array(long.utf8).withUnsafeBytes { decoder.scan($0) } == .invalid(.invalidChunkExtension))
    }

    @Test func trailersAreBoundedByMaxTrailerBytes() {
        let trailer = "X: " + String(repeating: "t", count: 40) + "\r\n\r\n"
        let body = Array(("0\r\n" + trailer).utf8)
        var fits = ChunkedDecoder(maxTrailerBytes: trailer.utf8.count)
        #expect(body.withUnsafeBytes { fits.scan($0) } == .done(consumed: body.count))
        var tooSmall = ChunkedDecoder(maxTrailerBytes: trailer.utf8.count - 1)
        #expect(body.withUnsafeBytes { tooSmall.scan($0) } == .invalid(.invalidTrailer))
    }

    @Test func largeChunkIsDeliveredInPiecesWithoutBuffering() {
        var decoder = ChunkedDecoder()
        var delivered = 0
        let header = Array("100000\r\n".utf8)  // 1 MiB
        #expect(header.withUnsafeBytes { decoder.decode($0) { _ in } } == .needMore)
        let piece = [UInt8](repeating: 0x61, count: 65536)
        for _ in 0..<16 {
            #expect(piece.withUnsafeBytes { decoder.decode($0) { delivered += $0.count } } == .needMore)
        }
        #expect(delivered == 1 << 20)
        let tail = Array("\r\n0\r\n\r\n".utf8)
        #expect(tail.withUnsafeBytes { decoder.decode($0) { delivered += $0.count } } == .done(consumed: tail.count))
        #expect(delivered == 1 << 20)
    }

    // Regression: issue 10 — request trailers were forwarded verbatim (a trusted field could ride in one).
    @Test(arguments: ["", "X-User-Id: evil\r\n", "Content-Length: 5\r\nHost: x\r\n"])
    func scanUpToTrailersStopsBeforeTheTrailerSectionAtEverySplit(trailers: String) {
        let chunks = "5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\n"
        let body = Array((chunks + trailers + "\r\n").utf8)
        for split in 0...body.count {
            var decoder = ChunkedDecoder()
            var forwarded: [UInt8] = []
            var done = false
            for part in [body[0..<split], body[split...]] where !part.isEmpty {
                let bytes = Array(part)
                let (scan, before) = bytes.withUnsafeBytes { decoder.scanUpToTrailers($0) }
                forwarded += bytes[0..<before]
                if case .done(let consumed) = scan {
                    #expect(consumed == bytes.count, "the body ends with the last byte")
                    done = true
                }
            }
            #expect(done, "split \(split)")
            #expect(forwarded == Array(chunks.utf8), "split \(split): \(String(decoding: forwarded, as: UTF8.self))")
        }
    }
}
