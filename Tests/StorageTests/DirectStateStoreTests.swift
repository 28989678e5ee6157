import Foundation
import Testing

@testable import Flows
@testable import Storage
import TestSupport

// The runtime's state in SQLite: every `FlowStateStore` method must round-trip, in an
// in-memory database and in a file that survives being closed and reopened.

/// Where a test's database lives.
enum DatabaseKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case memory
    case file

    var testDescription: String { rawValue }

    func open() throws -> ReplyflowDatabase {
        switch self {
        case .memory: return try ReplyflowDatabase()
        case .file: return try ReplyflowDatabase(path: temporaryDatabasePath())
        }
    }
}

/// A path in a fresh temporary directory (the directory is created by the database).
/// One folder per test process for every temporary database, removed when the process exits.
let storageTestsScratch: URL = {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("replyflow-storage-tests-\(ProcessInfo.processInfo.processIdentifier)")
    atexit { try? FileManager.default.removeItem(at: storageTestsScratch) }
    return root
}()

func temporaryDatabasePath() -> String {
    storageTestsScratch
        .appendingPathComponent(UUID().uuidString)
        .appendingPathComponent("nested/state.sqlite").path
}

private let t0 = Date(timeIntervalSince1970: 1_795_600_000)

@Suite("DirectStateStore: each method round-trips", .machineShare)
struct DirectStateStoreTests {
    @Test("noteUser returns how many inbound messages the user sent before", arguments: DatabaseKind.allCases)
    func noteUser(kind: DatabaseKind) throws {
        let store = DirectStateStore(database: try kind.open())
        #expect(store.noteUser(id: "42", name: "Анна", at: t0, inbound: true) == 0)
        #expect(store.noteUser(id: "42", name: nil, at: t0.addingTimeInterval(1), inbound: true) == 1)
        // A message to the user (not from them) does not count.
        #expect(store.noteUser(id: "42", name: nil, at: t0.addingTimeInterval(2), inbound: false) == 2)
        #expect(store.noteUser(id: "42", name: nil, at: t0.addingTimeInterval(3), inbound: true) == 2)
        #expect(store.noteUser(id: "42", name: nil, at: t0.addingTimeInterval(4), inbound: true) == 3)
        // Users are counted separately; a user first seen through an outbound message starts at 0.
        #expect(store.noteUser(id: "7", name: nil, at: t0, inbound: false) == 0)
        #expect(store.noteUser(id: "7", name: nil, at: t0, inbound: true) == 0)
        #expect(store.noteUser(id: "7", name: nil, at: t0, inbound: true) == 1)
        #expect(store.takeError() == nil)
    }

    @Test("auto mode: nil for an unseen chat, then what was set, per source", arguments: DatabaseKind.allCases)
    func autoMode(kind: DatabaseKind) throws {
        let store = DirectStateStore(database: try kind.open())
        #expect(store.autoMode(source: .instagram, userID: "42") == nil)
        store.setAutoMode(false, source: .instagram, userID: "42", at: t0)
        #expect(store.autoMode(source: .instagram, userID: "42") == false)
        store.setAutoMode(true, source: .instagram, userID: "42", at: t0.addingTimeInterval(5))
        #expect(store.autoMode(source: .instagram, userID: "42") == true)
        #expect(store.autoMode(source: .telegram, userID: "42") == nil)
        #expect(store.autoMode(source: .instagram, userID: "43") == nil)
        #expect(store.takeError() == nil)
    }

    @Test("markers: present only for the same user, key and period; setting twice is harmless", arguments: DatabaseKind.allCases)
    func markers(kind: DatabaseKind) throws {
        let store = DirectStateStore(database: try kind.open())
        #expect(!store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-20"))
        store.setMarker(userID: "42", key: "history_fetch", period: "2026-11-20", at: t0)
        store.setMarker(userID: "42", key: "history_fetch", period: "2026-11-20", at: t0.addingTimeInterval(10))
        #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-20"))
        #expect(!store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-21"))
        #expect(!store.hasMarker(userID: "42", key: "once:Greeting", period: "2026-11-20"))
        #expect(!store.hasMarker(userID: "43", key: "history_fetch", period: "2026-11-20"))
        #expect(store.takeError() == nil)
    }

    @Test("messages: ids increase, and StateQueries reads them back oldest first with every field", arguments: DatabaseKind.allCases)
    func messages(kind: DatabaseKind) throws {
        let database = try kind.open()
        let store = DirectStateStore(database: database)
        let written = [
            StoredMessage(userID: "42", source: .app, direction: .user, text: "Где мой заказ?", media: .photo, at: t0),
            StoredMessage(userID: "7", source: .telegram, direction: .user, text: "other user", at: t0.addingTimeInterval(1)),
            StoredMessage(userID: "42", source: .app, direction: .support, text: "Заказ в пути", at: t0.addingTimeInterval(2), flow: "Deliver"),
            StoredMessage(userID: "42", source: .instagram, direction: .support, text: "", media: .voice, at: t0.addingTimeInterval(3.5), flow: "Auto"),
        ]
        let ids = written.map { store.storeMessage($0) }
        #expect(ids == ids.sorted() && Set(ids).count == ids.count, "ids \(ids) must increase")
        #expect(ids.allSatisfy { $0 > 0 })
        let queries = StateQueries(database: database)
        #expect(try queries.messages(userID: "42") == [written[0], written[2], written[3]])
        #expect(try queries.messages(userID: "7") == [written[1]])
        #expect(try queries.messages(userID: "nobody").isEmpty)
        #expect(try queries.count("messages") == 4)
        #expect(store.takeError() == nil)
    }

