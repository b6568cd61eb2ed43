import MeshHTTP1

/// gRPC as SPEC §10 has the gateway see it: which requests are calls, their deadline, and how the gateway's
/// own errors and the upstream's statuses read. Bytes in, values out; no I/O.
public enum GRPC {
    public static let contentTypeName = Array("content-type".utf8)
    public static let timeoutName = Array("grpc-timeout".utf8)
    static let statusName = Array("grpc-status".utf8)
    public static let messageName = Array("grpc-message".utf8)

    /// `application/grpc` or `application/grpc+<codec>` (also with parameters), ASCII case-insensitive.
    /// gRPC-Web (`application/grpc-web…`) is not a call the gateway translates.
    public static func isCall(contentType value: UnsafeRawBufferPointer) -> Bool {
        let base = "application/grpc"
        guard value.count >= base.utf8.count,
            Bytes.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: value[0..<base.utf8.count]), Array(base.utf8))
        else { return false }
        guard value.count > base.utf8.count else { return true }
        let next = value[base.utf8.count]
        return next == UInt8(ascii: "+") || next == UInt8(ascii: ";") || next == UInt8(ascii: " ")
    }

    /// `grpc-timeout` (gRPC over HTTP/2: 1–8 digits and a unit H, M, S, m, u or n) in milliseconds, rounded
    /// up so a positive timeout never becomes 0; nil when it does not parse (SPEC §10: then it is ignored).
    public static func timeoutMs(_ value: UnsafeRawBufferPointer) -> Int? {
        guard value.count >= 2, value.count <= 9 else { return nil }
        var amount = 0
        for byte in value.dropLast() {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            amount = amount * 10 + Int(byte - UInt8(ascii: "0"))
        }
        switch value[value.count - 1] {
        case UInt8(ascii: "H"): return amount * 3_600_000
        case UInt8(ascii: "M"): return amount * 60_000
        case UInt8(ascii: "S"): return amount * 1000
        case UInt8(ascii: "m"): return amount
        case UInt8(ascii: "u"): return (amount + 999) / 1000
        case UInt8(ascii: "n"): return (amount + 999_999) / 1_000_000
        default: return nil
        }
    }

    /// Writes a `grpc-timeout` value for `ms` milliseconds: at most 8 digits, so very long deadlines are
    /// written in seconds (rounded down: the upstream must not be told it has more time than there is).
    public static func writeTimeout(_ ms: Int, into w: inout HeadWriter) {
        let ms = max(0, ms)
        if ms <= 99_999_999 {
            w.writeDecimal(ms)
            w.write("m")
        } else {
            w.writeDecimal(min(ms / 1000, 99_999_999))
            w.write("S")
        }
    }

    /// A `grpc-status` value: 1–3 digits (the codes are 0…16; larger numbers are kept, not trusted further).
    public static func status(_ value: UnsafeRawBufferPointer) -> Int? {
        guard !value.isEmpty, value.count <= 3 else { return nil }
        var code = 0
        for byte in value {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            code = code * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return code
    }

    /// The `grpc-status` of a response head: present only in a Trailers-Only answer (a gRPC response that
    /// carries messages has it in its trailers).
    public static func status(
        inHead buffer: UnsafeRawBufferPointer, headers: UnsafeMutableBufferPointer<HTTPHeaderField>, count: Int
    ) -> Int? {
        value(named: statusName, inHead: buffer, headers: headers, count: count).flatMap(status)
    }

    /// The first value of the field `name` (lowercase) in a response head.
    public static func value(
        named name: [UInt8], inHead buffer: UnsafeRawBufferPointer, headers: UnsafeMutableBufferPointer<HTTPHeaderField>,
        count: Int
    ) -> UnsafeRawBufferPointer? {
        for i in 0..<count {
            let field = headers[i]
            let fieldName = UnsafeRawBufferPointer(rebasing: buffer[Int(field.nameStart)..<Int(field.nameStart + field.nameLength)])
            guard Bytes.equalsIgnoringCase(fieldName, name) else { continue }
            return UnsafeRawBufferPointer(rebasing: buffer[Int(field.valueStart)..<Int(field.valueStart + field.valueLength)])
        }
        return nil
    }

    /// The `grpc-status` among trailer field lines (`name: value\r\n`…, as a chunked body's trailer section
    /// carries them); nil when there is none.
    public static func status(inTrailerSection bytes: [UInt8]) -> Int? {
        value(named: statusName, inTrailerSection: bytes).flatMap { v in v.withUnsafeBytes { status($0) } }
    }

    /// The value (without surrounding blanks) of the first trailer field line named `name` (lowercase).
    public static func value(named name: [UInt8], inTrailerSection bytes: [UInt8]) -> [UInt8]? {
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let found: [UInt8]? = bytes.withUnsafeBytes { all in
                var line = UnsafeRawBufferPointer(rebasing: all[lineStart..<lineEnd])
                if line.last == 0x0D { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
                guard let colon = line.firstIndex(of: UInt8(ascii: ":")),
                    Bytes.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: line[..<colon]), name)
                else { return nil }
                var value = UnsafeRawBufferPointer(rebasing: line[(colon + 1)...])
                while let first = value.first, first == 0x20 || first == 0x09 {
                    value = UnsafeRawBufferPointer(rebasing: value.dropFirst())
                }
                while let last = value.last, last == 0x20 || last == 0x09 {
                    value = UnsafeRawBufferPointer(rebasing: value.dropLast())
                }
                return Array(value)
            }
            if let found { return found }
            lineStart = lineEnd + 1
        }
        return nil
    }
}

extension GatewayError {
    /// The `grpc-status` a gRPC caller gets for this error (SPEC §10's table).
    public var grpcStatus: Int {
        switch self {
        case .unauthorized: 16
        case .forbidden: 7
        case .noRoute: 12
        case .rateLimited: 8
        case .badGateway, .unavailable: 14
        case .gatewayTimeout: 4
        case .badRequest, .payloadTooLarge, .uriTooLong, .headersTooLarge: 3
        case .grpcNeedsH2Upstream: 13
        case .requestTimeout, .httpsRequired: 2
        }
    }

    /// Writes the error as a gRPC Trailers-Only response (SPEC §10): HTTP 200, `content-type:
    /// application/grpc`, `grpc-status` and `grpc-message` (the `error` code), no body. Through the HTTP/2
    /// bridge the empty body makes it one HEADERS frame that ends the stream, which is what Trailers-Only is.
    public func writeGRPCResponse(
        into writer: inout HeadWriter, requestID: String, persistence: ResponseHeadBuilder.Persistence
    ) {
        writer.write("HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ngrpc-status: ")
        writer.writeDecimal(grpcStatus)
        writer.write("\r\ngrpc-message: ")
        writer.write(code)
        writer.write("\r\ncontent-length: 0\r\nx-request-id: ")
        writer.write(string: requestID)
        writer.write("\r\n")
        ResponseHeadBuilder.writePersistence(persistence, into: &writer)
    }
}
