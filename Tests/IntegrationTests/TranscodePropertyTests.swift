import Foundation
import Glibc
import MeshTestSupport
import Testing

/// The trust boundary of `grpc_transcode`, as a property over generated requests: for every REST request the
/// gRPC server decodes exactly the message the JSON body and path describe (by `json_format.MessageToDict`,
/// Python's own reading of the protobuf the gateway wrote), the client gets that message back as JSON, and a
/// request that does not describe one (broken JSON, a wrong type, an unknown field) is a 400 that never reaches
/// the server. Bodies are framed with content-length or chunks, written in pieces, sometimes two requests in one
/// write, with gRPC fields a REST client has no business sending.
@Suite struct TranscodePropertyTests {
    struct Case {
        var bytes: [UInt8] = []
        var id = ""
        /// What the server must decode (MessageToDict form), nil when the gateway must refuse the request.
        var expected: NSDictionary?
    }

    static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~")
    static let textPieces = [
        "a", "Z", " ", "\\\"", "\\\\", "/", "\\n", "\\t", "\\u0001", "\\u00e9", "é", "\\ud83d\\ude00", "😀", "{", "}",
        "[", "]", ":", ",", "%", "\\u0000", "grpc-status: 0", "\r",
    ]
    /// What each piece of `textPieces` decodes to.
    static let textValues = [
        "a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\u{1}", "é", "é", "😀", "😀", "{", "}", "[", "]", ":", ",", "%",
        "\u{0}", "grpc-status: 0", nil,
    ]

    static func text(_ rng: inout SplitMix64) -> (json: String, value: String?) {
        var json = "", value: String? = ""
        for _ in 0..<Int(rng.next() % 6) {
            let i = Int(rng.next() % UInt64(textPieces.count))
            json += textPieces[i]
            if let piece = textValues[i] { value? += piece } else { value = nil }
        }
        return (json, value)
    }

    static func generate(_ rng: inout SplitMix64, index: Int) -> Case {
        var c = Case()
        c.id = "i\(index)" + String((0..<Int(rng.next() % 8)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
        let name = text(&rng)
        let price = Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64)
        let tags = (0..<Int(rng.next() % 3)).map { _ in text(&rng) }
        var members = [#""id": "body-id""#]
        let named = rng.next() % 4 != 0
        if named { members.append(#""name": "\#(name.json)""#) }
        members.append(rng.next() % 2 == 0 ? #""priceCents": "\#(price)""# : #""price_cents": \#(price)"#)
        if !tags.isEmpty { members.append(#""tags": [\#(tags.map { "\"\($0.json)\"" }.joined(separator: ", "))]"#) }
        var body = "{" + members.joined(separator: ", ") + "}"
        var valid = (!named || name.value != nil) && tags.allSatisfy { $0.value != nil }
        switch rng.next() % 10 {
        case 0:
            body = String(body.dropLast(1 + Int(rng.next() % 5)))
            valid = false
        case 1:
            body = #"{"name": \#(rng.next() % 100)}"#
            valid = false
        case 2:
            body = #"{"colour": "red"}"#
            valid = false
        default: break
        }
        if valid {
            let dict = NSMutableDictionary()
            dict["id"] = c.id
            if named, let v = name.value, !v.isEmpty { dict["name"] = v }
            if price != 0 { dict["priceCents"] = "\(price)" }
            if !tags.isEmpty { dict["tags"] = tags.map { $0.value! } }
            c.expected = dict
        }
        var head = "POST /echo/\(c.id) HTTP/1.1\r\nHost: shop.test\r\n"
        // Fields that would change how the server reads the call if they got through.
        if rng.next() % 2 == 0 { head += "grpc-encoding: gzip\r\nGrpc-Timeout: 1n\r\n" }
        if rng.next() % 3 == 0 { head += "content-type: application/grpc\r\n" }
        let bytes = Array(body.utf8)
        if rng.next() % 2 == 0 {
            c.bytes = Array((head + "Content-Length: \(bytes.count)\r\n\r\n").utf8) + bytes
        } else {
            c.bytes = Array((head + "Transfer-Encoding: chunked\r\n\r\n").utf8)
            var at = 0
            while at < bytes.count {
                let n = min(bytes.count - at, 1 + Int(rng.next() % 16))
                c.bytes += Array((String(n, radix: 16) + "\r\n").utf8) + bytes[at..<at + n] + Array("\r\n".utf8)
                at += n
            }
            c.bytes += Array("0\r\n\r\n".utf8)
        }
        return c
    }

    static func parse(_ bytes: [UInt8]) -> NSObject? {
        try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? NSObject
    }

    @Test(arguments: [0x7472_616E_7363 as UInt64, 0x6772_7063_3136])
    func theServerDecodesExactlyWhatTheRESTRequestSaid(seed: UInt64) throws {
        let server = try ItemsServer()
        let bed = try TranscodeGatewayTests.bed(server)
        defer { bed.stop() }
        var rng = SplitMix64(state: seed)
        let cases = (0..<60).map { Self.generate(&rng, index: $0) }
        let client = try bed.client()
        var i = 0
        while i < cases.count {
            // Sometimes two requests in one write, and each write cut at a random point.
            let batch = rng.next() % 4 == 0 && i + 1 < cases.count ? [cases[i], cases[i + 1]] : [cases[i]]
            let bytes = batch.flatMap(\.bytes)
            if getenv("TRANSCODE_DEBUG") != nil { print("SEND", String(decoding: bytes, as: UTF8.self).debugDescription) }
            let cut = Int(rng.next() % UInt64(bytes.count))
            try client.send(Array(bytes[..<cut]))
            if rng.next() % 3 == 0 { usleep(2000) }
            try client.send(Array(bytes[cut...]))
            for c in batch {
                let response = try client.readResponse(method: "POST")
                if let expected = c.expected {
                    #expect(response.status == 200, "\(c.id): \(response)")
                    #expect(Self.parse(response.body) == expected, "\(c.id): \(response.bodyText) vs \(expected)")
                } else {
                    #expect(response.status == 400, "\(c.id): \(String(decoding: c.bytes, as: UTF8.self))\n\(response)")
                    #expect(TranscodeGatewayTests.member(response, "error") as? String == "invalid_argument")
                }
            }
            i += batch.count
        }
        let received = server.calls.map { $0["request"] as? NSDictionary }
        let expected = cases.compactMap(\.expected)
        #expect(received.count == expected.count, "\(received.count) calls for \(expected.count) valid requests")
        for (got, want) in zip(received, expected) { #expect(got == want) }
    }
}
