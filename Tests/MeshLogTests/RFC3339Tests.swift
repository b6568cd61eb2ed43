import MeshLog
import Testing

struct RFC3339Tests {
    // Expected strings computed independently with Python's datetime (UTC).
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (951_786_123_004, "2000-02-29T01:02:03.004Z"),
        (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
        (1_764_057_094_123, "2025-11-25T07:51:34.123Z"),
        (4_102_444_799_999, "2099-12-31T23:59:59.999Z"),
    ])
    func formatsUTCWithMilliseconds(ms: Int64, expected: String) {
        #expect(RFC3339.string(ms: ms) == expected)
    }

    @Test func nowIsAfter2025() {
        #expect(RFC3339.nowMs() > 1_735_689_600_000)
    }
}
