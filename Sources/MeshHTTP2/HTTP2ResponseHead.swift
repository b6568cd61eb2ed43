/// A validated final response head, as `HTTP2ClientConnection` delivers it: the decoded fields (`:status` first)
/// and the parsed status.
public struct HTTP2ResponseHead: Sendable, Equatable {
    /// Every field as received, `:status` included.
    public var fields: HTTP2HeaderList
    /// Index in `fields` of the first regular field.
    public var regularFieldsStart: Int
    /// The `:status` value, 200–599 for a final head (1xx heads are skipped by the client).
    public var status: Int
    /// The `content-length` value, nil when absent.
    public var contentLength: Int?

    /// Whether the response can have no content whatever its fields say: 204 and 304 (RFC 9110 §6.4.1).
    var hasNoContent: Bool { status == 204 || status == 304 }
}

/// The RFC 9113 §8.3.2 response pseudo-header checks, on top of `HTTP2FieldValidator`'s field rules.
enum ResponseValidator {
    /// Validates a response header section (informational or final).
    static func response(_ fields: HTTP2HeaderList) -> Result<HTTP2ResponseHead, HTTP2Malformation> {
        var head = HTTP2ResponseHead(fields: fields, regularFieldsStart: fields.count, status: 0, contentLength: nil)
        var statusIndex = -1
        var regularSeen = false
        for i in 0..<fields.count {
            let name = fields.name(i)
            if let error = HTTP2FieldValidator.checkValue(fields.value(i)) { return .failure(error) }
            if name.first == UInt8(ascii: ":") {
                // §8.3: pseudo-headers come first; §8.3.2: `:status` is the only response pseudo-header, once.
                if regularSeen { return .failure(.pseudoAfterRegular) }
                guard name.elementsEqual(":status".utf8) else { return .failure(.unknownPseudo) }
                guard statusIndex < 0 else { return .failure(.duplicatePseudo) }
                statusIndex = i
            } else {
                if !regularSeen { head.regularFieldsStart = i }
                regularSeen = true
                if let error = HTTP2FieldValidator.checkRegular(name, fields.value(i), contentLength: &head.contentLength) {
                    return .failure(error)
                }
            }
        }
        guard statusIndex >= 0, let status = parseStatus(fields.value(statusIndex)) else {
            return .failure(.invalidStatus)
        }
        head.status = status
        return .success(head)
    }

    /// Three digits, 100–599 (RFC 9110 §15), and not 101: HTTP/2 has no Switching Protocols (§8.6).
    private static func parseStatus(_ value: ArraySlice<UInt8>) -> Int? {
        guard value.count == 3 else { return nil }
        var status = 0
        for byte in value {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            status = status * 10 + Int(byte - 0x30)
        }
        return (100...599).contains(status) && status != 101 ? status : nil
    }
}
