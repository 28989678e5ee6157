import Foundation
import GRDB

/// The SQLite database: opening, migrations, and the schema the runtime's state lives in.
///
/// Migrations are append-only: once a migration has shipped it is never edited, a change
/// is a new migration, so every existing database upgrades the same way.
public final class ReplyflowDatabase: Sendable {
    /// A pool for files (readers run beside the writer, in WAL mode); a queue for
    /// in-memory and scratch databases.
    public let writer: any DatabaseWriter
    /// Checkpoints a WAL file off the writer (see `WALCheckpointer`); nil otherwise.
    private let checkpointer: WALCheckpointer?
    /// Server runs' snapshots and commits, on the writer (see `RunQueue`).
    let runs: RunQueue

    /// Opens (or creates) a database file, running pending migrations. A non-durable
    /// database (a scratch file) skips the journal and fsync: it is thrown away anyway.
    public convenience init(path: String, durable: Bool = true) throws {
        try self.init(path: path, durable: durable, checkpointing: .init())
    }

    /// How a durable file is checkpointed (see `WALCheckpointer`); tests shrink the numbers.
    struct Checkpointing {
        var interval: DispatchTimeInterval = .milliseconds(100)
        var restartPages = WALCheckpointer.defaultRestartPages
    }

    init(path: String, durable: Bool, checkpointing: Checkpointing) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        // Before the WAL pragma and the migrations, which would change someone else's file.
        try ForeignDatabaseCheck.check(path: path, migrations: Self.migrator.migrations, configuration: Self.configuration)
        var configuration = Self.configuration
        configuration.prepareDatabase { db in
            if durable {
                // WAL lets readers (history, reports) run while the server writes.
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                // The API's reads map the file instead of copying pages into each reader's
                // small default cache: a deep page of 100,000 chats scans the whole activity
                // index. Only readers: mapped pages count as the process's resident memory,
                // and a writer mapping the file (replay --db) grew to hundreds of megabytes.
                if db.configuration.readonly {
                    try db.execute(sql: "PRAGMA mmap_size = 268435456")
                } else {
                    // Checkpoints come from `WALCheckpointer`, not from inside a commit.
                    try db.execute(sql: "PRAGMA wal_autocheckpoint = \(WALCheckpointer.writerBackstopPages)")
                }
            } else {
                try db.execute(sql: "PRAGMA journal_mode = MEMORY")
                try db.execute(sql: "PRAGMA synchronous = OFF")
            }
        }
        if durable {
            writer = try DatabasePool(path: path, configuration: configuration)
        } else {
            writer = try DatabaseQueue(path: path, configuration: configuration)
        }
        try Self.migrator.migrate(writer)
        runs = RunQueue(writer: writer)
        checkpointer =
            durable
            ? try WALCheckpointer(path: path, writer: writer, interval: checkpointing.interval, restartPages: checkpointing.restartPages)
            : nil
    }

    /// A scratch database in a new temporary directory, for runs too big for memory
    /// (replay). Remove `directory` when done.
    ///
    /// It keeps every row a run writes, but not what only serves the server's reads,
    /// since nothing reads a scratch file before it is deleted: the API's chat list
    /// (`conversations`, whose trigger moves a chat to the top of two activity indexes on
    /// every message and made a replay 2.2 times slower) and the per-user message index
    /// behind the history endpoints (a quarter of a million-event replay's time), and the
    /// per-user and per-flow trace indexes behind the inbox's "why did the bot answer?" and
    /// the traces page.
    public static func scratch() throws -> (database: ReplyflowDatabase, directory: String) {
        let directory = NSTemporaryDirectory() + "replyflow-scratch-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let database = try ReplyflowDatabase(path: directory + "/state.sqlite", durable: false)
        try database.writer.write { db in
            try db.execute(
                sql: """
                    DROP TRIGGER conversations_follow_messages;
                    DROP INDEX messages_by_user;
                    DROP INDEX run_traces_by_user;
                    DROP INDEX run_traces_by_flow;
                    """)
        }
        return (database, directory)
    }

    /// A private in-memory database: scratch state for dry runs and tests.
    public init() throws {
        writer = try DatabaseQueue(configuration: Self.configuration)
        runs = RunQueue(writer: writer)
        checkpointer = nil
        try Self.migrator.migrate(writer)
    }

    static var configuration: Configuration {
        var configuration = Configuration()
        // Another process (a server still shutting down, `replyflow experiments report`)
        // may hold the file for a moment: wait for it rather than fail.
        configuration.busyMode = .timeout(10)
        return configuration
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runtime state") { db in
            try db.execute(
                sql: """
                    CREATE TABLE users (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT,
                        first_seen_at REAL NOT NULL,
                        last_seen_at REAL NOT NULL,
                        inbound_count INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    CREATE TABLE chats (
                        source TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        auto_mode INTEGER NOT NULL,
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (source, user_id)
                    ) WITHOUT ROWID;
                    CREATE TABLE messages (
                        id INTEGER PRIMARY KEY,
                        user_id TEXT NOT NULL,
                        source TEXT NOT NULL,
                        direction TEXT NOT NULL,
                        text TEXT NOT NULL,
                        media TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        flow TEXT
                    );
                    CREATE INDEX messages_by_user ON messages (user_id, id);
                    CREATE TABLE markers (
                        user_id TEXT NOT NULL,
                        key TEXT NOT NULL,
                        period TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        PRIMARY KEY (user_id, key, period)
                    ) WITHOUT ROWID;
                    CREATE TABLE group_forwards (
                        group_message_id INTEGER PRIMARY KEY,
                        user_id TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE experiment_assignments (
                        experiment TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        variant TEXT NOT NULL,
                        assigned_at REAL NOT NULL,
                        PRIMARY KEY (experiment, user_id)
                    ) WITHOUT ROWID;
                    CREATE TABLE experiment_exposures (
                        experiment TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        variant TEXT NOT NULL,
                        first_at REAL NOT NULL,
                        exposure_count INTEGER NOT NULL,
                        PRIMARY KEY (experiment, user_id)
                    ) WITHOUT ROWID;
                    CREATE TABLE experiment_conversions (
                        experiment TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        variant TEXT NOT NULL,
                        converted_at REAL NOT NULL,
                        PRIMARY KEY (experiment, user_id)
                    ) WITHOUT ROWID;
                    CREATE TABLE run_traces (
                        id INTEGER PRIMARY KEY,
                        at REAL NOT NULL,
                        event_kind TEXT NOT NULL,
                        trigger TEXT,
                        user_id TEXT,
                        note TEXT,
                        flow TEXT,
                        result TEXT,
                        reason TEXT,
                        variant TEXT
                    );
                    """)
        }
        migrator.registerMigration("v2: server") { db in
            try db.execute(
                sql: """
                    ALTER TABLE messages ADD COLUMN photo_url TEXT;
                    CREATE TABLE devices (
                        fcm_token TEXT PRIMARY KEY NOT NULL,
                        user_id TEXT NOT NULL,
                        platform TEXT,
                        device_id TEXT,
                        registered_at REAL NOT NULL,
                        updated_at REAL NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX devices_by_user ON devices (user_id);
                    CREATE TABLE outbox (
                        id INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL,
                        lane TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        status TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at REAL NOT NULL,
                        last_error TEXT,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL
                    );
                    CREATE INDEX outbox_pending ON outbox (status, id);
                    CREATE TABLE telegram_updates (
                        update_id INTEGER PRIMARY KEY,
                        received_at REAL NOT NULL
                    );
                    CREATE TABLE forum_topics (
                        user_id TEXT PRIMARY KEY NOT NULL,
                        thread_id INTEGER NOT NULL UNIQUE,
                        created_at REAL NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v3: conversations") { db in
            // One row per chat (source + platform chat id), kept by a trigger so every
            // writer of messages (the server, replay, tests) maintains it the same way.
            try db.execute(
                sql: """
                    CREATE TABLE conversations (
                        id INTEGER PRIMARY KEY,
                        source TEXT NOT NULL,
                        platform_chat_id TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        UNIQUE (source, platform_chat_id)
                    );
                    CREATE INDEX conversations_by_activity ON conversations (updated_at DESC, id DESC);
                    CREATE INDEX conversations_by_source_activity ON conversations (source, updated_at DESC, id DESC);
                    CREATE TRIGGER conversations_follow_messages AFTER INSERT ON messages BEGIN
                        INSERT INTO conversations (source, platform_chat_id, created_at, updated_at)
                        VALUES (NEW.source, NEW.user_id, NEW.created_at, NEW.created_at)
                        ON CONFLICT (source, platform_chat_id) DO UPDATE SET updated_at = max(updated_at, excluded.updated_at);
                    END;
                    INSERT INTO conversations (source, platform_chat_id, created_at, updated_at)
                        SELECT source, user_id, min(created_at), max(created_at) FROM messages GROUP BY source, user_id;
                    """)
        }
        migrator.registerMigration("v4: assistant memory, Brevo messages") { db in
            try db.execute(
                sql: """
                    -- The Responses API keeps a chat's memory under the id of its latest response.
                    CREATE TABLE assistant_memory (
                        source TEXT NOT NULL,
                        platform_chat_id TEXT NOT NULL,
                        previous_response_id TEXT NOT NULL,
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (source, platform_chat_id)
                    );
                    -- Brevo message ids already handled (received) or sent by us: a webhook
                    -- delivered twice, or our own message echoed back, is not handled again.
                    CREATE TABLE brevo_messages (
                        message_id TEXT PRIMARY KEY,
                        direction TEXT NOT NULL,
                        at REAL NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v5: forwards of every channel") { db in
            // Staff can answer Instagram and Telegram chats from the group too: a forward
            // remembers which channel its chat lives on.
            try db.execute(sql: "ALTER TABLE group_forwards ADD COLUMN source TEXT NOT NULL DEFAULT 'app'")
            // Who sent a message through the /api, when they said (`senderName`).
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN sender_name TEXT")
        }
        migrator.registerMigration("v6: chat counts") { db in
            // GET /api/chats answers totalItems on every page: counting 100,000 chats each
            // time cost more than the page itself, so the count is kept as chats appear.
            try db.execute(
                sql: """
                    CREATE TABLE conversation_counts (source TEXT PRIMARY KEY, total INTEGER NOT NULL) WITHOUT ROWID;
                    INSERT INTO conversation_counts (source, total) SELECT source, count(*) FROM conversations GROUP BY source;
                    CREATE TRIGGER conversation_counts_follow AFTER INSERT ON conversations BEGIN
                        INSERT INTO conversation_counts (source, total) VALUES (NEW.source, 1)
                        ON CONFLICT (source) DO UPDATE SET total = total + 1;
                    END;
                    """)
        }
        migrator.registerMigration("v7: Telegram inbox") { db in
            // Updates taken from getUpdates are kept here before Telegram is told they
            // arrived, so polling goes on while a chat waits for the AI and a crash loses
            // none of them. A row leaves once its update is handled.
            try db.execute(
                sql: """
                    CREATE TABLE telegram_inbox (
                        update_id INTEGER PRIMARY KEY,
                        body TEXT NOT NULL,
                        received_at REAL NOT NULL,
                        status TEXT NOT NULL DEFAULT 'pending',
                        last_error TEXT
                    );
                    """)
        }
        migrator.registerMigration("v8: platform message ids") { db in
            // The id a message has on its channel (Telegram's message_id, Brevo's message
            // id): what the seed's API called platformMessageId.
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN platform_message_id TEXT")
        }
        migrator.registerMigration("v9: parts sent per delivery") { db in
            // How many parts of a delivery (a long text split in pieces, albums) have gone
            // out, and the fingerprint of the parts they were counted in: a retry, or a
            // restart, resumes after them instead of sending them again.
            try db.execute(
                sql: """
                    ALTER TABLE outbox ADD COLUMN parts_sent INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE outbox ADD COLUMN parts_plan TEXT;
                    """)
        }
        migrator.registerMigration("v10: markers keyed by period first") { db in
            // Markers are only looked up whole (user, key, period), so the key's order is
            // free: with the period before the user, a day's markers are written side by
            // side at the end of the table instead of into random pages all over it, which
            // made each marker cost about 5 µs of a replay (pages evicted and read again).
            try db.execute(
                sql: """
                    CREATE TABLE markers_by_period (
                        user_id TEXT NOT NULL,
                        key TEXT NOT NULL,
                        period TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        PRIMARY KEY (key, period, user_id)
                    ) WITHOUT ROWID;
                    INSERT INTO markers_by_period (user_id, key, period, created_at) SELECT user_id, key, period, created_at FROM markers;
                    DROP TABLE markers;
                    ALTER TABLE markers_by_period RENAME TO markers;
                    """)
        }
        migrator.registerMigration("v11: one message per photo") { db in
            // Each photo of a message is a history item of its own (see `OneMessagePerPhoto`).
            try OneMessagePerPhoto.migrate(db)
        }
        migrator.registerMigration("v12: outbox items name the message they send") { db in
            // A reply's outbox item names its stored message, so the id the channel gives it
            // (Telegram's message_id, Brevo's message id) is noted on the message, and the
            // `/api` shows whether it went out. Older items name none and deliver as before.
            // From here on something stored refers to a message by its id: a later migration
            // that renumbers messages (as v11 did) must move these references too.
            try db.execute(
                sql: """
                    ALTER TABLE outbox ADD COLUMN message_id INTEGER;
                    CREATE INDEX outbox_by_message ON outbox (message_id) WHERE message_id IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v13: staff accounts, sessions, audit log") { db in
            // The admin panel's accounts, signed-in browsers and audit log (see `StaffSchema`).
            try StaffSchema.create(db)
        }
        migrator.registerMigration("v14: inbox") { db in
            try InboxSchema.migrate(db)
        }
        migrator.registerMigration("v15: traces keep what each flow did") { db in
            // "Why did the bot answer?" shows each flow's actions and their text: one line
            // per action (`reply: Hello!`), on the flow's own trace row. Older rows have none.
            try db.execute(sql: "ALTER TABLE run_traces ADD COLUMN actions TEXT")
        }
        migrator.registerMigration("v16: voice messages keep their transcript and file") { db in
            // What a transcribed voice or audio message said, and where its file is on its
            // channel, so the inbox shows the one and plays the other.
            try db.execute(
                sql: """
                    ALTER TABLE messages ADD COLUMN transcript TEXT;
                    ALTER TABLE messages ADD COLUMN audio_location TEXT;
                    """)
        }
        migrator.registerMigration("v17: flow versions") { db in
            // The flow studio's history of flow files (see `FlowVersionSchema`).
            try FlowVersionSchema.create(db)
        }
        migrator.registerMigration("v18: traces by flow") { db in
            // The traces page and `replyflow traces` filter by flow ("why didn't it fire?"),
            // and by no flow (`flow IS NULL`, which this index holds too). Without it a rare
            // flow's newest rows were a scan of every trace (a quarter of a second over 1.5
            // million rows in cache, seconds from disk); with it, under a millisecond. Its cost
            // is one more B-tree page per distinct flow of a run's commit (each flow's newest
            // entries sit together): +4 µs a commit with one flow per trigger, as the shipped
            // flows have, +11 µs with two, +29 µs with five (docs/benchmarks.md). Triggers and
            // results have no index: a page of them alone reads a bounded number of rows.
            try db.execute(sql: "CREATE INDEX run_traces_by_flow ON run_traces (flow, id)")
        }
        return migrator
    }
}
