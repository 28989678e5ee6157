// swift-tools-version:6.2
import PackageDescription

// Swift 6.2 or later: the runtime's async requirements are `nonisolated(nonsending)`, and
// the server's shared state sits behind `Synchronization.Mutex` (macOS 15).
//
// Module layout (see docs/architecture.md):
// - Flows: the flow language and runtime. No networking, no database: a run reads a state view and returns its outcome.
// - Storage: SQLite through GRDB: the server's per-run commits, the bulk writer replay uses (Storage/Bulk), devices, outbox.
// - Channels: one client per outside service (Telegram Bot API, FCM HTTP v1), over AsyncHTTPClient.
// - SocketIO: Engine.IO v4 / Socket.IO v5 server on Hummingbird (WebSocket and long-polling).
// - Server: `replyflow serve`: the seed's HTTP API, webhooks, the outbox worker, wiring.
// - PostgresStorage: PostgreSQL through postgres-nio (no ORM): DATABASE_URL, the connection pool, the
//   append-only migrations, the import behind `replyflow migrate-to-postgres`, and the PostgreSQL side of
//   every store the server uses (runs held per chat, outbox lanes, the poller's election; docs/scaling.md).
// - ReplyflowCLI: the commands (serve, check, dry-run, test, replay, schema, experiments) as a library, so tests call them.
// - replyflow: the thin executable; socketio-test-server: the socket.io conformance-suite server;
//   replyflow-fakes: the fake Telegram and FCM servers as a program (benchmarks, trying it by hand).
// - TestServers: fake Telegram and FCM servers on loopback that record and check requests (tests, benchmarks).
let package = Package(
    name: "Replyflow",
    platforms: [.macOS(.v15)],
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
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.2.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.21.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.0.0"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.70.0"),
        // Its JSON decoder reads replay's event lines (see Sources/ReplyflowCLI/EventLines).
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        // The admin panel's password hashes (bcrypt).
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        // SHA-256 of session ids and asset contents (already built: jwt-kit depends on it).
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        // `/metrics`: the swift-metrics API the server records through, and the Prometheus
        // registry that renders it (see Sources/Server/Metrics).
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        // Tests only: reads openapi/openapi.json (OpenAPI 3.1) to hold the server to it.
        .package(url: "https://github.com/mattpolzin/OpenAPIKit.git", from: "6.4.0"),
        // Several `replyflow serve` on one PostgreSQL database (docs/scaling.md).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
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
            name: "PostgresStorage",
            dependencies: [
                "Flows", "Storage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // ConnectionPoolError: a pool that cannot connect, told apart from a wrong query.
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Channels",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SocketIO",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // HTTPParserError, to answer a request NIO could not parse.
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Server",
            dependencies: [
                "Flows",
                "Storage",
                "PostgresStorage",
                "Channels",
                "SocketIO",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // ByteBuffer, and the blocking-I/O thread pool for reading uploads.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // The admin panel: password hashes, SHA-256 of session ids and assets, its pages.
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
                // The factory and handler API only: handlers come from the app's own factory.
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "TestServers",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Logging", package: "swift-log"),
                // Posting webhook updates (FakeTelegramServer.postUpdate).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // Verifying the service-account JWT at the fake OAuth2 token endpoint.
                .product(name: "JWTKit", package: "jwt-kit"),
            ]
        ),
        .target(
            name: "ReplyflowCLI",
            dependencies: [
                "Flows",
                "Storage",
                "PostgresStorage",
                "Server",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["EventLines/replay_event.proto"]
        ),
        .executableTarget(name: "replyflow", dependencies: ["ReplyflowCLI"]),
        .executableTarget(
            name: "socketio-test-server",
            dependencies: [
                "SocketIO",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "replyflow-fakes", dependencies: ["TestServers"]),
        // The inbox queries' benchmark (bench/inbox/run.sh): seeds 100,000 chats, prints p50/p99.
        .executableTarget(name: "inbox-bench", dependencies: ["Storage", "Flows"], path: "bench/inbox/Sources"),
        // What several test targets share (a seeded random generator for property tests, a
        // private PostgreSQL cluster).
        .target(
            name: "TestSupport",
            dependencies: ["Flows", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "FlowsTests", dependencies: ["Flows", "TestSupport"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Flows", "TestSupport"]),
        .testTarget(
            name: "ReplyflowCLITests",
            dependencies: [
                "ReplyflowCLI", "Flows", "Storage", "PostgresStorage", "TestSupport",
                // Seeding the tables no Storage API writes, for the migrate-to-postgres test.
                .product(name: "GRDB", package: "GRDB.swift"),
                // Reading the PostgreSQL side back.
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "PostgresStorageTests",
            dependencies: [
                "PostgresStorage", "Storage", "Flows", "TestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "ChannelsTests",
            dependencies: ["Channels", "TestServers", "TestSupport", .product(name: "Hummingbird", package: "hummingbird")]
        ),
        .testTarget(
            name: "SocketIOTests",
            dependencies: [
                "SocketIO", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // client_check.py is run by PythonClientTests, not compiled.
            exclude: ["python"]
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "TestServers", "Flows", "Storage", "Channels", "SocketIO", "TestSupport", "PostgresStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                // Reading PostgreSQL back in the outbox worker's several-server test.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
            ],
            exclude: ["python"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
