import Glibc

/// A plaintext port in front of a TLS server, for tests whose client speaks raw bytes (`RawClient`): each
/// connection accepted here is relayed over a new TLS connection to `127.0.0.1:target`, verified against `caFile`
/// for `serverName`. The relay is Python's asyncio + `ssl` (an independent TLS client, one thread, memory BIOs);
/// an end of stream is passed on in both directions.
public final class TLSRelay {
    public let port: UInt16
    private let child: ChildProcess
    private let directory: String

    static let script = """
        import asyncio, ssl, sys
        target, ca, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        context = ssl.create_default_context(cafile=ca)
        async def pump(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except Exception:
                pass
            try:
                if writer.can_write_eof():
                    writer.write_eof()
                else:
                    writer.close()
            except Exception:
                pass
        async def handle(client_reader, client_writer):
            try:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", target, ssl=context, server_hostname=name)
            except Exception as error:
                print("relay:", error, file=sys.stderr, flush=True)
                client_writer.close()
                return
            await asyncio.gather(pump(client_reader, writer), pump(reader, client_writer))
            client_writer.close()
            writer.close()
        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            print(server.sockets[0].getsockname()[1], flush=True)
            await server.serve_forever()
        asyncio.run(main())
        """

    /// Starts the relay and waits (bounded) until it listens.
    public init(target: UInt16, caFile: String, serverName: String = "localhost") throws {
        directory = try GatewayProcess.makeTempDirectory()
        child = try ChildProcess(
            path: "/usr/bin/python3", arguments: ["-c", Self.script, "\(target)", caFile, serverName],
            outputPrefix: directory + "/relay")
        let deadline = TestSocket.nowMs() + 10_000
        while true {
            if let port = UInt16(child.stdout.split(separator: "\n").first ?? "") {
                self.port = port
                return
            }
            if TestSocket.nowMs() > deadline || child.poll() {
                _ = child.terminate(signal: SIGKILL)
                throw TestSupportError("the TLS relay did not start: \(child.stderr)")
            }
            usleep(20_000)
        }
    }

    /// The relay's own failures (a TLS connection to the server that could not be made), one per line; asyncio's
    /// own warnings (a task collected while a connection was torn down) are not failures.
    public var errors: String {
        child.stderr.split(separator: "\n").filter { $0.hasPrefix("relay:") }.joined(separator: "\n")
    }

    deinit {
        _ = child.terminate(signal: SIGKILL)
        GatewayProcess.removeDirectory(directory)
    }
}
