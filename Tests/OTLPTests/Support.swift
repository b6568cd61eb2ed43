import Glibc
import MeshConfig
import MeshGateway
import MeshJSON
import MeshOTLP
import MeshProxy
import MeshResilience
import MeshTrace

/// A config with one listener, a prefix route and a template route, one upstream of two endpoints, and span
/// export to `endpoint` (nil = off), verified against `caFile` when it is https.
func otlpConfig(endpoint: String?, service: String = "edge-gw", caFile: String? = nil) -> CompiledConfig {
    let otlp = endpoint.map { "\"\($0)\"" } ?? "null"
    let ca = caFile.map { ", \"ca_file\": \"\($0)\"" } ?? ""
    let json = """
        {
          "version": 1,
          "listeners": [
            { "name": "edge", "address": "127.0.0.1:18080",
              "routes": [
                { "name": "profile", "match": { "path_prefix": "/profile" }, "upstream": "profile" },
                { "name": "followers", "match": { "path_template": "/users/{id}/followers" },
                  "upstream": "profile" }
              ] }
          ],
          "upstreams": { "profile": { "endpoints": ["127.0.0.1:9102", "127.0.0.1:9103"] } },
          "tracing": { "service_name": "\(service)", "otlp_endpoint": \(otlp)\(ca) },
          "logging": { "level": "info", "access_log": false }
        }
        """
    switch ConfigLoader.parse(Array(json.utf8)) {
    case .success(let config): return CompiledConfig(config, generation: 1)
    case .failure(let errors): fatalError("test config invalid: \(errors.errors.map(\.description))")
    }
}

/// Exporter tuning for tests: batches go out 20 ms after their first span.
func fastOptions(queue: Int = 8192, batch: Int = 512, timeoutMs: Int = 2000) -> OTLPExporter.Options {
    var options = OTLPExporter.Options()
    options.queueCapacity = queue
    options.maxBatch = batch
    options.flushIntervalMs = 20
    options.timeoutMs = timeoutMs
    options.idleMs = 5
    return options
}

/// A sampled GET on route 0 with distinct ids derived from `n`.
func sampledRecord(_ n: UInt64 = 1, sampled: Bool = true) -> RequestRecord {
    var r = RequestRecord()
    r.listener = 0
    r.route = 0
    r.method = .get
    r.path = "/profile/\(n)"
    r.status = 200
    r.startNs = 5_000_000_000
    r.endNs = r.startNs + 3_000_000
    r.startUnixNs = 1_700_000_000_000_000_000
    r.upstream = 0
    r.endpoint = 0
    r.attempts = 1
    r.sampled = sampled
    r.trace = TraceID(high: 0x0af7_6519_16cd_43dd, low: 0x8448_eb21_1c80_3100 + n)
    r.span = SpanID(0xb7ad_6b71_6920_0000 + n)
    r.client = "10.0.0.7"
    r.requestID = "req-\(n)"
    return r
}

/// Where log lines go: a temporary file read back after `Telemetry.stop()`.
struct LogFile {
    let path: String
    let fd: Int32

    init() {
        var template = Array("/tmp/meshgate-otlp-XXXXXX".utf8CString)
        fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func contents() -> String {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let reader = open(path, O_RDONLY)
        defer { close(reader) }
        while true {
            let n = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }

    func remove() {
        close(fd)
        unlink(path)
    }
}

/// Navigation of an OTLP/JSON export request.
struct ExportRequest {
    let root: JSONNode

    init(_ bytes: [UInt8]) throws {
        root = try JSONReader.parse(bytes)
    }

    var resourceSpans: [JSONNode] { root["resourceSpans"]?.arrayValue ?? [] }

    /// Every span of every resource and scope.
    var spans: [JSONNode] {
        resourceSpans.flatMap { ($0["scopeSpans"]?.arrayValue ?? []).flatMap { $0["spans"]?.arrayValue ?? [] } }
    }
}

extension JSONNode {
    /// The attribute `key` of a span or resource as `(kind, text)`, e.g. `("intValue", "200")`.
    func attribute(_ key: String) -> (kind: String, text: String)? {
        for attribute in self["attributes"]?.arrayValue ?? [] where attribute["key"]?.stringValue == key {
            guard let member = attribute["value"]?.objectValue?.first else { return nil }
            return (member.key, member.value.stringValue ?? "")
        }
        return nil
    }

    /// The names of all attributes, in order.
    var attributeKeys: [String] { (self["attributes"]?.arrayValue ?? []).compactMap { $0["key"]?.stringValue } }
}

/// A port nobody listens on (bound, then closed), for a collector that is down.
func closedPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var bound = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &bound) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    close(fd)
    return UInt16(bigEndian: bound.sin_port)
}