    @Test("group forwards: a group message id leads back to its user", arguments: DatabaseKind.allCases)
    func groupForwards(kind: DatabaseKind) throws {
        let store = DirectStateStore(database: try kind.open())
        #expect(store.userForGroupMessage(1000) == nil)
        store.saveGroupForward(groupMessageID: 1000, userID: "42", at: t0)
        store.saveGroupForward(groupMessageID: 1001, userID: "7", at: t0)
        #expect(store.userForGroupMessage(1000) == "42")
        #expect(store.userForGroupMessage(1001) == "7")
        #expect(store.userForGroupMessage(999) == nil)
        #expect(store.takeError() == nil)
    }

    @Test("experiment assignments round-trip per experiment and user", arguments: DatabaseKind.allCases)
    func assignments(kind: DatabaseKind) throws {
        let store = DirectStateStore(database: try kind.open())
        #expect(store.assignment(experiment: "e1", userID: "42") == nil)
        store.saveAssignment(experiment: "e1", userID: "42", variant: "warm", at: t0)
        store.saveAssignment(experiment: "e2", userID: "42", variant: "formal", at: t0)
        #expect(store.assignment(experiment: "e1", userID: "42") == "warm")
        #expect(store.assignment(experiment: "e2", userID: "42") == "formal")
        #expect(store.assignment(experiment: "e1", userID: "43") == nil)
        #expect(store.takeError() == nil)
    }

    @Test("exposures keep the first variant and time; StateQueries counts distinct users", arguments: DatabaseKind.allCases)
    func exposures(kind: DatabaseKind) throws {
        let database = try kind.open()
        let store = DirectStateStore(database: database)
        #expect(store.firstExposure(experiment: "e1", userID: "42") == nil)
        store.recordExposure(experiment: "e1", variant: "warm", userID: "42", at: t0)
        store.recordExposure(experiment: "e1", variant: "warm", userID: "42", at: t0.addingTimeInterval(86_400))
        store.recordExposure(experiment: "e1", variant: "formal", userID: "7", at: t0.addingTimeInterval(5))
        let first = try #require(store.firstExposure(experiment: "e1", userID: "42"))
        #expect(first.variant == "warm")
        #expect(first.at == t0)
        #expect(store.firstExposure(experiment: "e2", userID: "42") == nil)

        #expect(store.recordConversion(experiment: "e1", variant: "warm", userID: "42", at: t0.addingTimeInterval(60)))
        let counts = try StateQueries(database: database).experimentCounts(experiment: "e1")
        #expect(counts["warm"]?.exposures == 1, "two exposures of one user are one exposed user")
        #expect(counts["warm"]?.conversions == 1)
        #expect(counts["formal"]?.exposures == 1)
        #expect(counts["formal"]?.conversions == 0)
        #expect(try StateQueries(database: database).experimentKeys() == ["e1"])
        #expect(store.takeError() == nil)
    }

    @Test("recordConversion is true the first time and false after", arguments: DatabaseKind.allCases)
    func conversionOnce(kind: DatabaseKind) throws {
        let store = DirectStateStore(database: try kind.open())
        #expect(store.recordConversion(experiment: "e1", variant: "warm", userID: "42", at: t0))
        #expect(!store.recordConversion(experiment: "e1", variant: "warm", userID: "42", at: t0.addingTimeInterval(10)))
        #expect(store.recordConversion(experiment: "e1", variant: "warm", userID: "43", at: t0))
        #expect(store.recordConversion(experiment: "e2", variant: "warm", userID: "42", at: t0))
        #expect(store.takeError() == nil)
    }

    @Test("traces: one row per flow outcome, one row for a run with no flow", arguments: DatabaseKind.allCases)
    func traces(kind: DatabaseKind) throws {
        let database = try kind.open()
        let store = DirectStateStore(database: database)
        let event = InboundEvent(kind: .appMessage, at: t0, userID: "42", text: "hi")
        var result = RunResult(trigger: .appMessage, userID: "42")
        result.flows = [
            FlowOutcome(name: "A", result: .ran, reason: nil, variant: "warm"),
            FlowOutcome(name: "B", result: .skipped, reason: "auto_mode is off, the flow wants on", variant: nil),
        ]
        store.recordTrace(result, event: event)
        store.recordTrace(RunResult(trigger: nil, note: "no user", userID: nil), event: event)
        #expect(try StateQueries(database: database).count("run_traces") == 3)
        #expect(store.takeError() == nil)
    }

