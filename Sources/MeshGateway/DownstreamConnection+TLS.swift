import MeshControl
import MeshEventLoop
import MeshPosix
import MeshProxy
import MeshTLS

/// The TLS side of reading a client: the handshake's outcome is counted once per connection (SPEC §9), and its
/// end starts the header timeout.
extension DownstreamConnection {
    /// SPEC §9 `redirect_to_https`: a 308 to the same host and target over HTTPS. The host is copied into
    /// `location`, so only a plain name or address literal is accepted (anything else is a 400).
    func redirectToHTTPS(_ view: RequestView, port: Int) {
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
        guard !host.isEmpty, plain else {
            respond(.badRequest, close: true)
            return
        }
        var location = "location: https://" + String(decoding: host, as: UTF8.self)
        if port != 443 { location += ":\(port)" }
        location += String(decoding: view.rawPath, as: UTF8.self) + String(decoding: view.query, as: UTF8.self)
        respond(.httpsRequired, close: !exchange.machine.request.done, extraHeader: location)
    }
}
