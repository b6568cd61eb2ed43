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
}