    @Test("runs over a snapshot, each committed whole: the next run reads what the last committed", arguments: DatabaseKind.allCases)
    func runsCommittedOneByOne(kind: DatabaseKind) async throws {
        let database = try kind.open()
        let yaml = "name: Echo\non: app_message\nif:\n  first_message: true\ndo:\n  - reply: \"Got: {{message.text}}\"\n"
        let set = try #require(FlowLoader.load(files: [(path: "echo.yaml", data: Data(yaml.utf8))]).flowSet)
        let runtime = FlowRuntime(flowSet: set)
        func run(_ event: InboundEvent) async throws -> (RunResult, CommitReceipt?) {
            let snapshot = try await database.snapshot(for: runtime.reads(for: event))
            let outcome = await runtime.run(event, view: snapshot, services: RecordingServices())
            return (outcome.result, try await database.commit(RunRecord(outcome, idempotencyKey: .telegramUpdate(Int64(event.text?.count ?? 0)))))
        }
        let (first, firstReceipt) = try await run(InboundEvent(kind: .appMessage, at: t0, userID: "42", text: "one"))
        let (second, _) = try await run(InboundEvent(kind: .appMessage, at: t0.addingTimeInterval(1), userID: "42", text: "two!"))
        #expect(first.actions.map(\.text) == ["Got: one"])
        #expect(second.actions.isEmpty, "first_message must read the committed count")
        #expect(firstReceipt?.messageIDs.count == 2)
        let messages = try StateQueries(database: database).messages(userID: "42")
        #expect(messages.map(\.text) == ["one", "Got: one", "two!"])
        #expect(messages.map(\.direction) == [.user, .support, .user])
        #expect(messages[1].flow == "Echo")
        #expect(try StateQueries(database: database).count("run_traces") == 2)

        // The same key again (the same input delivered twice): nothing of it is written.
        let (_, again) = try await run(InboundEvent(kind: .appMessage, at: t0.addingTimeInterval(2), userID: "42", text: "one"))
        #expect(again == nil)
        #expect(try StateQueries(database: database).messages(userID: "42").count == 3)
        #expect(try StateQueries(database: database).count("run_traces") == 2)
    }
}

@Suite("DirectStateStore: a database file", .machineShare)
struct SQLiteFileTests {
    @Test("state written to a file is there after reopening it; reopening runs no migration twice")
    func persistsAcrossReopen() throws {
        let path = temporaryDatabasePath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        do {
            let store = DirectStateStore(database: try ReplyflowDatabase(path: path))
            _ = store.noteUser(id: "42", name: "Анна", at: t0, inbound: true)
            store.setAutoMode(false, source: .telegram, userID: "42", at: t0)
            store.setMarker(userID: "42", key: "history_fetch", period: "2026-11-20", at: t0)
            _ = store.storeMessage(StoredMessage(userID: "42", source: .telegram, direction: .user, text: "persisted", at: t0))
            store.saveGroupForward(groupMessageID: 1000, userID: "42", at: t0)
            store.saveAssignment(experiment: "e1", userID: "42", variant: "warm", at: t0)
            store.recordExposure(experiment: "e1", variant: "warm", userID: "42", at: t0)
            #expect(store.recordConversion(experiment: "e1", variant: "warm", userID: "42", at: t0))
            #expect(store.takeError() == nil)
        }
        #expect(FileManager.default.fileExists(atPath: path))

        for _ in 0..<2 {
            let database = try ReplyflowDatabase(path: path)
            let store = DirectStateStore(database: database)
            #expect(store.noteUser(id: "42", name: nil, at: t0, inbound: false) == 1)
            #expect(store.autoMode(source: .telegram, userID: "42") == false)
            #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-20"))
            #expect(store.userForGroupMessage(1000) == "42")
            #expect(store.assignment(experiment: "e1", userID: "42") == "warm")
            #expect(store.firstExposure(experiment: "e1", userID: "42")?.at == t0)
            #expect(!store.recordConversion(experiment: "e1", variant: "warm", userID: "42", at: t0))
            let queries = StateQueries(database: database)
            #expect(try queries.messages(userID: "42").map(\.text) == ["persisted"])
            #expect(try queries.count("grdb_migrations") == ReplyflowDatabase.migrator.migrations.count, "each migration is recorded once")
            #expect(store.takeError() == nil)
        }
    }

    @Test("an in-memory database is private: a second one starts empty")
    func inMemoryIsPrivate() throws {
        let first = DirectStateStore(database: try ReplyflowDatabase())
        _ = first.storeMessage(StoredMessage(userID: "42", source: .app, direction: .user, text: "x", at: t0))
        let second = try ReplyflowDatabase()
        #expect(try StateQueries(database: second).count("messages") == 0)
    }

    @Test("a path that cannot be a database fails to open instead of crashing")
    func unopenablePath() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replyflow-dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // The path is an existing directory.
        #expect(throws: (any Error).self) { try ReplyflowDatabase(path: directory.path) }
    }
}
