import Glibc
import MeshJSON

/// Reads, validates and renders `routes.json` (SPEC §3).
///
/// Pipeline: bytes → `JSONReader` tree with positions → decoders that reject unknown keys and apply `Defaults` →
/// cross-field checks → immutable `GatewayConfig`. Every error is collected, not just the first, so
/// `meshgate check` can print them all.
public enum ConfigLoader {
    /// Reads and validates the file. All errors are collected (not just the first), in file order.
    /// `secret_env` variables are looked up in the process environment.
    public static func load(path: String) -> Result<GatewayConfig, ConfigErrors> {
        switch readFile(path) {
        case .success(let bytes): return parse(bytes, fileName: path, environment: processEnvironment())
        case .failure(let error): return .failure(ConfigErrors(errors: [error]))
        }
    }

    /// `load(path:)` that also returns the bytes it read, so a reload can tell an unchanged file from a new one.
    public static func loadKeepingBytes(path: String) -> Result<(config: GatewayConfig, bytes: [UInt8]), ConfigErrors> {
        switch readFile(path) {
        case .success(let bytes):
            return parse(bytes, fileName: path, environment: processEnvironment()).map { ($0, bytes) }
        case .failure(let error): return .failure(ConfigErrors(errors: [error]))
        }
    }

    /// Validates a document held in memory. `fileName` only labels errors; `environment` is where `secret_env`
    /// names are looked up (a provider whose variable is unset or empty is an error: it would have no key).
    public static func parse(
        _ bytes: [UInt8], fileName: String = "routes.json", environment: [String: String] = [:]
    ) -> Result<GatewayConfig, ConfigErrors> {
        let root: JSONNode
        do {
            root = try JSONReader.parse(bytes)
        } catch {
            let syntax = ConfigError(
                path: "", line: error.position.line, column: error.position.column,
                message: "invalid JSON: \(error.message)", fileName: fileName)
            return .failure(ConfigErrors(errors: [syntax]))
        }
        let decoder = ConfigDecoder(fileName: fileName, environment: environment)
        let config = decoder.decodeRoot(root)
        if let config, decoder.errors.isEmpty { return .success(config) }
        return .failure(ConfigErrors(errors: decoder.sortedErrors))
    }

    /// The effective config as JSON for `GET /config`, with secrets redacted (jwks.inline `k` values, etc.).
    public static func render(_ config: GatewayConfig) -> String {
        ConfigRenderer.render(config)
    }

    // MARK: - File and environment

    /// Config files are small; anything over the reader's 16 MiB limit is refused by the reader itself.
    static func readFile(_ path: String) -> Result<[UInt8], ConfigError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(fileError(path, errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(fileError(path, errno))
            }
            if count == 0 { return .success(bytes) }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    private static func fileError(_ path: String, _ code: Int32) -> ConfigError {
        let reason = String(cString: strerror(code))
        return ConfigError(path: "", line: nil, column: nil, message: "cannot read the file: \(reason)", fileName: path)
    }

    static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return result
    }
}
