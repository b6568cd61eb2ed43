import Testing

@testable import MeshConfig

/// `limits.h2` (SPEC §10): defaults, values, and `check` refusing windows over 2^31−1 and frame sizes outside
/// RFC 9113's 16,384–16,777,215, each error naming its JSON path.
@Suite struct H2LimitsConfigTests {
    @Test func defaultsAreSpecs() throws {
        let h2 = try loadValid(document()).limits.h2
        #expect(h2 == H2LimitsConfig(maxConcurrentStreams: 100, initialWindowBytes: 65535, maxFrameBytes: 16384))
    }

    @Test func valuesAreTaken() throws {
        let text = document(
            extra: #""limits": {"h2": {"max_concurrent_streams": 8, "initial_window_bytes": 2147483647, "max_frame_bytes": 16777215}}"#)
        let h2 = try loadValid(text).limits.h2
        #expect(h2 == H2LimitsConfig(maxConcurrentStreams: 8, initialWindowBytes: 2_147_483_647, maxFrameBytes: 16_777_215))
    }

    @Test(arguments: [
        ("initial_window_bytes", "2147483648"), ("initial_window_bytes", "0"), ("max_frame_bytes", "16383"),
        ("max_frame_bytes", "16777216"), ("max_concurrent_streams", "0"), ("max_concurrent_streams", "\"100\""),
    ])
    func outOfRangeIsAnErrorWithItsPath(key: String, value: String) {
        let errors = loadErrors(document(extra: #""limits": {"h2": {"\#(key)": \#(value)}}"#))
        #expect(errors.map(\.path) == ["limits.h2.\(key)"], "\(errors)")
    }

    @Test func unknownKeysAreErrors() {
        let errors = loadErrors(document(extra: #""limits": {"h2": {"max_streams": 10}}"#))
        #expect(errors.map(\.path) == ["limits.h2.max_streams"], "\(errors)")
    }
}
