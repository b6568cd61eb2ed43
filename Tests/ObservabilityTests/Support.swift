import Glibc
import MeshConfig
import MeshGateway
import MeshPosix
import MeshProxy

/// A config with every kind of series: two listeners, named routes, two upstreams, a JWT provider.
let testConfigJSON = """
    {
      "version": 1,
      "listeners": [
        { "name": "edge", "address": "127.0.0.1:18080",
          "routes": [
            { "name": "profile", "match": { "path_prefix": "/profile/" }, "upstream": "profile",
              "jwt": { "provider": "hmac", "required": true },
              "fallback": { "status": 200, "body": "{}", "on": ["circuit-open", "5xx"] } },
            { "name": "public", "match": { "path": "/public" }, "upstream": "profile", "public": true }
          ] },
        { "name": "internal", "address": "127.0.0.1:18081",
          "routes": [ { "name": "graph", "match": { "path_prefix": "/" }, "upstream": "graph" } ] }
      ],
      "upstreams": {
        "profile": { "endpoints": ["127.0.0.1:9102", "127.0.0.1:9103"] },
        "graph": { "endpoints": ["127.0.0.1:9104"] }
      },
      "jwt_providers": {
        "hmac": { "issuer": "internal",
                  "jwks": { "inline": { "keys": [ { "kty": "oct", "kid": "k1", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ" } ] } },
                  "algorithms": ["HS256"] }
      },
      "tracing": { "service_name": "edge-gw" },
      "logging": { "level": "LEVEL", "access_log": ACCESS }
    }
    """

/// The test config compiled, with `logging` set as asked.
func testConfig(level: String = "info", accessLog: Bool = true, generation: Int = 1) -> CompiledConfig {
    let json = testConfigJSON.replacingOccurrences("LEVEL", level).replacingOccurrences("ACCESS", "\(accessLog)")
    switch ConfigLoader.parse(Array(json.utf8)) {
    case .success(let config): return CompiledConfig(config, generation: generation)
    case .failure(let errors): fatalError("test config invalid: \(errors.errors.map(\.description))")
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Substring.Index>? {
        var start = startIndex
        while start < endIndex {
            if self[start...].hasPrefix(target) {
                return start..<index(start, offsetBy: target.count)
            }
            start = index(after: start)
        }
        return nil
    }
}

/// A temporary file, removed by `remove()`.
struct TempFile {
    let path: String
    let fd: Int32

    init() {
        var template = Array("/tmp/meshgate-obs-XXXXXX".utf8CString)
        fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func contents() -> String {
        let f = open(path, O_RDONLY)
        defer { close(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(f, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    func remove() {
        close(fd)
        unlink(path)
    }
}
