// swift-tools-version: 6.0
// meshgate: dependencies stay empty (SPEC §1). System C libraries come in through
// module maps; everything else is the toolchain and Glibc.
import Foundation
import PackageDescription

/// The commit being built, for `meshgate version` (read from .git when the manifest is evaluated; a
/// source tarball without .git says "unknown").
let commit: String = {
    let root = URL(fileURLWithPath: Context.packageDirectory).appendingPathComponent(".git")
    guard let head = try? String(contentsOf: root.appendingPathComponent("HEAD"), encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines) else { return "unknown" }
    guard head.hasPrefix("ref: ") else { return String(head.prefix(12)) }
    let ref = String(head.dropFirst(5))
    if let loose = try? String(contentsOf: root.appendingPathComponent(ref), encoding: .utf8) {
        return String(loose.trimmingCharacters(in: .whitespacesAndNewlines).prefix(12))
    }
    let packed = (try? String(contentsOf: root.appendingPathComponent("packed-refs"), encoding: .utf8)) ?? ""
    let line = packed.split(separator: "\n").first { $0.hasSuffix(" " + ref) }
    return line.map { String($0.prefix(12)) } ?? "unknown"
}()

// Release builds: cross-module specialization (generic code of the leaf modules is specialized at the
// call site), and no dynamic exclusivity checks (measured: 15% of the proxy's user instructions).
let fast: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "meshgate",
    products: [
        .executable(name: "meshgate", targets: ["meshgate"]),
        .executable(name: "auth-service", targets: ["AuthServiceMain"]),
        .executable(name: "profile-service", targets: ["ProfileServiceMain"]),
        .executable(name: "relationship-service", targets: ["RelationshipServiceMain"]),
    ],
    dependencies: [],
    targets: [
        // MARK: - C shims and system libraries
        .target(name: "CLinux", cSettings: [.define("_GNU_SOURCE"), .define("MESHGATE_COMMIT", to: "\"\(commit)\"")]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto"),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3"),
        .systemLibrary(name: "CSSL", pkgConfig: "libssl"),

        // MARK: - Leaves (no project dependencies)
        .target(name: "MeshHTTP1", swiftSettings: fast),
        .target(name: "MeshHTTP2", swiftSettings: fast),
        .target(name: "MeshJSON", swiftSettings: fast),
        .target(name: "MeshTrace", swiftSettings: fast),
        .target(name: "MeshSync", swiftSettings: fast),

        // MARK: - Layers
        .target(name: "MeshMetrics", dependencies: ["MeshSync"], swiftSettings: fast),
        .target(name: "MeshResilience", dependencies: ["MeshSync"], swiftSettings: fast),
        .target(name: "MeshRateLimit", dependencies: ["MeshSync"], swiftSettings: fast),
        .target(
            name: "MeshRedis", dependencies: ["MeshRateLimit", "MeshEventLoop", "MeshPosix", "CLinux"], swiftSettings: fast
        ),
        .target(name: "MeshPosix", dependencies: ["CLinux"], swiftSettings: fast),
        .target(name: "MeshEventLoop", dependencies: ["MeshPosix", "MeshSync", "CLinux"], swiftSettings: fast),
        .target(name: "MeshCrypto", dependencies: ["CCrypto"], swiftSettings: fast),
        .target(name: "MeshLog", dependencies: ["MeshSync"], swiftSettings: fast),
        .target(name: "MeshTLS", dependencies: ["CSSL", "MeshSync"], swiftSettings: fast),
        .target(name: "MeshConfig", dependencies: ["MeshJSON", "MeshProtobuf", "MeshTranscode"], swiftSettings: fast),
        .target(name: "MeshProtobuf", dependencies: ["MeshJSON"], swiftSettings: fast),
        .target(name: "MeshTranscode", dependencies: ["MeshProtobuf", "MeshJSON"], swiftSettings: fast),
        .target(name: "MeshJWT", dependencies: ["MeshCrypto", "MeshJSON", "MeshSync"], swiftSettings: fast),
        // The one blocking HTTP/1.1 client (ACME, OTLP export, demo readiness), for threads off the event loop.
        .target(
            name: "MeshBlockingHTTP", dependencies: ["MeshHTTP1", "MeshPosix", "MeshTLS", "CLinux"], swiftSettings: fast
        ),
        .target(name: "MeshACME", dependencies: ["MeshCrypto", "MeshHTTP1", "MeshJSON", "CSSL"], swiftSettings: fast),
        .target(
            name: "MeshProxy",
            dependencies: [
                "MeshHTTP1", "MeshConfig", "MeshJWT", "MeshResilience", "MeshRateLimit",
            ],
            swiftSettings: fast
        ),
        .target(
            name: "MeshControl",
            dependencies: [
                "MeshProxy", "MeshConfig", "MeshJWT", "MeshResilience", "MeshHTTP1", "MeshEventLoop", "MeshPosix",
                "MeshCrypto", "MeshSync", "MeshTLS", "CLinux", "MeshACME",
            ],
            swiftSettings: fast
        ),
        .target(
            name: "MeshOTLP",
            dependencies: [
                "MeshBlockingHTTP", "MeshControl", "MeshProxy", "MeshConfig", "MeshHTTP1", "MeshTrace", "MeshResilience",
                "MeshJSON", "MeshCrypto", "MeshTLS", "MeshPosix", "CLinux",
            ],
            swiftSettings: fast
        ),
        .target(
            name: "MeshDemo", dependencies: ["MeshBlockingHTTP", "MeshConfig", "MeshPosix", "CLinux"], swiftSettings: fast
        ),
        .target(
            name: "MeshGateway",
            dependencies: [
                "MeshControl", "MeshOTLP", "MeshDemo", "MeshProxy", "MeshACME", "MeshBlockingHTTP", "MeshConfig",
                "MeshHTTP1", "MeshHTTP2", "MeshTranscode", "MeshJWT", "MeshJSON", "MeshLog", "MeshMetrics", "MeshTrace",
                "MeshResilience", "MeshRateLimit", "MeshRedis", "MeshEventLoop", "MeshPosix", "MeshCrypto", "MeshSync",
                "MeshTLS", "CLinux",
            ],
            swiftSettings: fast
        ),
        .executableTarget(name: "meshgate", dependencies: ["MeshGateway"], swiftSettings: fast),

        // MARK: - Tests
        .target(name: "MeshTestSupport", dependencies: ["MeshPosix", "MeshSync", "MeshJSON"], path: "Tests/MeshTestSupport"),
        .testTarget(name: "MeshHTTP1Tests", dependencies: ["MeshHTTP1"]),
        .testTarget(name: "MeshHTTP2Tests", dependencies: ["MeshHTTP2", "MeshTestSupport"]),
        .testTarget(name: "MeshJSONTests", dependencies: ["MeshJSON"]),
        .testTarget(
            name: "MeshProtobufTests", dependencies: ["MeshProtobuf", "MeshJSON", "MeshTestSupport"],
            resources: [.copy("Protos")]
        ),
        .testTarget(
            name: "MeshTranscodeTests", dependencies: ["MeshTranscode", "MeshProtobuf", "MeshJSON", "MeshTestSupport"],
            resources: [.copy("Protos")]
        ),
        .testTarget(name: "MeshConfigTests", dependencies: ["MeshConfig"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MeshCryptoTests", dependencies: ["MeshCrypto"]),
        .testTarget(name: "MeshTLSTests", dependencies: ["MeshTLS", "CSSL", "MeshTestSupport", "MeshSync"]),
        .testTarget(name: "MeshJWTTests", dependencies: ["MeshJWT"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "MeshBlockingHTTPTests", dependencies: ["MeshBlockingHTTP", "MeshTLS", "MeshPosix", "MeshTestSupport"]
        ),
        .testTarget(name: "MeshACMETests", dependencies: ["MeshACME", "MeshCrypto", "MeshJSON", "MeshTestSupport"]),
        .testTarget(name: "MeshTraceTests", dependencies: ["MeshTrace"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MeshMetricsTests", dependencies: ["MeshMetrics"]),
        .testTarget(name: "MeshResilienceTests", dependencies: ["MeshResilience", "MeshTestSupport"]),
        .testTarget(
            name: "MeshRateLimitTests",
            dependencies: ["MeshRateLimit", "MeshRedis", "MeshEventLoop", "MeshPosix", "MeshSync", "MeshTestSupport"]
        ),
        .testTarget(name: "MeshEventLoopTests", dependencies: ["MeshEventLoop", "MeshPosix", "MeshSync"]),
        .testTarget(name: "MeshPosixTests", dependencies: ["MeshPosix", "CLinux"]),
        .testTarget(
            name: "MeshProxyTests", dependencies: ["MeshProxy", "MeshConfig", "MeshHTTP1", "MeshJSON", "MeshTestSupport"]
        ),
        .testTarget(name: "MeshLogTests", dependencies: ["MeshLog", "MeshJSON"]),
        .testTarget(
            name: "ObservabilityTests",
            dependencies: [
                "MeshGateway", "MeshControl", "MeshOTLP", "MeshProxy", "MeshConfig", "MeshJSON", "MeshLog", "MeshPosix",
                "MeshResilience", "MeshTestSupport",
            ]
        ),
        .testTarget(
            name: "OTLPTests",
            dependencies: [
                "MeshGateway", "MeshOTLP", "MeshBlockingHTTP", "MeshProxy", "MeshConfig", "MeshJSON", "MeshPosix", "MeshTrace", "MeshResilience",
                "MeshSync",
            ]
        ),
        .testTarget(
            name: "IntegrationTests", dependencies: ["meshgate", "MeshGateway", "MeshDemo", "MeshTestSupport", "MeshPosix"]
        ),
        .testTarget(name: "OperationsTests", dependencies: ["meshgate", "MeshTestSupport", "MeshPosix", "MeshSync"]),
        .testTarget(
            name: "ControlPlaneTests",
            dependencies: [
                "MeshControl", "MeshGateway", "MeshConfig", "MeshJWT", "MeshCrypto", "MeshEventLoop", "MeshPosix", "MeshSync",
                "MeshTestSupport",
            ]
        ),

        // MARK: - Backends (SPEC §8): nothing in Sources/ imports these; `meshgate demo` spawns the binaries.
        .target(
            name: "ServiceKit",
            dependencies: [
                "MeshEventLoop", "MeshPosix", "MeshHTTP1", "MeshJSON", "MeshMetrics", "MeshTrace", "CSQLite",
                // gRPC over h2c (issue 16): the HTTP/2 codec, protobuf wire format, gRPC message framing.
                "MeshHTTP2", "MeshProtobuf", "MeshTranscode",
            ],
            path: "backends/ServiceKit"
        ),
        .target(
            name: "AuthService", dependencies: ["ServiceKit", "MeshCrypto", "MeshJWT", "MeshJSON", "MeshPosix"],
            path: "backends/auth",
            exclude: ["main"]
        ),
        .executableTarget(name: "AuthServiceMain", dependencies: ["AuthService"], path: "backends/auth/main"),
        .target(
            name: "ProfileService", dependencies: ["ServiceKit", "MeshJSON", "MeshTranscode"], path: "backends/profile",
            exclude: ["main"]
        ),
        .executableTarget(name: "ProfileServiceMain", dependencies: ["ProfileService"], path: "backends/profile/main"),
        .target(
            name: "RelationshipService", dependencies: ["ServiceKit", "MeshPosix"], path: "backends/relationships",
            exclude: ["main"]
        ),
        .executableTarget(
            name: "RelationshipServiceMain", dependencies: ["RelationshipService"], path: "backends/relationships/main"
        ),
        .testTarget(
            name: "BackendTests",
            dependencies: [
                "ServiceKit", "AuthService", "ProfileService", "RelationshipService", "MeshJWT", "MeshCrypto",
                "MeshJSON", "MeshTestSupport", "AuthServiceMain", "ProfileServiceMain", "RelationshipServiceMain",
                // The demo and end-to-end tests run the gateway binary too.
                "meshgate",
            ]
        ),
    ]
)
