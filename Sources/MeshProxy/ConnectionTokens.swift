import MeshHTTP1

/// The field names a `Connection` header lists are hop-by-hop too (RFC 9110 §7.6.1).
enum ConnectionTokens {
    /// Whether `name` is listed in any `Connection` field of the message.
    static func names(_ name: UnsafeRawBufferPointer, in request: RequestView) -> Bool {
        for i in 0..<request.head.headerCount where request.headers[i].known == .connection {
            if contains(request.value(i), name) { return true }
        }
        return false
    }

    static func names(
        _ name: UnsafeRawBufferPointer, buffer: UnsafeRawBufferPointer,
        headers: UnsafeMutableBufferPointer<HTTPHeaderField>, count: Int
    ) -> Bool {
        for i in 0..<count where headers[i].known == .connection {
            let f = headers[i]
            if contains(UnsafeRawBufferPointer(rebasing: buffer[Int(f.valueStart)..<Int(f.valueStart + f.valueLength)]), name) {
                return true
            }
        }
        return false
    }

    /// Whether the comma-separated token list `list` contains `token`, ignoring case and OWS.
    static func contains(_ list: UnsafeRawBufferPointer, _ token: UnsafeRawBufferPointer) -> Bool {
        var start = 0
        while start < list.count {
            var end = start
            while end < list.count && list[end] != UInt8(ascii: ",") { end += 1 }
            var a = start
            var b = end
            while a < b && (list[a] == 0x20 || list[a] == 0x09) { a += 1 }
            while b > a && (list[b - 1] == 0x20 || list[b - 1] == 0x09) { b -= 1 }
            if b - a == token.count {
                var same = true
                for k in 0..<token.count where Bytes.lower(list[a + k]) != Bytes.lower(token[k]) {
                    same = false
                    break
                }
                if same { return true }
            }
            start = end + 1
        }
        return false
    }
}
