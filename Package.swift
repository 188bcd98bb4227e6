// swift-tools-version: 6.0
//
// Warden: field encryption, authentication, sessions and audit for backend teams.
// Layers and module boundaries are described in docs/architecture.md; inner modules never import outer ones.
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "warden",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "WardenCore", targets: ["WardenCore"]),
        .library(name: "WardenCrypto", targets: ["WardenCrypto"]),
        .executable(name: "warden", targets: ["warden"]),
        .executable(name: "warden-bench", targets: ["warden-bench"]),
        .executable(name: "warden-fuzz", targets: ["warden-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "WardenCore",
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
        .executableTarget(
            name: "warden",
            dependencies: [
                "WardenCore",
                "WardenCrypto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "warden-bench",
            dependencies: [
                "WardenCore",
                "WardenCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "warden-example",
            dependencies: ["WardenCrypto"],
            path: "Examples/FieldEncryption",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "warden-fuzz",
            dependencies: ["WardenCrypto"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenCryptoTests",
            dependencies: [
                "WardenCore",
                "WardenCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WardenCLITests",
            dependencies: ["WardenCore"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
