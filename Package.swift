// swift-tools-version:6.0
import PackageDescription

// Module layout (see docs/architecture in the README):
// - Flows: the flow language and runtime. No networking, no database: state and effects are protocols.
// - Storage: SQLite state through GRDB, implementing the runtime's state protocol.
// - ReplyflowCLI: the commands (check, dry-run, test, replay, schema, experiments) as a library, so tests call them.
// - replyflow: the thin executable.
let package = Package(
    name: "Replyflow",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "replyflow", targets: ["replyflow"]),
        .library(name: "Flows", targets: ["Flows"]),
        .library(name: "Storage", targets: ["Storage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "Flows",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        .target(
            name: "Storage",
            dependencies: [
                "Flows",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The SQLite C API GRDB itself links, for binding bulk writes directly.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "ReplyflowCLI",
            dependencies: [
                "Flows",
                "Storage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "replyflow", dependencies: ["ReplyflowCLI"]),
        .testTarget(name: "FlowsTests", dependencies: ["Flows"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Flows"]),
        .testTarget(name: "ReplyflowCLITests", dependencies: ["ReplyflowCLI", "Flows", "Storage"]),
    ],
    swiftLanguageModes: [.v6]
)
