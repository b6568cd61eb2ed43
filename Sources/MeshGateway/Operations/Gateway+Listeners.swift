import Glibc
import MeshPosix
import MeshProxy

extension Gateway {
    /// Binds each listener once per worker (SO_REUSEPORT). Returns `sockets[worker][listener]`; on failure
    /// closes what it bound and throws, naming the listener.
    ///
    /// - Parameter reserved: listener keys already bound by this process (a reload keeps their sockets).
    func bindListeners(_ listeners: [CompiledListener], reserved: Set<String>) throws(SystemError) -> [[Int32]] {
        var sockets = Array(repeating: [Int32](), count: workerCount)
        do {
            for listener in listeners where !reserved.contains(Gateway.key(listener)) {
                let address = try Gateway.listenAddress(listener)
                // Socket activation or a binary upgrade: the socket exists already, with its queue (SPEC §12).
                let inheritedFDs = try inherited.take(address, count: workerCount)
                if !inheritedFDs.isEmpty {
                    for worker in 0..<workerCount { sockets[worker].append(inheritedFDs[worker]) }
                    continue
                }
                // SO_REUSEPORT would let a second meshgate share the port silently: probe without it first.
                try Gateway.probe(address, listener)
                for worker in 0..<workerCount {
                    sockets[worker].append(try Gateway.listen(address, listener))
                }
            }
        } catch {
            for row in sockets { for fd in row { Posix.close(fd) } }
            throw error
        }
        return sockets
    }

    static func listenAddress(_ listener: CompiledListener) throws(SystemError) -> SocketAddress {
        let configured = listener.config.address
        guard let address = try SocketAddress.resolve(host: configured.host, port: configured.port).first else {
            throw SystemError(errno: EADDRNOTAVAIL, call: "resolve \(configured) (listener \(listener.config.name))")
        }
        return address
    }

    static func probe(_ address: SocketAddress, _ listener: CompiledListener) throws(SystemError) {
        do {
            Posix.close(try Sockets.listener(address, reusePort: false, backlog: 1))
        } catch {
            throw SystemError(
                errno: error.errno,
                call:
                    "listen on \(listener.config.address) (listener \(listener.config.name)); is another process using the port?"
            )
        }
    }

    static func listen(_ address: SocketAddress, _ listener: CompiledListener) throws(SystemError) -> Int32 {
        do {
            return try Sockets.listener(address, reusePort: true)
        } catch {
            throw SystemError(
                errno: error.errno, call: "listen on \(listener.config.address) (listener \(listener.config.name))")
        }
    }
}
