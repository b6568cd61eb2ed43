import Foundation
import MeshJSON
import MeshProtobuf
import MeshTestSupport

/// The independent implementations the codec is checked against: `protoc` (Debian `protobuf-compiler`, with the
/// well-known .proto files from `libprotobuf-dev`) and Python's `protobuf` package. Everything runs through
/// `Tool.run` in a fresh temporary directory per call.
enum ProtoTools {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The .proto files under Tests/MeshProtobufTests/Protos (copied into the test bundle).
    static let protosDirectory: String = Bundle.module.url(forResource: "Protos", withExtension: nil)!.path
    /// The one vendored copy of `google/api/{annotations,http}.proto` (backends/protos), imported by the tests'
    /// own .proto files.
    static let googleProtos: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("backends/protos").path
    static let files = [
        "meshtest/v1/types.proto", "meshtest/v1/wkt.proto", "meshtest/v1/service.proto", "meshtest/v1/legacy.proto",
    ]

    /// `protoc --descriptor_set_out --include_imports` over all test files, compiled once per test run.
    static let descriptorSet: Result<[UInt8], Failure> = Result { () throws(Failure) -> [UInt8] in
        try compile()
    }

    /// Runs protoc over all test files into a fresh directory and returns the set's bytes.
    static func compile(extraArguments: [String] = []) throws(Failure) -> [UInt8] {
        try withDirectory { dir throws(Failure) in
            let out = dir + "/set.pb"
            try run(
                "/usr/bin/protoc",
                ["-I", protosDirectory, "-I", googleProtos, "--descriptor_set_out=" + out, "--include_imports"] + extraArguments + files)
            return read(out)
        }
    }

    /// The pool built from `descriptorSet`.
    static func pool() throws -> DescriptorPool {
        try DescriptorPool(descriptorSet: try descriptorSet.get())
    }

    /// `protoc --encode=type` of protobuf text format.
    static func encode(_ type: String, _ text: String) throws -> [UInt8] {
        try withDirectory { dir throws(Failure) in
            try write(dir + "/in.txt", Array(text.utf8))
            try shell(
                "protoc -I '\(protosDirectory)' -I '\(googleProtos)' --encode=\(type) \(files.joined(separator: " ")) < in.txt > out.bin",
                in: dir)
            return read(dir + "/out.bin")
        }
    }

    /// `protoc --decode=type` of wire bytes: protobuf text format.
    static func decode(_ type: String, _ bytes: [UInt8]) throws -> String {
        try withDirectory { dir throws(Failure) in
            try write(dir + "/in.bin", bytes)
            return try shell(
                "protoc -I '\(protosDirectory)' -I '\(googleProtos)' --decode=\(type) \(files.joined(separator: " ")) < in.bin", in: dir)
        }
    }

    /// Python: `json_format.Parse` then `SerializeToString(deterministic=True)`.
    static func pythonJSONToBinary(_ type: String, _ json: String) throws -> [UInt8] {
        unhex(try python("json2bin", type, Array(json.utf8)))
    }

    /// Python: `FromString` then `SerializeToString(deterministic=True)` (unknown fields kept).
    static func pythonReserialize(_ type: String, _ bytes: [UInt8]) throws -> [UInt8] {
        unhex(try python("bin2bin", type, bytes))
    }

    private static func unhex(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(hex.utf8)[...]
        while chars.count >= 2 {
            out.append(UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16)!)
            chars = chars.dropFirst(2)
        }
        return out
    }

    /// Python: `FromString` then `json_format.MessageToJson`.
    static func pythonBinaryToJSON(_ type: String, _ bytes: [UInt8]) throws -> String {
        try python("bin2json", type, bytes)
    }

    private static let pythonScript = """
        import sys
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, json_format
        fds = descriptor_pb2.FileDescriptorSet.FromString(open(sys.argv[1], 'rb').read())
        pool = descriptor_pool.DescriptorPool()
        for f in fds.file:
            pool.Add(f)
        cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(sys.argv[3]))
        data = open(sys.argv[4], 'rb').read()
        if sys.argv[2] == 'bin2bin':
            sys.stdout.write(cls.FromString(data).SerializeToString(deterministic=True).hex())
        elif sys.argv[2] == 'json2bin':
            m = cls()
            json_format.Parse(data.decode(), m, descriptor_pool=pool)
            sys.stdout.write(m.SerializeToString(deterministic=True).hex())
        else:
            sys.stdout.write(json_format.MessageToJson(cls.FromString(data), descriptor_pool=pool))
        """

    private static func python(_ mode: String, _ type: String, _ input: [UInt8]) throws -> String {
        let set = try descriptorSet.get()
        return try withDirectory { dir throws(Failure) in
            try write(dir + "/set.pb", set)
            try write(dir + "/input", input)
            return try run(
                "/usr/bin/env", ["python3", "-c", pythonScript, dir + "/set.pb", mode, type, dir + "/input"])
        }
    }

    // MARK: - Process and file plumbing

    @discardableResult
    static func run(_ path: String, _ arguments: [String]) throws(Failure) -> String {
        let result: Tool.Result
        do {
            result = try Tool.run(path, arguments)
        } catch {
            throw Failure(description: "\(path): \(error)")
        }
        guard result.exitCode == 0 else {
            throw Failure(description: "\(path) \(arguments.last ?? ""): exit \(result.exitCode): \(result.stderr)")
        }
        return result.stdout
    }

    @discardableResult
    private static func shell(_ command: String, in dir: String) throws(Failure) -> String {
        try run("/bin/sh", ["-c", "cd '\(dir)' && " + command])
    }

    private static func withDirectory<T>(_ body: (String) throws(Failure) -> T) throws(Failure) -> T {
        let dir: String
        do { dir = try GatewayProcess.makeTempDirectory() } catch { throw Failure(description: "temp dir: \(error)") }
        defer { GatewayProcess.removeDirectory(dir) }
        return try body(dir)
    }

    private static func write(_ path: String, _ bytes: [UInt8]) throws(Failure) {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw Failure(description: "cannot write \(path)")
        }
    }

    private static func read(_ path: String) -> [UInt8] {
        FileManager.default.contents(atPath: path).map { Array($0) } ?? []
    }
}

/// Hex for failure messages.
func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// True when two encodings of `type` are the same bytes or, when they differ only by map entry order, decode
/// to equal values. Python's upb runtime orders map entries its own way even with `deterministic=True`
/// (strings: longer first on a common prefix; int64 keys not numerically), where we follow protobuf C++'s
/// deterministic order; maps are unordered by definition, so only the order may differ.
func sameEncoding(_ a: [UInt8], _ b: [UInt8], type: String, pool: DescriptorPool) throws -> Bool {
    if a == b { return true }
    guard a.count == b.count else { return false }
    let decoder = ProtoDecoder(pool: pool)
    return try decoder.decode(a, as: type) == decoder.decode(b, as: type)
}
