import Testing

@testable import MeshHTTP2

/// A malformed request (RFC 9113 §8.1.1): its fields and the reason the machine must give.
struct MalformedCase: CustomTestStringConvertible, Sendable {
    var name: String
    var fields: [(String, String)]
    var reason: HTTP2Malformation
    var endStream = true
    var testDescription: String { name }
}

private let get = Wire.get
private let malformedCases: [MalformedCase] = [
    MalformedCase(name: "§8.2.1 uppercase field name", fields: get + [("Accept", "*/*")], reason: .uppercaseName),
    MalformedCase(name: "§8.2.1 name with a space", fields: get + [("x y", "1")], reason: .invalidName),
    MalformedCase(name: "§8.2.1 value with CR", fields: get + [("x", "a\rb")], reason: .invalidValue),
    MalformedCase(name: "§8.2.1 value with NUL", fields: get + [("x", "a\0b")], reason: .invalidValue),
    MalformedCase(name: "§8.2.1 value with leading space", fields: get + [("x", " a")], reason: .invalidValue),
    MalformedCase(name: "§8.2.1 value with trailing tab", fields: get + [("x", "a\t")], reason: .invalidValue),
    MalformedCase(name: "§8.2.2 connection", fields: get + [("connection", "close")], reason: .connectionSpecificField),
    MalformedCase(name: "§8.2.2 keep-alive", fields: get + [("keep-alive", "5")], reason: .connectionSpecificField),
    MalformedCase(
        name: "§8.2.2 proxy-connection", fields: get + [("proxy-connection", "x")], reason: .connectionSpecificField),
    MalformedCase(
        name: "§8.2.2 transfer-encoding", fields: get + [("transfer-encoding", "chunked")],
        reason: .connectionSpecificField),
    MalformedCase(name: "§8.2.2 upgrade", fields: get + [("upgrade", "h2c")], reason: .connectionSpecificField),
    MalformedCase(name: "§8.2.2 te other than trailers", fields: get + [("te", "gzip")], reason: .invalidTE),
    MalformedCase(
        name: "§8.3 pseudo-header after a regular field", fields: [("accept", "*/*")] + get,
        reason: .pseudoAfterRegular),
    MalformedCase(name: "§8.3 response pseudo-header :status", fields: get + [(":status", "200")], reason: .unknownPseudo),
    MalformedCase(name: "§8.3 :protocol without extended CONNECT", fields: [(":protocol", "websocket")] + get,
        reason: .unknownPseudo),
    MalformedCase(name: "§8.3.1 duplicate :path", fields: get + [(":path", "/x")], reason: .duplicatePseudo),
    MalformedCase(name: "§8.3.1 missing :method", fields: Array(get.dropFirst()), reason: .invalidMethod),
    MalformedCase(name: "§8.3.1 missing :scheme", fields: [get[0], get[2], get[3]], reason: .missingScheme),
    MalformedCase(name: "§8.3.1 missing :path", fields: [get[0], get[1], get[3]], reason: .invalidPath),
    MalformedCase(
        name: "§8.3.1 empty :path", fields: [get[0], get[1], (":path", ""), get[3]], reason: .invalidPath),
    MalformedCase(
        name: "§8.3.1 :path not starting with / for https", fields: [get[0], get[1], (":path", "x"), get[3]],
        reason: .invalidPath),
    MalformedCase(
        name: "§8.5 CONNECT with :path", fields: [(":method", "CONNECT"), (":authority", "a:443"), (":path", "/")],
        reason: .invalidConnect),
    MalformedCase(name: "§8.5 CONNECT without :authority", fields: [(":method", "CONNECT")], reason: .invalidConnect),
    MalformedCase(
        name: "§8.1.1 content-length with END_STREAM and no body", fields: get + [("content-length", "3")],
        reason: .contentLengthMismatch),
    MalformedCase(
        name: "content-length not digits", fields: get + [("content-length", "3x")], reason: .invalidContentLength),
    MalformedCase(
        name: "two different content-lengths", fields: get + [("content-length", "3"), ("content-length", "4")],
        reason: .invalidContentLength, endStream: false),
]

