import Glibc

extension TestUpstream {
    /// What the connection does after an answer.
    enum Next {
        case keepAlive
        case close
        case didReset
    }

    /// Sends the response `behavior` asks for.
    func answer(_ request: ReceivedRequest, fd: Int32, reader: ByteReader) throws -> Next {
        try answer(request, as: behavior, fd: fd, reader: reader)
    }

    private func answer(_ request: ReceivedRequest, as behavior: UpstreamBehavior, fd: Int32, reader: ByteReader)
        throws -> Next
    {
        switch behavior {
        case .byTarget(let pick):
            return try answer(request, as: pick(request.target), fd: fd, reader: reader)
        case .fixed(let reply):
            try TestSocket.writeAll(fd, reply.bytes(method: request.method))
        case .echo:
            let body = request.head.raw + request.body
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Upstream-Connection: \(request.connection)\r\n"
                + "X-Body-Bytes: \(request.bodyCount)\r\nContent-Length: \(body.count)\r\n\r\n"
            try TestSocket.writeAll(fd, Array(head.utf8) + (request.method == "HEAD" ? [] : body))
        case .upgrade:
            let head = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
            try TestSocket.writeAll(fd, Array(head.utf8))
            while true {
                let bytes = try reader.readAvailable()
                if bytes.isEmpty { return .close }
                try TestSocket.writeAll(fd, bytes)
            }
        case .neverAnswer:
            while try !reader.readAvailable().isEmpty {}
            return .close
        case .stall(let partial):
            try TestSocket.writeAll(fd, partial)
            while try !reader.readAvailable().isEmpty {}
            return .close
        case .slow(let delayMs, let reply):
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, Int32(delayMs)) != 0 { return .close }
            try TestSocket.writeAll(fd, reply.bytes(method: request.method))
        case .reset(let partial):
            try TestSocket.writeAll(fd, partial)
            TestSocket.reset(fd)
            return .didReset
        case .failThenSucceed(let failures):
            try TestSocket.writeAll(fd, nextFailOrSuccess(failures).bytes(method: request.method))
        case .closeDelimited(let body):
            try TestSocket.writeAll(fd, Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n".utf8) + body)
            return .close
        case .raw(let bytes):
            try TestSocket.writeAll(fd, bytes)
            return .close
        case .rawKeepAlive(let bytes):
            try TestSocket.writeAll(fd, bytes)
        case .stream(let bytes, let chunked):
            try stream(bytes: bytes, chunked: chunked, fd: fd, method: request.method)
        }
        return .keepAlive
    }

    private func nextFailOrSuccess(_ failures: Int) -> UpstreamReply {
        let served = countAnswer()
        return served < failures
            ? UpstreamReply(status: 503, headers: [("Content-Type", "text/plain")], body: "try again")
            : UpstreamReply(status: 200, headers: [("Content-Type", "text/plain")], body: "ok")
    }

    private func stream(bytes: Int, chunked: Bool, fd: Int32, method: String) throws {
        let framing = chunked ? "Transfer-Encoding: chunked" : "Content-Length: \(bytes)"
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\(framing)\r\n\r\n"
        try TestSocket.writeAll(fd, Array(head.utf8))
        if method == "HEAD" { return }
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: PatternBody.blockSize, alignment: 16)
        defer { block.deallocate() }
        var sent = 0
        while sent < bytes {
            let n = min(PatternBody.blockSize, bytes - sent)
            let span = UnsafeMutableRawBufferPointer(rebasing: block[0..<n])
            PatternBody.fill(span, offset: sent)
            if chunked { try TestSocket.writeAll(fd, Array("\(String(n, radix: 16))\r\n".utf8)) }
            try TestSocket.writeAll(fd, UnsafeRawBufferPointer(span))
            if chunked { try TestSocket.writeAll(fd, [13, 10]) }
            sent += n
        }
        if chunked { try TestSocket.writeAll(fd, Array("0\r\n\r\n".utf8)) }
    }
}
