import MeshJSON
import MeshTranscode
import Testing

/// grpc-status → HTTP status and the JSON error body, against gRPC-Gateway's table.
@Suite struct GRPCStatusTests {
    static let table: [(Int, Int, String)] = [
        (0, 200, "ok"), (1, 499, "cancelled"), (2, 500, "unknown"), (3, 400, "invalid_argument"),
        (4, 504, "deadline_exceeded"), (5, 404, "not_found"), (6, 409, "already_exists"),
        (7, 403, "permission_denied"), (8, 429, "resource_exhausted"), (9, 400, "failed_precondition"),
        (10, 409, "aborted"), (11, 400, "out_of_range"), (12, 501, "unimplemented"), (13, 500, "internal"),
        (14, 503, "unavailable"), (15, 500, "data_loss"), (16, 401, "unauthenticated"),
    ]

    @Test func everyCode() throws {
        #expect(GRPCStatusCode.allCases.count == Self.table.count)
        for (code, http, name) in Self.table {
            let error = TranscodedError(grpcStatus: String(code), grpcMessage: "m")
            #expect(error.code.rawValue == code && error.httpStatus == http && error.code.name == name)
            let body = try JSONReader.parse(error.body)
            #expect(body["code"]?.int64Value == Int64(code))
            #expect(body["message"]?.stringValue == "m")
            #expect(body["error"]?.stringValue == name)
            #expect(body.objectValue?.count == 3)
        }
    }

    /// Missing, non-numeric and unassigned codes are UNKNOWN (500).
    @Test func unknownCodes() {
        for text in [nil, "", "abc", "17", "-1", "99999999999999999999"] as [String?] {
            #expect(TranscodedError(grpcStatus: text, grpcMessage: nil).code == .unknown)
        }
        #expect(TranscodedError(grpcStatus: nil, grpcMessage: nil).httpStatus == 500)
    }

    /// grpc-message is percent-encoded; a broken escape is kept as received. JSON escaping of the body.
    @Test func messageDecodingAndEscaping() throws {
        let e = TranscodedError(grpcStatus: "5", grpcMessage: "no user %22al%C3%A9%22 here")
        #expect(e.message == "no user \"alé\" here")
        #expect(TranscodedError(grpcStatus: "5", grpcMessage: "100%").message == "100%")
        // '+' is not a space in grpc-message (it is not form encoding).
        #expect(TranscodedError(grpcStatus: "5", grpcMessage: "a+b").message == "a+b")
        let body = try JSONReader.parse(e.body)
        #expect(body["message"]?.stringValue == "no user \"alé\" here")
    }
}