@Test("malformed requests get RST_STREAM PROTOCOL_ERROR, never reach the caller, and the connection goes on",
    arguments: malformedCases)
func malformedRequest(_ test: MalformedCase) {
    var connection = connected()
    let events = connection.feed(Wire.headers(1, block: Wire.block(test.fields), endStream: test.endStream), now: 0)
    #expect(events == [.malformedRequest(streamID: 1, test.reason)])
    let sent = resets(connection.takeOutbound())
    #expect(sent.count == 1 && sent[0].0 == 1 && sent[0].1 == .protocolError)
    #expect(requests(connection.feed(Wire.headers(3, block: Wire.block(Wire.get)), now: 0)) == [3])
}

@Test("valid edge cases are accepted: te: trailers, OPTIONS *, CONNECT, no :authority, equal content-lengths")
func validEdgeCases() {
    let cases: [[(String, String)]] = [
        get + [("te", "Trailers")],
        [(":method", "OPTIONS"), (":scheme", "https"), (":path", "*"), (":authority", "a")],
        [(":method", "CONNECT"), (":authority", "db:5432")],
        [(":method", "GET"), (":scheme", "https"), (":path", "/"), ("host", "a")],
        get + [("content-length", "0"), ("content-length", "0")],
        get + [("x-empty", "")],
    ]
    for fields in cases {
        var connection = connected()
        #expect(requests(connection.feed(Wire.headers(1, block: Wire.block(fields)), now: 0)) == [1], "\(fields)")
    }
}

@Test("§8.1 malformed trailers: pseudo-header, or no END_STREAM, fail the delivered stream")
func malformedTrailers() {
    let cases: [([UInt8], HTTP2Malformation)] = [
        (Wire.headers(1, block: Wire.block([(":path", "/")]), endStream: true), .pseudoInTrailers),
        (Wire.headers(1, block: Wire.block([("x", "1")]), endStream: false), .trailersWithoutEndStream),
        (Wire.headers(1, block: Wire.block([("connection", "x")]), endStream: true), .connectionSpecificField),
    ]
    for (trailers, reason) in cases {
        var connection = connected()
        _ = connection.feed(Wire.headers(1, block: Wire.block(Wire.post), endStream: false), now: 0)
        let events = connection.feed(trailers, now: 0)
        #expect(events == [.streamFailed(streamID: 1, code: .protocolError, reason: reason)])
        #expect(resets(connection.takeOutbound()).map(\.1) == [.protocolError])
    }
}

@Test("§8.1.1 DATA beyond content-length, or short of it at END_STREAM, fails the stream")
func contentLengthMismatch() {
    for body in [Wire.data(1, [1, 2, 3, 4]), Wire.data(1, [1, 2], endStream: true)] {
        var connection = connected()
        let head = Wire.headers(1, block: Wire.block(Wire.post + [("content-length", "3")]), endStream: false)
        let events = connection.feed(head + body, now: 0)
        #expect(events.count == 2)
        #expect(events.last == .streamFailed(streamID: 1, code: .protocolError, reason: .contentLengthMismatch))
    }
}

@Test("§5.3.1 HEADERS depending on itself resets the stream after the block was decoded")
func selfDependentHeaders() {
    var connection = connected()
    let block = [0, 0, 0, 1, 16] + Wire.block(Wire.get)
    let events = connection.feed(Wire.frame(0x1, 0x25, stream: 1, block), now: 0)
    #expect(events.isEmpty)
    #expect(resets(connection.takeOutbound()).map(\.1) == [.protocolError])
    #expect(requests(connection.feed(Wire.headers(3, block: Wire.block(Wire.get)), now: 0)) == [3])
}

@Test("the tchar set (RFC 9110 §5.6.2) as a bitmap agrees with the grammar on every octet")
func tokenByteBitmap() {
    let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
    for byte in UInt8.min...UInt8.max {
        #expect(HTTP2FieldValidator.isTokenByte(byte) == tchar.contains(byte), "\(byte)")
        #expect(HTTP2FieldValidator.isLowercaseTokenByte(byte) == (tchar.contains(byte) && !(65...90).contains(byte)), "\(byte)")
    }
}
