// libFuzzer entry point for the MeshHTTP1 codec (built by scripts/fuzz.sh). Every check below is an invariant
// that must hold for ANY input; a violation traps, and libFuzzer saves the input as a crash artifact.

@testable import MeshHTTP1

/// Where the fuzzer input is cut when it is fed in pieces: split points derived from the input itself.
private func splitPoints(_ data: UnsafeRawBufferPointer) -> [Int] {
    guard data.count > 1 else { return [] }
    var points: [Int] = []
    var seed = UInt64(data.count) &* 0x9E37_79B9_7F4A_7C15
    for k in 0..<min(data.count, 16) {
        seed = (seed ^ UInt64(data[k])) &* 0x1000_0000_01B3
        points.append(Int(seed % UInt64(data.count)))
    }
    return points.sorted()
}

/// Runs `body` on a heap copy of `bytes` of exactly its size, so AddressSanitizer traps a read past the piece
/// (a slice of the fuzzer's input would hide one: the bytes after it are still valid memory).
private func withExactCopy<R>(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
    defer { copy.deallocate() }
    if !bytes.isEmpty { copy.copyMemory(from: bytes) }
    return body(UnsafeRawBufferPointer(rebasing: copy[0..<bytes.count]))
}

private func checkFields(_ headers: UnsafeMutableBufferPointer<HTTPHeaderField>, count: Int, headLength: Int) {
    check(count <= headers.count, "header count within the array")
    for k in 0..<count {
        let f = headers[k]
        check(f.nameLength > 0 && f.nameStart >= 0, "non-empty name")
        check(Int(f.nameStart + f.nameLength) <= headLength, "name inside head")
        check(
            f.valueStart >= f.nameStart + f.nameLength && Int(f.valueStart + f.valueLength) <= headLength,
            "value inside head")
    }
}

private func fuzzRequest(_ data: UnsafeRawBufferPointer, _ headers: UnsafeMutableBufferPointer<HTTPHeaderField>) {
    let limits = HTTPLimits(maxHeaderBytes: 4096, maxHeaderCount: 32, maxURIBytes: 512)
    var oneShot = RequestParser(limits: limits)
    let whole = oneShot.parse(data, headers: headers)
    var resumed = RequestParser(limits: limits)
    var pieces: HeadParseResult<RequestHead> = .incomplete
    for end in splitPoints(data) + [data.count] where end > 0 {
        pieces = withExactCopy(UnsafeRawBufferPointer(rebasing: data[0..<end])) {
            resumed.parse($0, headers: headers)
        }
        if case .incomplete = pieces { continue }
        break
    }
    switch (whole, pieces) {
    case (.complete(let a), .complete(let b)):
        check(a == b, "resumed parse equals one-shot parse")
        check(a.headLength <= data.count && a.headLength <= limits.maxHeaderBytes, "head within input and limit")
        check(Int(a.targetStart + a.targetLength) <= a.headLength, "target inside head")
        check(Int(a.targetLength) <= limits.maxURIBytes, "target within limit")
        check(Int(a.pathStart + a.pathLength) <= Int(a.targetStart + a.targetLength), "path inside target")
        check(Int(a.queryStart + a.queryLength) <= a.headLength, "query inside head")
        check(a.framing != .untilClose, "requests are never close-delimited")
        checkFields(headers, count: a.headerCount, headLength: a.headLength)
        if a.pathLength > 0 {
            fuzzPath(UnsafeRawBufferPointer(rebasing: data[Int(a.pathStart)..<Int(a.pathStart + a.pathLength)]))
        }
    case (.invalid, .invalid), (.incomplete, .incomplete):
        break
    default:
        fatalError("resumed parse and one-shot parse disagree: \(whole) vs \(pieces)")
    }
}

private func fuzzResponse(_ data: UnsafeRawBufferPointer, _ headers: UnsafeMutableBufferPointer<HTTPHeaderField>) {
    for method in [HTTPMethod.get, .head, .post, .connect] {
        var parser = ResponseParser(limits: HTTPLimits(maxHeaderBytes: 4096, maxHeaderCount: 32))
        if case .complete(let head) = parser.parse(data, headers: headers, requestMethod: method) {
            check(head.headLength <= data.count, "head within input")
            check((100...599).contains(head.status), "status in range")
            check(Int(head.reasonStart + head.reasonLength) <= head.headLength, "reason inside head")
            check(head.framing != .untilClose || !head.keepAlive, "close-delimited is never keep-alive")
            checkFields(headers, count: head.headerCount, headLength: head.headLength)
        }
    }
}

private func fuzzChunked(_ data: UnsafeRawBufferPointer) {
    var whole = ChunkedDecoder(maxTrailerBytes: 256)
    var wholeData = 0
    let a = whole.decode(data) { wholeData += $0.count }
    if case .done(let consumed) = a { check(consumed <= data.count, "consumed within input") }
    var split = ChunkedDecoder(maxTrailerBytes: 256)
    var splitData = 0
    var consumedTotal = 0
    var start = 0
    var b = ChunkScan.needMore
    for end in splitPoints(data) + [data.count] where end >= start {
        b = withExactCopy(UnsafeRawBufferPointer(rebasing: data[start..<end])) { piece in
            split.decode(piece) { splitData += $0.count }
        }
        if case .done(let consumed) = b {
            check(consumed <= end - start, "consumed within piece")
            consumedTotal += consumed
            break
        }
        if case .invalid = b { break }
        consumedTotal += end - start
        start = end
    }
    switch (a, b) {
    case (.done(let consumed), .done):
        check(consumed == consumedTotal && wholeData == splitData, "split decode equals whole decode")
    case (.invalid(let e1), .invalid(let e2)):
        check(e1 == e2, "same error whatever the split")
    case (.needMore, .needMore):
        check(wholeData == splitData, "same data delivered")
    default:
        fatalError("split decode and whole decode disagree: \(a) vs \(b)")
    }
}

private func fuzzPath(_ path: UnsafeRawBufferPointer) {
    var out = [UInt8](repeating: 0, count: max(path.count, 1))
    var again = out
    out.withUnsafeMutableBytes { outBytes in
        guard case .normalized(let length) = PathNormalizer.normalize(path, into: outBytes) else { return }
        check(length >= 1 && length <= max(path.count, 1) && outBytes[0] == 0x2F, "normalized path shape")
        // Normalisation is idempotent: a normalized path has no dot-segments and no decodable escapes left.
        let second = again.withUnsafeMutableBytes {
            PathNormalizer.normalize(UnsafeRawBufferPointer(rebasing: outBytes[0..<length]), into: $0)
        }
        check(second == .normalized(length: length), "idempotent length")
        check(again[0..<length].elementsEqual(outBytes[0..<length]), "idempotent bytes")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let data = UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : count)
    var storage = [HTTPHeaderField](repeating: .empty, count: 32)
    storage.withUnsafeMutableBufferPointer { headers in
        fuzzRequest(data, headers)
        fuzzResponse(data, headers)
    }
    fuzzChunked(data)
    fuzzPath(data)
    return 0
}
