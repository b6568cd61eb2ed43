import MeshHTTP1

/// Turns a parsed head (offsets into the connection's buffer) into an owned `Request`.
enum RequestBuilder {
    static func request(
        _ head: RequestHead,
        buffer: UnsafeRawBufferPointer,
        fields: UnsafeMutableBufferPointer<HTTPHeaderField>
    ) -> Request {
        func text(_ start: Int32, _ length: Int32) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: buffer[Int(start)..<Int(start + length)]), as: UTF8.self)
        }
        let method = text(0, head.methodLength)
        let path = head.pathLength > 0 ? text(head.pathStart, head.pathLength) : "/"
        var query: [(name: String, value: String)] = []
        if head.queryLength > 1 {
            query = Request.parseQuery(Substring(text(head.queryStart + 1, head.queryLength - 1)))
        }
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(head.headerCount)
        for i in 0..<head.headerCount {
            let field = fields[i]
            let name = String(decoding: field.name(in: buffer), as: UTF8.self).lowercased()
            headers.append((name, String(decoding: field.value(in: buffer), as: UTF8.self)))
        }
        return Request(method: method, path: path, query: query, headers: headers)
    }
}
