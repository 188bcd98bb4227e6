// swift-tools-version: 6.2
//
// Warden: field encryption, authentication, sessions and audit for backend teams.
// Layers and module boundaries are described in docs/architecture.md; inner modules never import outer ones.
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    // Every module whose members a file uses is imported by that file (as Hummingbird does).
    .enableUpcomingFeature("MemberImportVisibility"),
    // Warnings are errors in Warden's own targets (not in its dependencies).
    .treatAllWarnings(as: .error),
]

/// How the server and benchmark binaries are linked in release builds on Linux (docs/benchmarks.md, "What
/// the static binary maps"): with LLVM's linker and relative relocations packed (`DT_RELR`, glibc 2.36 or later),
/// the 172,000 relocations of a position-independent binary take 34 KB instead of 4.2 MB, and without
/// exporting every Swift symbol to the dynamic linker (`--static-swift-stdlib` exports them all). Both were
/// pages read at every start and kept resident: the idle server is 6 MB smaller. The binary stays
/// position-independent (ASLR), and its imports are bound at start (`-z now`: the whole GOT read-only
/// after relocation, full RELRO).
let releaseLinking: [LinkerSetting] = [
    .unsafeFlags(
        [
            "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic",
            "-Xlinker", "-z", "-Xlinker", "now",
        ],
        .when(platforms: [.linux], configuration: .release))
]

/// The server's release link also places the functions that start-up and the common requests run
/// together, in the order `scripts/order-text.sh` measured (`scripts/warden.order`): the kernel maps code
/// in 64 KB windows around each page it faults in, so scattered start-up code kept 25 MB of the binary
/// resident in an idle server that used 9 MB of it. Effective with the functions in sections of their own,
/// as `scripts/build-release.sh` compiles them; names the file no longer matches are skipped.
let serverReleaseLinking: [LinkerSetting] =
    releaseLinking + [
        .unsafeFlags(
            [
                "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/scripts/warden.order",
                "-Xlinker", "--no-warn-symbol-ordering",
            ], .when(platforms: [.linux], configuration: .release))
    ]

