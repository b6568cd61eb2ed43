import Foundation
import MeshJSON
import MeshProtobuf
import MeshTestSupport

/// protoc and Python's protobuf over Protos/transcodetest/v1/library.proto, compiled at test time (the same
/// approach as MeshProtobufTests' ProtoTools, kept separate because test targets cannot import each other).
enum TranscodeTools {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let protosDirectory: String = Bundle.module.url(forResource: "Protos", withExtension: nil)!.path
    /// The one vendored copy of `google/api/{annotations,http}.proto` (backends/protos), imported by the tests'
    /// own .proto files.
    static let googleProtos: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("backends/protos").path
    static let file = "transcodetest/v1/library.proto"

    /// `protoc --descriptor_set_out --include_imports` of library.proto, once per test run.
    static let descriptorSet: Result<[UInt8], Failure> = Result { () throws(Failure) -> [UInt8] in
        try compile(file)
    }

    /// The descriptor set of one file under Protos (with its imports).
    static func compile(_ file: String) throws(Failure) -> [UInt8] {
        try withDirectory { dir throws(Failure) in
            try run(
                "/usr/bin/protoc",
                ["-I", protosDirectory, "-I", googleProtos, "--descriptor_set_out=\(dir)/set.pb", "--include_imports", file])
            return read(dir + "/set.pb")
        }
    }

    static func pool() throws -> DescriptorPool {
        try DescriptorPool(descriptorSet: try descriptorSet.get())
    }

    /// `protoc --decode=type`: the message in protobuf text format.
    static func decode(_ type: String, _ bytes: [UInt8]) throws -> String {
        try withDirectory { dir throws(Failure) in
            try write(dir + "/in.bin", bytes)
            return try run(
                "/bin/sh", ["-c", "cd '\(dir)' && protoc -I '\(protosDirectory)' -I '\(googleProtos)' --decode=\(type) \(file) < in.bin"])
        }
    }

    /// `protoc --encode=type` of protobuf text format.
    static func encode(_ type: String, _ text: String) throws -> [UInt8] {
        try withDirectory { dir throws(Failure) in
            try write(dir + "/in.txt", Array(text.utf8))
            try run(
                "/bin/sh",
                ["-c", "cd '\(dir)' && protoc -I '\(protosDirectory)' -I '\(googleProtos)' --encode=\(type) \(file) < in.txt > out.bin"])
            return read(dir + "/out.bin")
        }
    }

    /// Python: `FromString` then `json_format.MessageToJson` (the reference for response JSON).
    static func pythonJSON(_ type: String, _ bytes: [UInt8]) throws -> String {
        let script = """
            import sys
            from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, json_format
            fds = descriptor_pb2.FileDescriptorSet.FromString(open(sys.argv[1], 'rb').read())
            pool = descriptor_pool.DescriptorPool()
            for f in fds.file:
                pool.Add(f)
            cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(sys.argv[2]))
            m = cls.FromString(open(sys.argv[3], 'rb').read())
            sys.stdout.write(json_format.MessageToJson(m, descriptor_pool=pool))
            """
        let set = try descriptorSet.get()
        return try withDirectory { dir throws(Failure) in
            try write(dir + "/set.pb", set)
            try write(dir + "/in.bin", bytes)
            return try run("/usr/bin/env", ["python3", "-c", script, dir + "/set.pb", type, dir + "/in.bin"])
        }
    }

    // MARK: - Process and file plumbing

    @discardableResult
    static func run(_ path: String, _ arguments: [String]) throws(Failure) -> String {
        let result: Tool.Result
        do { result = try Tool.run(path, arguments) } catch { throw Failure(description: "\(path): \(error)") }
        guard result.exitCode == 0 else {
            throw Failure(description: "\(path) \(arguments.last ?? ""): exit \(result.exitCode): \(result.stderr)")
        }
        return result.stdout
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
