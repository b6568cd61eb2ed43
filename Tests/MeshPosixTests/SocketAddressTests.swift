import Glibc
import MeshPosix
import Testing

@Suite struct SocketAddressTests {
    @Test func resolvesAnIPv4Literal() throws {
        let addresses = try SocketAddress.resolve(host: "127.0.0.1", port: 8080)
        #expect(addresses.count == 1)
        let address = try #require(addresses.first)
        #expect(address.family == AF_INET)
        #expect(address.port == 8080)
        #expect(address.ipString == "127.0.0.1")
        #expect(address.description == "127.0.0.1:8080")
        #expect(address.length == socklen_t(MemoryLayout<sockaddr_in>.size))
    }

    @Test func resolvesAnIPv6Literal() throws {
        let address = try #require(try SocketAddress.resolve(host: "::1", port: 443).first)
        #expect(address.family == AF_INET6)
        #expect(address.port == 443)
        #expect(address.ipString == "::1")
        #expect(address.description == "[::1]:443")
        #expect(address.length == socklen_t(MemoryLayout<sockaddr_in6>.size))
    }

    /// The port is stored in network order: a port whose two bytes differ shows a swap.
    @Test func portIsStoredBigEndian() throws {
        let address = try #require(SocketAddress(numericHost: "10.1.2.3", port: 0x1234))
        let raw = withUnsafeBytes(of: address.storage) { $0.load(as: sockaddr_in.self) }
        #expect(raw.sin_port == UInt16(0x1234).bigEndian)
        #expect(address.port == 0x1234)
        #expect(address.ipString == "10.1.2.3")
    }

    @Test(arguments: ["localhost", "256.1.1.1", "1.2.3", "[::1]", "", "127.0.0.1:80"])
    func numericHostRejectsNonLiterals(_ host: String) {
        #expect(SocketAddress(numericHost: host, port: 80) == nil)
    }

    /// /etc/hosts is consulted before DNS, so "localhost" resolves without a network; whichever families
    /// the resolver returns, each is a loopback address with the requested port, listed once.
    @Test func resolvesANameThroughTheResolver() throws {
        let addresses = try SocketAddress.resolve(host: "localhost", port: 9000)
        #expect(!addresses.isEmpty)
        for address in addresses {
            #expect(address.port == 9000)
            #expect(["127.0.0.1", "::1"].contains(address.ipString))
        }
        for (index, address) in addresses.enumerated() {
            #expect(!addresses[(index + 1)...].contains(address))
        }
    }

    /// Equality covers family, address and port.
    @Test func equality() throws {
        let a = try #require(SocketAddress(numericHost: "127.0.0.1", port: 80))
        #expect(a == SocketAddress(numericHost: "127.0.0.1", port: 80))
        #expect(a != SocketAddress(numericHost: "127.0.0.1", port: 81))
        #expect(a != SocketAddress(numericHost: "127.0.0.2", port: 80))
        #expect(a != SocketAddress(numericHost: "::ffff:127.0.0.1", port: 80))
    }

    /// A listener on port 0 gets a kernel-chosen port; getsockname gives back the same family and IP with
    /// that port, equal to the parsed literal, and a client reaches the listener there.
    @Test func listenerLocalAddressRoundTrip() throws {
        let listener = try Sockets.listener(SocketAddress(numericHost: "127.0.0.1", port: 0)!, reusePort: false)
        defer { Posix.close(listener) }
        let local = try #require(Posix.localAddress(listener))
        #expect(local.family == AF_INET)
        #expect(local.ipString == "127.0.0.1")
        #expect(local.port != 0)
        #expect(local == SocketAddress(numericHost: "127.0.0.1", port: local.port))
        #expect(fcntl(listener, F_GETFL) & O_NONBLOCK != 0)

        let client = try Sockets.stream(family: AF_INET)
        defer { Posix.close(client) }
        _ = try Posix.connect(client, local)
        #expect(Fixture.poll(client, Int16(POLLOUT)) & Int16(POLLOUT) != 0)
        #expect(Posix.socketError(client) == 0)
        let clientLocal = try #require(Posix.localAddress(client))
        #expect(clientLocal.ipString == "127.0.0.1")
        #expect(clientLocal.port != local.port)
    }

    /// IPv6 loopback goes through the same calls with the longer sockaddr.
    @Test func ipv6ListenerLocalAddressRoundTrip() throws {
        let listener = try Sockets.listener(SocketAddress(numericHost: "::1", port: 0)!, reusePort: false)
        defer { Posix.close(listener) }
        let local = try #require(Posix.localAddress(listener))
        #expect(local.family == AF_INET6)
        #expect(local.ipString == "::1")
        #expect(local.port != 0)
        #expect(local == SocketAddress(numericHost: "::1", port: local.port))
    }

    /// Connections made by `Sockets.stream` do not wait for delayed ACKs.
    @Test func streamSocketsHaveNoDelay() throws {
        let fd = try Sockets.stream(family: AF_INET)
        defer { Posix.close(fd) }
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length) == 0)
        #expect(value != 0)
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
    }
}