let package = Package(
    name: "warden",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "WardenCore", targets: ["WardenCore"]),
        .library(name: "WardenCrypto", targets: ["WardenCrypto"]),
        .library(name: "WardenAudit", targets: ["WardenAudit"]),
        .library(name: "WardenAccess", targets: ["WardenAccess"]),
        .library(name: "WardenSQL", targets: ["WardenSQL"]),
        .library(name: "WardenRedis", targets: ["WardenRedis"]),
        .library(name: "WardenSessions", targets: ["WardenSessions"]),
        .library(name: "WardenMFA", targets: ["WardenMFA"]),
        .library(name: "QRCode", targets: ["QRCode"]),
        .library(name: "WardenDelivery", targets: ["WardenDelivery"]),
        .library(name: "WardenAuth", targets: ["WardenAuth"]),
        .library(name: "WardenHTTP", targets: ["WardenHTTP"]),
        .library(name: "WardenTLS", targets: ["WardenTLS"]),
        .library(name: "WardenMigrate", targets: ["WardenMigrate"]),
        .library(name: "WardenWebAuthn", targets: ["WardenWebAuthn"]),
        .library(name: "WardenApp", targets: ["WardenApp"]),
        .executable(name: "warden", targets: ["warden"]),
        .executable(name: "warden-bench", targets: ["warden-bench"]),
        .executable(name: "warden-fuzz", targets: ["warden-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Settings from flags, the environment and a JSON or YAML file; Yams to list a YAML file's keys.
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: ["JSON", "YAML"]),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // OTLP/HTTP only: the default traits would also build the gRPC exporter and its transport.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .target(
            name: "WardenCore",
            dependencies: [
                // The metrics API only (no backend, no I/O): round trips are timed where they happen.
                .product(name: "CoreMetrics", package: "swift-metrics"),
                // The tracing API only (no exporter): spans are opened where the work happens.
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WardenCrypto",
            dependencies: [
                "WardenCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WardenAudit",
            dependencies: [
                "WardenCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WardenAccess",
            dependencies: [
                "WardenCore",
                "WardenCrypto",
                "WardenAudit",
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WardenSessions",
            dependencies: [
                "WardenCore",
                "WardenCrypto",
                "WardenAudit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "QRCode",
            swiftSettings: strictSettings
        ),
        .target(
            name: "WardenDelivery",
            dependencies: [
                "WardenMFA",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WardenMFA",
            dependencies: [
                "WardenCore",
                "WardenCrypto",
                "WardenAudit",
                "QRCode",
                "WardenWebAuthn",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WardenWebAuthn",
            dependencies: [
                "WardenCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WardenAuth",
            dependencies: [
                "WardenCore", "WardenCrypto", "WardenAudit", "WardenAccess", "WardenSessions", "WardenMFA",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WardenTLS",
            dependencies: [
                "WardenCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The Swift runtime's global-executor hook, reached without `dlsym` (WardenHTTP/EventLoopExecutor.swift).
        .target(name: "CWardenExecutorHook"),
        .target(
            name: "WardenHTTP",
            dependencies: [
                "WardenCore", "WardenCrypto", "WardenAudit", "WardenAccess", "WardenSessions", "WardenMFA", "WardenAuth", "QRCode", "WardenWebAuthn",
                "CWardenExecutorHook",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WardenSQL",
            dependencies: [
                "WardenCore",
                "WardenCrypto",
                "WardenAudit",
                "WardenAccess",
                "WardenSessions",
                "WardenMFA",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WardenMigrate",
            dependencies: [
                "WardenCore", "WardenCrypto", "WardenAudit", "WardenAccess", "WardenSQL", "WardenAuth",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WardenRedis",
            dependencies: [
                "WardenCore",
                "WardenSessions",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WardenApp",
            dependencies: [
                "WardenCore", "WardenCrypto", "WardenAudit", "WardenAccess", "WardenSQL", "WardenMFA", "WardenSessions", "WardenRedis",
                "WardenDelivery", "WardenHTTP", "WardenTLS", "WardenAuth", "WardenMigrate", "WardenWebAuthn",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "warden",
            dependencies: [
                "WardenApp",
                "WardenCore",
                "WardenCrypto",
                "WardenAudit",
                "WardenAccess",
                "WardenSQL",
                "WardenMFA",
                "WardenSessions",
                "WardenRedis",
                "WardenDelivery",
                "WardenHTTP",
                "WardenTLS",
                "WardenAuth",
                "WardenMigrate",
                "WardenWebAuthn",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                // The only module that links an exporter: domain modules see the Tracing API alone.
                .product(name: "OTel", package: "swift-otel"),
            ],
            swiftSettings: strictSettings,
            linkerSettings: serverReleaseLinking
        ),
        .executableTarget(
            name: "warden-bench",
            dependencies: [
                "WardenCore",
                "WardenCrypto",
                "WardenAudit",
                "WardenAccess",
                "WardenSQL",
                "WardenSessions",
                "WardenRedis",
                "WardenMFA",
                "WardenHTTP",
                "QRCode",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings,
            linkerSettings: releaseLinking
        ),
        .executableTarget(
            name: "warden-example",
            dependencies: ["WardenCrypto"],
            path: "Examples/FieldEncryption",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "warden-fuzz",
            dependencies: ["WardenCrypto", "WardenRedis", "WardenDelivery", "WardenWebAuthn", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenCryptoTests",
            dependencies: [
                "WardenCore",
                "WardenTestSupport",
                "WardenCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WardenTestSupport",
            dependencies: ["WardenSQL", "WardenRedis", .product(name: "SQLKit", package: "sql-kit")],
            path: "Tests/Support",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenTLSTests",
            dependencies: [
                "WardenTLS", "WardenTestSupport",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            exclude: ["python"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenHTTPTests",
            dependencies: [
                "WardenHTTP", "WardenCore", "WardenCrypto", "WardenAudit", "WardenAccess", "WardenSessions", "WardenMFA", "WardenAuth", "WardenWebAuthn",
                "WardenApp", "WardenTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenAppTests",
            dependencies: [
                "WardenApp", "WardenHTTP", "WardenSessions", "WardenAuth", "WardenAudit", "WardenCore", "WardenCrypto", "WardenSQL", "WardenTestSupport",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenDeliveryTests",
            dependencies: [
                "WardenDelivery", "WardenMFA", "WardenCore", "WardenCrypto", "WardenTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["python"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "QRCodeTests",
            dependencies: ["QRCode", "WardenTestSupport"],
            exclude: ["python"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenMFATests",
            dependencies: [
                "WardenCore", "WardenCrypto", "WardenAudit", "WardenMFA", "WardenSQL", "WardenTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["python"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenWebAuthnTests",
            dependencies: [
                "WardenWebAuthn", "WardenCore", "WardenTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["python"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenAccessTests",
            dependencies: ["WardenCore", "WardenCrypto", "WardenAudit", "WardenAccess", "WardenTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenSQLTests",
            dependencies: [
                "WardenCore", "WardenCrypto", "WardenAudit", "WardenAccess", "WardenSQL", "WardenTestSupport",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenRedisTests",
            dependencies: [
                "WardenRedis", "WardenTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenSessionsTests",
            dependencies: [
                "WardenCore", "WardenCrypto", "WardenAudit", "WardenSessions", "WardenSQL", "WardenRedis", "WardenTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenMigrateTests",
            dependencies: ["WardenCore", "WardenCrypto", "WardenAudit", "WardenSQL", "WardenMigrate", "WardenTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenCLITests",
            dependencies: ["WardenCore", "WardenTestSupport"],
            exclude: ["python"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
