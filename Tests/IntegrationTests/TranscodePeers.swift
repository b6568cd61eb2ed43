import Foundation
import Glibc
import MeshTestSupport

/// The `shop.v1.Items` service for transcoding tests: its .proto (with `google.api.http` rules), compiled by
/// `protoc` into a descriptor set the gateway loads, and a Python `grpcio` server built from that same set
/// (dynamic message classes, real protobuf encoding). Every call prints one JSON line: the method, the
/// request as `json_format.MessageToDict` sees it, and the `traceparent` metadata it arrived with.
final class ItemsServer {
    static let proto = """
        syntax = "proto3";
        package shop.v1;
        import "google/api/annotations.proto";

        message Item { string id = 1; string name = 2; int64 price_cents = 3; repeated string tags = 4; }
        message GetItemRequest { string id = 1; bool verbose = 2; }
        message CreateItemRequest { string shelf = 1; Item item = 2; }
        message ListItemsRequest { string shelf = 1; int32 count = 2; }

        service Items {
          rpc GetItem(GetItemRequest) returns (Item) { option (google.api.http) = { get: "/v1/items/{id}" }; }
          rpc CreateItem(CreateItemRequest) returns (Item) {
            option (google.api.http) = { post: "/v1/shelves/{shelf}/items" body: "item" };
          }
          rpc ListItems(ListItemsRequest) returns (stream Item) {
            option (google.api.http) = { get: "/v1/shelves/{shelf}/items" };
          }
          rpc Echo(Item) returns (Item);
        }
        """

    static let script = #"""
        import sys, json, threading, collections, grpc
        from concurrent import futures
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, json_format

        fds = descriptor_pb2.FileDescriptorSet.FromString(open(sys.argv[2], "rb").read())
        pool = descriptor_pool.DescriptorPool()
        for f in fds.file:
            pool.Add(f)
        def cls(name):
            return message_factory.GetMessageClass(pool.FindMessageTypeByName("shop.v1." + name))
        Item, GetItemRequest, CreateItemRequest, ListItemsRequest = map(cls, ["Item", "GetItemRequest", "CreateItemRequest", "ListItemsRequest"])
        lock = threading.Lock()
        seen = collections.Counter()

        def log(method, request, context):
            metadata = dict(context.invocation_metadata())
            line = {"method": method, "request": json_format.MessageToDict(request),
                    "traceparent": metadata.get("traceparent", "")}
            with lock:
                print(json.dumps(line, sort_keys=True), flush=True)

        def get_item(request, context):
            log("GetItem", request, context)
            if request.id == "missing":
                context.abort(grpc.StatusCode.NOT_FOUND, "no item 'missing' here")
            if request.id == "unavailable":
                context.abort(grpc.StatusCode.UNAVAILABLE, "down")
            if request.id.startswith("flaky"):
                with lock:
                    seen[request.id] += 1
                    first = seen[request.id] == 1
                if first:
                    context.abort(grpc.StatusCode.UNAVAILABLE, "first try fails")
            name = "item " + request.id + (" verbose" if request.verbose else "")
            return Item(id=request.id, name=name, price_cents=1234567890123, tags=["a", "b"])

        def create_item(request, context):
            log("CreateItem", request, context)
            item = Item()
            item.CopyFrom(request.item)
            item.id = request.shelf + "/" + request.item.name
            return item

        def list_items(request, context):
            log("ListItems", request, context)
            for i in range(request.count):
                yield Item(id="%s-%d" % (request.shelf, i))

        def echo(request, context):
            log("Echo", request, context)
            return request

        def unary(fn, request_type):
            return grpc.unary_unary_rpc_method_handler(
                fn, request_deserializer=request_type.FromString, response_serializer=Item.SerializeToString)
        handlers = {
            "GetItem": unary(get_item, GetItemRequest),
            "CreateItem": unary(create_item, CreateItemRequest),
            "ListItems": grpc.unary_stream_rpc_method_handler(
                list_items, request_deserializer=ListItemsRequest.FromString, response_serializer=Item.SerializeToString),
            "Echo": unary(echo, Item),
        }
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("shop.v1.Items", handlers),))
        server.add_insecure_port("127.0.0.1:%s" % sys.argv[1])
        server.start()
        print("ready", flush=True)
        server.wait_for_termination()
        """#

    /// Where `google/api/annotations.proto` is vendored (once, for the backends and every test).
    static let googleProtos: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("backends/protos").path

    let port: UInt16
    let directory: String
    /// The descriptor set (`protoc --include_imports`) the gateway and the server both read.
    let descriptorSet: String
    let process: ChildProcess

    init() throws {
        port = try TestSocket.freePort()
        directory = try GatewayProcess.makeTempDirectory()
        try ChildProcess.writeFile(directory + "/items.proto", Self.proto)
        try ChildProcess.writeFile(directory + "/items_server.py", Self.script)
        descriptorSet = directory + "/items.pb"
        let protoc = try Tool.run(
            "/usr/bin/protoc",
            ["-I", directory, "-I", Self.googleProtos, "--include_imports", "--descriptor_set_out=" + descriptorSet,
             "items.proto"])
        guard protoc.exitCode == 0 else { throw TestSupportError("protoc: \(protoc.stderr)") }
        process = try ChildProcess(
            path: "/usr/bin/env", arguments: ["python3", directory + "/items_server.py", "\(port)", descriptorSet],
            outputPrefix: directory + "/items_server")
        let ready = Poll.until(timeoutMs: 20_000) { self.process.poll() || self.process.stdout.contains("ready") }
        guard ready, !process.poll() else { throw TestSupportError("items server did not start: \(process.stderr)") }
    }

    /// The calls the server handled, in arrival order.
    var calls: [[String: Any]] {
        process.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func stop() { _ = process.terminate(signal: SIGKILL) }

    deinit { stop() }
}
