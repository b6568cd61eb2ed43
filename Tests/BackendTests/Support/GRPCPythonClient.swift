import Foundation
import Glibc
import MeshTestSupport

/// Python `grpcio` (gRPC's C core: its own HTTP/2, framing and status handling) calling `profile.v1.Profiles`,
/// with messages built and read by Python's `protobuf` from the committed descriptor set — an implementation
/// independent of ours on both the transport and the message side.
enum GRPCPythonClient {
    static let script = #"""
        import sys, json, grpc
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, json_format
        descriptor_set, port, method, request_type, response_type, fields, metadata = sys.argv[1:8]
        files = descriptor_pb2.FileDescriptorSet.FromString(open(descriptor_set, "rb").read())
        pool = descriptor_pool.DescriptorPool()
        for f in files.file:
            pool.Add(f)
        def message(name):
            return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))
        stub = grpc.insecure_channel("127.0.0.1:" + port).unary_unary(
            method, request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=message(response_type).FromString)
        try:
            reply = stub(message(request_type)(**json.loads(fields)), timeout=10,
                         metadata=[tuple(kv) for kv in json.loads(metadata)])
            print(json.dumps({"code": "OK", "reply": json_format.MessageToDict(reply, preserving_proto_field_name=True)}))
        except grpc.RpcError as e:
            print(json.dumps({"code": e.code().name, "message": e.details()}))
        """#

    /// What the call ended with: the code's name (`OK`, `NOT_FOUND`, …), the reply as proto3 JSON, the message.
    struct Outcome {
        var code: String
        var reply: [String: Any]
        var message: String
    }

    /// Calls `/profile.v1.Profiles/<method>` on `port` with a request built from `fields` (proto3 field names).
    static func call(
        port: UInt16,
        _ method: String,
        request: String,
        response: String,
        fields: [String: Any],
        metadata: [(String, String)] = []
    ) throws -> Outcome {
        let directory = try ServiceProcess.temporaryDirectory("grpcclient")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try script.write(toFile: directory + "/client.py", atomically: true, encoding: .utf8)
        let fieldsJSON = String(decoding: try JSONSerialization.data(withJSONObject: fields), as: UTF8.self)
        let metaJSON = String(
            decoding: try JSONSerialization.data(withJSONObject: metadata.map { [$0.0, $0.1] }), as: UTF8.self)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", directory + "/client.py", ProfileProtoTests.protos + "/profile.pb", "\(port)",
            "/profile.v1.Profiles/" + method, "profile.v1." + request, "profile.v1." + response, fieldsJSON, metaJSON,
        ]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let line = try? JSONSerialization.jsonObject(with: stdout) as? [String: Any] else {
            throw TestSupportError("grpcio client failed (python3 -m pip install grpcio protobuf?): \(stderr)")
        }
        return Outcome(
            code: line["code"] as? String ?? "?", reply: line["reply"] as? [String: Any] ?? [:],
            message: line["message"] as? String ?? "")
    }
}
