// swift-tools-version: 6.0
// meshgate: dependencies stay empty (SPEC §1). System C libraries come in through
// module maps; everything else is the toolchain and Glibc.
import PackageDescription

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
        .target(name: "CLinux", cSettings: [.define("_GNU_SOURCE")]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto"),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3"),

        // MARK: - Leaves (no project dependencies)
        .target(name: "MeshHTTP1"),
        .target(name: "MeshJSON"),
        .target(name: "MeshTrace"),
        .target(name: "MeshMetrics"),
        .target(name: "MeshResilience"),

        // MARK: - Layers
        .target(name: "MeshPosix", dependencies: ["CLinux"]),
        .target(name: "MeshEventLoop", dependencies: ["MeshPosix", "CLinux"]),
        .target(name: "MeshCrypto", dependencies: ["CCrypto"]),
        .target(name: "MeshLog", dependencies: ["MeshJSON"]),
        .target(name: "MeshConfig", dependencies: ["MeshJSON"]),
        .target(name: "MeshJWT", dependencies: ["MeshCrypto", "MeshJSON"]),
        .target(
            name: "MeshProxy",
            dependencies: ["MeshHTTP1", "MeshConfig", "MeshJWT", "MeshTrace", "MeshMetrics", "MeshLog", "MeshResilience"]
        ),
        .target(name: "MeshGateway", dependencies: ["MeshProxy", "MeshEventLoop", "MeshPosix"]),
        .executableTarget(name: "meshgate", dependencies: ["MeshGateway"]),

        // MARK: - Tests
        .target(name: "MeshTestSupport", dependencies: ["MeshPosix"], path: "Tests/MeshTestSupport"),
        .testTarget(name: "MeshHTTP1Tests", dependencies: ["MeshHTTP1"]),
        .testTarget(name: "MeshJSONTests", dependencies: ["MeshJSON"]),
        .testTarget(name: "MeshConfigTests", dependencies: ["MeshConfig"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MeshCryptoTests", dependencies: ["MeshCrypto"]),
        .testTarget(name: "MeshJWTTests", dependencies: ["MeshJWT"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MeshTraceTests", dependencies: ["MeshTrace"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MeshMetricsTests", dependencies: ["MeshMetrics"]),
        .testTarget(name: "MeshResilienceTests", dependencies: ["MeshResilience"]),
        .testTarget(name: "MeshEventLoopTests", dependencies: ["MeshEventLoop", "MeshPosix"]),
        .testTarget(name: "MeshProxyTests", dependencies: ["MeshProxy"]),
        .testTarget(name: "IntegrationTests", dependencies: ["MeshGateway", "MeshTestSupport", "MeshPosix"]),

        // MARK: - Backends (SPEC §8): nothing in Sources/ imports these; `meshgate demo` spawns the binaries.
        .target(
            name: "ServiceKit",
            dependencies: [
                "MeshEventLoop", "MeshPosix", "MeshHTTP1", "MeshJSON", "MeshMetrics", "MeshTrace", "CSQLite",
            ],
            path: "backends/ServiceKit"
        ),
        .target(
            name: "AuthService", dependencies: ["ServiceKit", "MeshCrypto", "MeshJWT"], path: "backends/auth",
            exclude: ["main"]
        ),
        .executableTarget(name: "AuthServiceMain", dependencies: ["AuthService"], path: "backends/auth/main"),
        .target(name: "ProfileService", dependencies: ["ServiceKit"], path: "backends/profile", exclude: ["main"]),
        .executableTarget(name: "ProfileServiceMain", dependencies: ["ProfileService"], path: "backends/profile/main"),
        .target(
            name: "RelationshipService", dependencies: ["ServiceKit"], path: "backends/relationships", exclude: ["main"]
        ),
        .executableTarget(
            name: "RelationshipServiceMain", dependencies: ["RelationshipService"], path: "backends/relationships/main"
        ),
        .testTarget(
            name: "BackendTests",
            dependencies: [
                "ServiceKit", "AuthService", "ProfileService", "RelationshipService", "MeshJWT", "MeshCrypto",
                "MeshJSON", "AuthServiceMain", "ProfileServiceMain", "RelationshipServiceMain",
                // The demo and end-to-end tests run the gateway binary too.
                "meshgate",
            ]
        ),
    ]
)
