import Foundation
import Glibc
import MeshTestSupport
import Testing

/// SPEC §10's abuse budgets through the real gateway (the published h2 CVEs): each attack, sent as raw frames by
/// a small Python client, ends its own connection with GOAWAY ENHANCE_YOUR_CALM (or is contained), while
/// another client on another connection keeps getting answers.
@Suite struct HTTP2AbuseTests {
    /// Raw HTTP/2 frames; prints the GOAWAY error code the gateway sent (or `none` when it closed without one).
    static let attacker = #"""
        import socket, struct, sys, time
        port, attack = int(sys.argv[1]), sys.argv[2]
        def frame(kind, flags, stream, payload=b""):
            return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload
        HEAD = bytes([0x82, 0x86, 0x84, 0x41, 9]) + b"localhost"   # GET http / localhost (HPACK)
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(10)
        out = [b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", frame(4, 0, 0)]
        if attack == "rapid-reset":
            for i in range(300):
                sid = 2 * i + 1
                out.append(frame(1, 0x4, sid, HEAD))                      # HEADERS, END_HEADERS (body follows)
                out.append(frame(3, 0, sid, struct.pack(">I", 8)))        # RST_STREAM CANCEL
        elif attack == "ping-flood":
            out += [frame(6, 0, 0, b"12345678") for _ in range(3000)]
        elif attack == "settings-flood":
            out += [frame(4, 0, 0) for _ in range(3000)]
        elif attack == "empty-data-flood":
            out.append(frame(1, 0x4, 1, HEAD))
            out += [frame(0, 0, 1) for _ in range(3000)]
        elif attack == "continuation-flood":
            out.append(frame(1, 0, 1, HEAD))                              # HEADERS without END_HEADERS
            junk = bytes([0x40, 10]) + b"x-junk-aaa" + bytes([0x7f, 0x81, 0x7f]) + b"v" * 254
            out += [frame(9, 0, 1, junk) for _ in range(2000)]
        data = b"".join(out)
        try:
            s.sendall(data)
        except OSError:
            pass
        code, buf, deadline = "none", b"", time.time() + 10
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 9:
                length = int.from_bytes(buf[0:3], "big")
                if len(buf) < 9 + length:
                    break
                kind, payload = buf[3], buf[9:9 + length]
                buf = buf[9 + length:]
                if kind == 7:
                    code = str(int.from_bytes(payload[4:8], "big"))
        print(code)
        """#

    static func attack(_ bed: Testbed, _ name: String) throws -> String {
        let directory = try GatewayProcess.makeTempDirectory()
        try ChildProcess.writeFile(directory + "/attack.py", attacker)
        let result = try Tool.run(
            "/usr/bin/env", ["python3", directory + "/attack.py", "\(bed.ports.listener)", name], timeoutMs: 30_000)
        #expect(result.termination == .exited(0), "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(arguments: ["rapid-reset", "ping-flood", "settings-flood", "empty-data-flood", "continuation-flood"])
    func anAttackEndsItsConnectionAndOthersAreServed(attack: String) throws {
        let bed = try HTTP2GatewayTests.bed()
        defer { bed.stop() }
        // ENHANCE_YOUR_CALM is 0xb (RFC 9113 §7).
        #expect(try Self.attack(bed, attack) == "11", "\(attack)")
        let other = try Tool.curl(["--http2-prior-knowledge", "-i", "http://127.0.0.1:\(bed.ports.listener)/ok"])
        #expect(other.stdout.hasPrefix("HTTP/2 200"), "\(attack): \(other.stdout) \(other.stderr)")
        #expect(bed.gateway.isRunning)
    }

    /// Opens a stream with SETTINGS_INITIAL_WINDOW_SIZE 0 and never grants window; prints the stream's fate:
    /// `rst <code>` when the gateway reset it, `goaway <code>` when it ended the connection, else `none`.
    static let staller = #"""
        import socket, struct, sys, time
        port = int(sys.argv[1])
        def frame(kind, flags, stream, payload=b""):
            return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload
        HEAD = bytes([0x82, 0x86, 0x84, 0x41, 9]) + b"localhost"
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(10)
        settings = struct.pack(">HI", 4, 0)                                  # INITIAL_WINDOW_SIZE = 0
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, settings) + frame(1, 0x5, 1, HEAD))
        fate, buf, data, deadline = "none", b"", 0, time.time() + 10
        while time.time() < deadline and fate == "none":
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 9:
                length = int.from_bytes(buf[0:3], "big")
                if len(buf) < 9 + length:
                    break
                kind, flags, payload = buf[3], buf[4], buf[9:9 + length]
                stream = int.from_bytes(buf[5:9], "big") & 0x7fffffff
                buf = buf[9 + length:]
                if kind == 4 and not flags & 1:
                    s.sendall(frame(4, 1, 0))                                # SETTINGS ACK
                if kind == 0:
                    data += length
                if kind == 3 and stream == 1:
                    fate = "rst %d" % int.from_bytes(payload[0:4], "big")
                if kind == 7:
                    fate = "goaway %d" % int.from_bytes(payload[4:8], "big")
        print(fate, data)
        """#

    /// SPEC §10: a stream whose peer keeps its window at 0 is reset (CANCEL) after `idle_timeout_ms` without
    /// progress; no DATA was sent beyond the window (0), and other clients are served meanwhile.
    @Test func aStreamStalledAtAZeroWindowIsCancelled() throws {
        let big = String(repeating: "x", count: 200_000)
        let bed = try Testbed(upstreams: ["app": .fixed(UpstreamReply(status: 200, headers: [], body: big))]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin, routes: [TestConfig.route("/", to: "app")],
                upstreams: ["app": TestConfig.upstream([ports["app"]])], limits: #"{ "idle_timeout_ms": 400 }"#)
        }
        defer { bed.stop() }
        let directory = try GatewayProcess.makeTempDirectory()
        try ChildProcess.writeFile(directory + "/stall.py", Self.staller)
        let staller = try ChildProcess(
            path: "/usr/bin/env", arguments: ["python3", directory + "/stall.py", "\(bed.ports.listener)"],
            outputPrefix: directory + "/stall")
        let other = try Tool.curl(["--http2-prior-knowledge", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                   "http://127.0.0.1:\(bed.ports.listener)/ok"])
        #expect(other.stdout == "200", "\(other.stdout) \(other.stderr)")
        let termination = staller.wait(timeoutMs: 30_000) ?? staller.terminate(signal: SIGKILL)
        #expect(termination == .exited(0), "\(staller.stderr)")
        // CANCEL is 0x8 (RFC 9113 §7); no DATA octet fits a zero window.
        let fate = staller.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(fate == "rst 8 0", "\(fate) \(staller.stderr)")
        #expect(bed.gateway.isRunning)
    }

    /// `limits.h2` is what the gateway advertises in its SETTINGS, and a stream over `max_concurrent_streams` is
    /// refused (SPEC §10).
    @Test func configuredH2LimitsAreAdvertisedAndEnforced() throws {
        let bed = try Testbed(upstreams: ["app": .fixed(UpstreamReply(status: 200, headers: [], body: "ok"))]) { ports in
            TestConfig.document(
                port: ports.listener, adminPort: ports.admin, routes: [TestConfig.route("/", to: "app")],
                upstreams: ["app": TestConfig.upstream([ports["app"]])],
                limits: #"{ "h2": { "max_concurrent_streams": 2, "initial_window_bytes": 131072, "max_frame_bytes": 32768 } }"#)
        }
        defer { bed.stop() }
        // Three streams left open (HEADERS without END_STREAM): the third is over the limit of 2.
        let open = (1...3).map { i in
            HTTP2FrameClient.Step.send(H2Wire.headersFrame(UInt32(2 * i - 1), H2Wire.block(H2Wire.request(path: "/x\(i)")), endStream: false))
        }
        let transcript = try #require(
            try HTTP2FrameClient.run(
                port: bed.ports.listener,
                scripts: [.init([.send(H2Wire.handshake()), .awaitSettingsAck] + open + [.sleep(300)])]
            ).first)
        let settings = try #require(transcript.events.first { $0.type == "settings" && !$0.ack }, "\(transcript)")
        let values = Dictionary(settings.values, uniquingKeysWith: { $1 })
        #expect(values[H2Wire.Setting.maxConcurrentStreams] == 2, "\(transcript)")
        #expect(values[H2Wire.Setting.initialWindowSize] == 131072, "\(transcript)")
        #expect(values[H2Wire.Setting.maxFrameSize] == 32768, "\(transcript)")
        #expect(transcript.resets(5).map(\.code) == [H2Wire.Code.refusedStream], "\(transcript)")
        #expect(transcript.resets(1).isEmpty && transcript.resets(3).isEmpty, "\(transcript)")
    }
}
