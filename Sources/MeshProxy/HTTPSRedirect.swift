/// SPEC §9 `redirect_to_https`: the `location` of the 308 that sends a plaintext request to the same host and
/// target over HTTPS.
public enum HTTPSRedirect {
    /// `https://host[:port]/path?query`, or nil when the request's host is not a plain name or address literal
    /// (it is copied into a response field: anything else is answered 400). `port` 443 is left out.
    public static func location(_ view: RequestView, port: Int) -> String? {
        let host = Bytes.hostWithoutPort(view.authority)
        let bracketed = host.first == UInt8(ascii: "[")
        let plain = host.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"):
                true
            case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: ":"): bracketed
            default: false
            }
        }
        guard !host.isEmpty, plain else { return nil }
        var location = "https://" + String(decoding: host, as: UTF8.self)
        if port != 443 { location += ":\(port)" }
        return location + String(decoding: view.rawPath, as: UTF8.self) + String(decoding: view.query, as: UTF8.self)
    }
}
