import MeshProtobuf
import Testing

/// The FileDescriptorSet reader on protoc's real output for Protos/meshtest/v1/*.proto (plus the imported
/// well-known types and the google.api annotations), and on broken sets.
@Suite struct DescriptorPoolTests {
    @Test func messagesFieldsAndJSONNames() throws {
        let pool = try ProtoTools.pool()
        let scalars = try #require(pool.message(named: ".meshtest.v1.Scalars"))
        #expect(pool.message(named: "meshtest.v1.Scalars") == scalars)
        #expect(scalars.fields.count == 20)
        let sint = try #require(scalars.field(number: 15))
        #expect(
            sint.name == "f_sint32" && sint.jsonName == "fSint32" && sint.type == .sint32 && sint.label == .optional)
        #expect(scalars.field(named: "fSint32") == sint && scalars.field(named: "f_sint32") == sint)
        let renamed = try #require(scalars.field(number: 19))
        #expect(renamed.jsonName == "renamedField")
        let e = try #require(scalars.field(number: 12))
        #expect(e.type == .enum && e.typeName == ".meshtest.v1.Color")
        let opt = try #require(scalars.field(number: 17))
        #expect(opt.proto3Optional && opt.oneofIndex != nil && opt.hasPresence)
        #expect(!sint.hasPresence)
        #expect(scalars.field(number: 2000)?.name == "big_number_field")
    }

    @Test func nestedRepeatedPackedMapsOneofs() throws {
        let pool = try ProtoTools.pool()
        let inner = try #require(pool.message(named: ".meshtest.v1.Nested.Inner"))
        #expect(inner.field(number: 2)?.typeName == ".meshtest.v1.Nested.Inner")
        let repeated = try #require(pool.message(named: ".meshtest.v1.Repeated"))
        #expect(repeated.field(number: 5)?.isPacked == true)
        #expect(repeated.field(number: 20)?.packedOption == false && repeated.field(number: 20)?.isPacked == false)
        #expect(repeated.field(number: 9)?.isPacked == false)  // strings never pack
        let maps = try #require(pool.message(named: ".meshtest.v1.Maps"))
        let strInt = try #require(maps.field(number: 1))
        #expect(strInt.isMap && strInt.label == .repeated)
        #expect(pool.message(named: strInt.typeName)?.isMapEntry == true)
        let oneofs = try #require(pool.message(named: ".meshtest.v1.Oneofs"))
        #expect(oneofs.oneofs == ["choice"])
        #expect(oneofs.field(number: 3)?.oneofIndex == 0 && oneofs.field(number: 5)?.oneofIndex == nil)
        let legacy = try #require(pool.message(named: ".meshtest.legacy.WithGroup"))
        #expect(legacy.field(number: 2)?.type == .group && legacy.field(number: 1)?.hasPresence == true)
    }

    @Test func enums() throws {
        let pool = try ProtoTools.pool()
        let color = try #require(pool.enumType(named: ".meshtest.v1.Color"))
        #expect(color.name(for: 1) == "RED" && color.number(for: "NEGATIVE") == -3 && color.name(for: 9) == nil)
        #expect(pool.enumType(named: ".google.protobuf.NullValue")?.name(for: 0) == "NULL_VALUE")
    }

    @Test func servicesMethodsAndHttpRules() throws {
        let pool = try ProtoTools.pool()
        let service = try #require(pool.services[".meshtest.v1.Profiles"])
        #expect(service.methods.count == 9)
        let get = try #require(pool.method(path: "/meshtest.v1.Profiles/GetProfile"))
        #expect(get.inputType == ".meshtest.v1.GetProfileRequest" && get.outputType == ".meshtest.v1.Profile")
        #expect(!get.clientStreaming && !get.serverStreaming)
        #expect(
            get.http
                == HttpRule(
                    method: "GET", path: "/v1/{name=users/*}/profile",
                    additionalBindings: [HttpRule(method: "POST", path: "/v1/profiles:get", body: "*")]))
        let update = try #require(pool.method(path: "/meshtest.v1.Profiles/UpdateProfile"))
        #expect(
            update.http
                == HttpRule(
                    method: "PATCH", path: "/v1/{name=users/*}/profile", body: "nickname", responseBody: "nickname"))
        #expect(pool.method(path: "/meshtest.v1.Profiles/PutProfile")?.http?.method == "PUT")
        #expect(
            pool.method(path: "/meshtest.v1.Profiles/DeleteProfile")?.http
                == HttpRule(method: "DELETE", path: "/v1/{name=users/*}"))
        #expect(pool.method(path: "/meshtest.v1.Profiles/CreateProfile")?.http?.body == "*")
        #expect(
            pool.method(path: "/meshtest.v1.Profiles/HeadProfile")?.http
                == HttpRule(method: "HEAD", path: "/v1/{name=users/*}"))
        let watch = try #require(pool.method(path: "/meshtest.v1.Profiles/WatchProfiles"))
        #expect(watch.serverStreaming && !watch.clientStreaming && watch.http == nil)
        #expect(pool.method(path: "/meshtest.v1.Profiles/UploadProfiles")?.clientStreaming == true)
        let chat = try #require(pool.method(path: "/meshtest.v1.Profiles/Chat"))
        #expect(chat.clientStreaming && chat.serverStreaming)
        #expect(pool.method(path: "/meshtest.v1.Profiles/Nope") == nil)
    }

    /// `--include_source_info` adds comments and locations (field 9 of each file): skipped, same pool.
    @Test func sourceInfoIsSkipped() throws {
        let withInfo = try ProtoTools.compile(extraArguments: ["--include_source_info"])
        #expect(withInfo.count > (try ProtoTools.descriptorSet.get()).count)
        let a = try DescriptorPool(descriptorSet: withInfo)
        let b = try ProtoTools.pool()
        #expect(a.messages == b.messages && a.methods == b.methods && a.enums == b.enums)
    }

    @Test func everyPrefixOfTheSetFailsCleanlyOrLoads() throws {
        let set = try ProtoTools.descriptorSet.get()
        // Each prefix either loads (it ends on a file boundary) or throws; none traps. Step 7 keeps it quick.
        for end in stride(from: 0, to: set.count, by: 7) {
            _ = try? DescriptorPool(descriptorSet: Array(set[..<end]))
        }
        #expect(throws: ProtobufError.self) { try DescriptorPool(descriptorSet: [0x0A, 0x05, 0x01]) }
    }

    @Test func danglingTypeReferenceIsAnError() throws {
        // A hand-built set whose one field names a type the set lacks: file { package "p" message_type { name "M"
        // field { name "x" number 1 label 1 type 11 type_name ".p.Missing" } } }.
        var field = WireWriter()
        field.writeTag(1, .lengthDelimited); field.writeLengthDelimited(Array("x".utf8))
        field.writeTag(3, .varint); field.writeVarint(1)
        field.writeTag(4, .varint); field.writeVarint(1)
        field.writeTag(5, .varint); field.writeVarint(11)
        field.writeTag(6, .lengthDelimited); field.writeLengthDelimited(Array(".p.Missing".utf8))
        var message = WireWriter()
        message.writeTag(1, .lengthDelimited); message.writeLengthDelimited(Array("M".utf8))
        message.writeTag(2, .lengthDelimited); message.writeLengthDelimited(field.bytes)
        var file = WireWriter()
        file.writeTag(2, .lengthDelimited); file.writeLengthDelimited(Array("p".utf8))
        file.writeTag(4, .lengthDelimited); file.writeLengthDelimited(message.bytes)
        var set = WireWriter()
        set.writeTag(1, .lengthDelimited); set.writeLengthDelimited(file.bytes)
        #expect(throws: ProtobufError.malformedDescriptor(".p.M.x: type .p.Missing is not in the set")) {
            try DescriptorPool(descriptorSet: set.bytes)
        }
    }
}
