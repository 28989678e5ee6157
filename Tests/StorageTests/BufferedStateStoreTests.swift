import Foundation
import GRDB
import Storage
import TestSupport
import Testing

@testable import Flows

// The buffered store answers the runtime from memory and writes SQLite in batches. Two
// promises are checked here: every answer is the one `DirectStateStore` gives for the same
// calls, and after `finish()` the file holds exactly the rows `DirectStateStore` writes,
// whatever the flush and cache sizes, across cache drops and across reopening the file.

private let t0 = Date(timeIntervalSince1970: 1_795_600_000)

/// Removes the whole temporary directory `temporaryDatabasePath()` made for `path`.
private func removeTemporaryDatabase(_ path: String) {
    let root = URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent()
    guard root.lastPathComponent.hasPrefix("replyflow-storage-tests-") else { return }
    try? FileManager.default.removeItem(at: root)
}

/// Flush and cache sizes for a buffered store.
struct BufferTuning: Sendable, CustomTestStringConvertible {
    var flushThreshold: Int
    var cacheLimit: Int
    var forwardCacheLimit: Int
    var userNoteLimit = 50_000

    var testDescription: String { "flush \(flushThreshold), cache \(cacheLimit), forwards \(forwardCacheLimit), user notes \(userNoteLimit)" }

    /// The defaults: everything stays in memory until `finish()`.
    static let defaults = BufferTuning(flushThreshold: 8_000, cacheLimit: 500_000, forwardCacheLimit: 100_000)
    static let all: [BufferTuning] = [
        .defaults,
        // A flush after every write, and the caches dropped at almost every flush.
        BufferTuning(flushThreshold: 1, cacheLimit: 5, forwardCacheLimit: 4),
        BufferTuning(flushThreshold: 3, cacheLimit: 5, forwardCacheLimit: 4, userNoteLimit: 1),
        // Nothing flushes on its own: only reads of dropped forwards flush (and then drop the caches).
        BufferTuning(flushThreshold: 1_000_000, cacheLimit: 5, forwardCacheLimit: 3),
        BufferTuning(flushThreshold: 7, cacheLimit: 40, forwardCacheLimit: 100_000, userNoteLimit: 2),
    ]

    func open(_ database: ReplyflowDatabase) throws -> BufferedStateStore {
        let store = try BufferedStateStore(database: database)
        store.flushThreshold = flushThreshold
        store.cacheLimit = cacheLimit
        store.forwardCacheLimit = forwardCacheLimit
        store.userNoteLimit = userNoteLimit
        return store
    }
}

// MARK: Calls replayed on both stores

/// One `FlowStateStore` call. Its time is the step's (see `perform`).
enum StateCall: CustomStringConvertible {
    case noteUser(String, name: String?, inbound: Bool)
    case autoMode(ChatSource, String)
    case setAutoMode(Bool, ChatSource, String)
    case hasMarker(String, key: String, period: String)
    case setMarker(String, key: String, period: String)
    case storeMessage(String, ChatSource, StoredMessage.Direction, text: String, media: MediaKind, flow: String?)
    case saveForward(Int64, String)
    case userForGroupMessage(Int64)
    case assignment(String, String)
    case saveAssignment(String, String, variant: String)
    case recordExposure(String, String, variant: String)
    case firstExposure(String, String)
    case recordConversion(String, String, variant: String)
    case trace(EventKind, userID: String?, flows: [FlowOutcome], note: String?)

    var description: String {
        switch self {
        case let .noteUser(id, name, inbound): "noteUser(\(id), name: \(name ?? "nil"), inbound: \(inbound))"
        case let .autoMode(source, user): "autoMode(\(source.rawValue), \(user))"
        case let .setAutoMode(on, source, user): "setAutoMode(\(on), \(source.rawValue), \(user))"
        case let .hasMarker(user, key, period): "hasMarker(\(user), \(key), \(period))"
        case let .setMarker(user, key, period): "setMarker(\(user), \(key), \(period))"
        case let .storeMessage(user, source, direction, text, _, _): "storeMessage(\(user), \(source.rawValue), \(direction.rawValue), \(text))"
        case let .saveForward(id, user): "saveGroupForward(\(id), \(user))"
        case let .userForGroupMessage(id): "userForGroupMessage(\(id))"
        case let .assignment(experiment, user): "assignment(\(experiment), \(user))"
        case let .saveAssignment(experiment, user, variant): "saveAssignment(\(experiment), \(user), \(variant))"
        case let .recordExposure(experiment, user, variant): "recordExposure(\(experiment), \(user), \(variant))"
        case let .firstExposure(experiment, user): "firstExposure(\(experiment), \(user))"
        case let .recordConversion(experiment, user, variant): "recordConversion(\(experiment), \(user), \(variant))"
        case let .trace(kind, user, flows, _): "recordTrace(\(kind.rawValue), \(user ?? "nil"), \(flows.count) flows)"
        }
    }
}

private func time(ofStep step: Int) -> Date { t0.addingTimeInterval(Double(step) * 61.5) }

/// Runs `calls` (numbered from `firstStep`, which sets their times) and returns every answer.
private func perform(_ calls: [StateCall], on store: any StateCalls, firstStep: Int = 0) -> [String] {
    calls.enumerated().map { offset, call in
        let at = time(ofStep: firstStep + offset)
        switch call {
        case let .noteUser(id, name, inbound):
            return "\(store.noteUser(id: id, name: name, at: at, inbound: inbound))"
        case let .autoMode(source, user):
            return String(describing: store.autoMode(source: source, userID: user))
        case let .setAutoMode(on, source, user):
            store.setAutoMode(on, source: source, userID: user, at: at)
        case let .hasMarker(user, key, period):
            return "\(store.hasMarker(userID: user, key: key, period: period))"
        case let .setMarker(user, key, period):
            store.setMarker(userID: user, key: key, period: period, at: at)
        case let .storeMessage(user, source, direction, text, media, flow):
            let message = StoredMessage(userID: user, source: source, direction: direction, text: text, media: media, at: at, flow: flow)
            return "id \(store.storeMessage(message))"
        case let .saveForward(id, user):
            store.saveGroupForward(groupMessageID: id, userID: user, at: at)
        case let .userForGroupMessage(id):
            return String(describing: store.userForGroupMessage(id))
        case let .assignment(experiment, user):
            return String(describing: store.assignment(experiment: experiment, userID: user))
        case let .saveAssignment(experiment, user, variant):
            store.saveAssignment(experiment: experiment, userID: user, variant: variant, at: at)
        case let .recordExposure(experiment, user, variant):
            store.recordExposure(experiment: experiment, variant: variant, userID: user, at: at)
        case let .firstExposure(experiment, user):
            return store.firstExposure(experiment: experiment, userID: user).map { "\($0.variant) at \($0.at.timeIntervalSince1970)" } ?? "nil"
        case let .recordConversion(experiment, user, variant):
            return "\(store.recordConversion(experiment: experiment, variant: variant, userID: user, at: at))"
        case let .trace(kind, user, flows, note):
            var result = RunResult(trigger: flows.isEmpty ? nil : .appMessage, note: note, userID: user)
            result.flows = flows
            store.recordTrace(result, event: InboundEvent(kind: kind, at: at, userID: user, text: "hi"))
        }
        return "-"
    }
}

/// Records the first few answers where the buffered store disagrees with `DirectStateStore`.
private func expectSameAnswers(
    _ buffered: [String], _ reference: [String], calls: [StateCall], firstStep: Int = 0,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    #expect(buffered.count == reference.count, sourceLocation: sourceLocation)
    var reported = 0
    for (offset, (got, want)) in zip(buffered, reference).enumerated() where got != want {
        Issue.record("step \(firstStep + offset) \(calls[offset]): buffered answered \(got), DirectStateStore \(want)", sourceLocation: sourceLocation)
        reported += 1
        if reported == 5 { break }
    }
}

// MARK: Comparing the files

/// Every table of the runtime's state, with an order that makes its rows comparable.
private let stateTables: KeyValuePairs<String, String> = [
    "users": "id",
    "chats": "source, user_id",
    "markers": "user_id, key, period",
    "messages": "id",
    "group_forwards": "group_message_id",
    "experiment_assignments": "experiment, user_id",
    "experiment_exposures": "experiment, user_id",
    "experiment_conversions": "experiment, user_id",
    "run_traces": "id",
    // The server's own tables: the runtime never writes them, so both stores leave them empty.
    "devices": "fcm_token",
    "outbox": "id",
    "telegram_updates": "update_id",
    "forum_topics": "user_id",
    "assistant_memory": "source, platform_chat_id",
    "brevo_messages": "message_id",
    "telegram_inbox": "update_id",
    "staff_accounts": "id",
    "staff_sessions": "id_hash",
    "audit_log": "id",
    "flow_versions": "id",
    // Kept by a trigger on messages.
    "conversations": "source, platform_chat_id",
    "conversation_counts": "source",
]

/// Tables only the server writes (devices, outbox, ...): compared, but empty here.
private let serverTables: Set<String> = [
    "devices", "outbox", "telegram_updates", "forum_topics", "assistant_memory", "brevo_messages", "telegram_inbox", "staff_accounts", "staff_sessions",
    "audit_log", "flow_versions",
]

private func rows(_ database: ReplyflowDatabase, _ table: String, orderBy: String) throws -> [[DatabaseValue]] {
    try database.writer.read { db in
        try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(orderBy)").map { Array($0.databaseValues) }
    }
}

/// Compares every state table of the two files row by row, every column included.
private func expectSameTables(
    _ buffered: ReplyflowDatabase, _ reference: ReplyflowDatabase, everyTableWritten: Bool = false,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) throws {
    let tables = try reference.writer.read { db in
        try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'")
    }
    #expect(Set(tables) == Set(stateTables.map(\.key)), "every state table is compared", sourceLocation: sourceLocation)
    for (table, order) in stateTables {
        let got = try rows(buffered, table, orderBy: order)
        let want = try rows(reference, table, orderBy: order)
        if everyTableWritten && !serverTables.contains(table) { #expect(!want.isEmpty, "the calls write rows to \(table)", sourceLocation: sourceLocation) }
        #expect(got.count == want.count, "\(table): buffered has \(got.count) rows, DirectStateStore \(want.count)", sourceLocation: sourceLocation)
        var reported = 0
        for (index, (row, wanted)) in zip(got, want).enumerated() where row != wanted {
            Issue.record("\(table) row \(index): buffered \(row), DirectStateStore \(wanted)", sourceLocation: sourceLocation)
            reported += 1
            if reported == 3 { break }
        }
    }
}

// MARK: Call sequences

/// Every kind of call, with the cases that matter: repeated users, outbound-first users, names
/// kept when nil, markers out of time order, replaced forwards and assignments, repeated
/// exposures, repeated conversions, traces with and without flows.
private let scenario: [StateCall] = [
    .noteUser("42", name: "Анна", inbound: true),
    .noteUser("42", name: nil, inbound: true),
    .noteUser("7", name: nil, inbound: false),
    .noteUser("42", name: nil, inbound: false),
    .noteUser("7", name: "Борис", inbound: true),
    .noteUser("42", name: "Anna", inbound: true),
    .noteUser("42", name: nil, inbound: true),
    .autoMode(.app, "42"),
    .setAutoMode(false, .app, "42"),
    .setAutoMode(true, .telegram, "42"),
    .autoMode(.app, "42"),
    .autoMode(.telegram, "42"),
    .autoMode(.instagram, "42"),
    .setAutoMode(true, .app, "42"),
    .autoMode(.app, "42"),
    .hasMarker("42", key: "history_fetch", period: "2026-11-20"),
    .setMarker("42", key: "history_fetch", period: "2026-11-20"),
    .setMarker("42", key: "history_fetch", period: "2026-11-20"),
    .setMarker("42", key: "history_fetch", period: "2026-11-22"),
    .setMarker("42", key: "history_fetch", period: "2026-11-21"),
    .setMarker("42", key: "once:Greeting", period: "ever"),
    .setMarker("7", key: "history_fetch", period: "2026-11-19"),
    .hasMarker("42", key: "history_fetch", period: "2026-11-19"),
    .hasMarker("42", key: "history_fetch", period: "2026-11-20"),
    .hasMarker("42", key: "history_fetch", period: "2026-11-21"),
    .hasMarker("42", key: "history_fetch", period: "2026-11-22"),
    .hasMarker("42", key: "history_fetch", period: "2026-11-23"),
    .hasMarker("42", key: "once:Greeting", period: "ever"),
    .hasMarker("7", key: "history_fetch", period: "2026-11-20"),
    .hasMarker("7", key: "once:Greeting", period: "ever"),
    .storeMessage("42", .app, .user, text: "Где мой заказ?", media: .photo, flow: nil),
    .storeMessage("7", .telegram, .user, text: "other user", media: .none, flow: nil),
    .storeMessage("42", .app, .support, text: "Заказ в пути", media: .none, flow: "Deliver"),
    .storeMessage("42", .instagram, .support, text: "", media: .voice, flow: "Auto"),
    .saveForward(1000, "42"),
    .saveForward(1001, "7"),
    .userForGroupMessage(1000),
    .saveForward(1000, "7"),
    .userForGroupMessage(1000),
    .userForGroupMessage(1001),
    .userForGroupMessage(999),
    .assignment("e1", "42"),
    .saveAssignment("e1", "42", variant: "warm"),
    .saveAssignment("e2", "42", variant: "formal"),
    .saveAssignment("e1", "7", variant: "formal"),
    .assignment("e1", "42"),
    .saveAssignment("e1", "42", variant: "formal"),
    .assignment("e1", "42"),
    .assignment("e2", "7"),
    .firstExposure("e1", "42"),
    .recordExposure("e1", "42", variant: "warm"),
    .recordExposure("e1", "42", variant: "warm"),
    .recordExposure("e1", "7", variant: "formal"),
    .recordExposure("e1", "42", variant: "formal"),
    .firstExposure("e1", "42"),
    .firstExposure("e1", "7"),
    .firstExposure("e2", "42"),
    .recordConversion("e1", "42", variant: "warm"),
    .recordConversion("e1", "42", variant: "warm"),
    .recordConversion("e1", "7", variant: "formal"),
    .recordConversion("e2", "99", variant: "formal"),
    .recordConversion("e1", "7", variant: "formal"),
    .trace(
        .appMessage, userID: "42",
        flows: [
            FlowOutcome(name: "A", result: .ran, reason: nil, variant: "warm"),
            FlowOutcome(name: "B", result: .skipped, reason: "auto_mode is off, the flow wants on", variant: nil),
        ], note: nil),
    .trace(.historyFetch, userID: "42", flows: [], note: nil),
    .trace(.telegramReply, userID: nil, flows: [], note: "no user"),
    .trace(.instagramDM, userID: "7", flows: [FlowOutcome(name: "C", result: .ran, reason: "ran 'else': x", variant: nil)], note: "n"),
    .storeMessage("7", .telegram, .support, text: "last", media: .document, flow: "Echo"),
    .noteUser("42", name: nil, inbound: true),
    .noteUser("7", name: nil, inbound: true),
]

/// A seeded mix of every call over a few users, periods, group messages and experiments, so
/// the same keys are written and read many times, in and out of time order.
private func randomCalls(seed: UInt64, count: Int) -> [StateCall] {
    var rng = SplitMix64(seed: seed)
    let users = ["u0", "u1", "u2", "u3", "u4", "u5"]
    let periods = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]
    let keys = ["history_fetch", "once:Greeting"]
    let experiments = ["e1", "e2"]
    let variants = ["warm", "formal"]
    return (0..<count).map { index in
        let user = users.randomElement(using: &rng)!
        let experiment = experiments.randomElement(using: &rng)!
        let variant = variants.randomElement(using: &rng)!
        let source = ChatSource.allCases.randomElement(using: &rng)!
        let period = periods.randomElement(using: &rng)!
        let key = keys.randomElement(using: &rng)!
        let groupMessage = Int64.random(in: 1000...1011, using: &rng)
        let flag = Bool.random(using: &rng)
        switch Int.random(in: 0..<15, using: &rng) {
        case 0: return .noteUser(user, name: flag ? "name \(index)" : nil, inbound: true)
        case 1: return .noteUser(user, name: nil, inbound: flag)
        case 2: return .autoMode(source, user)
        case 3: return .setAutoMode(flag, source, user)
        case 4: return .hasMarker(user, key: key, period: period)
        case 5: return .setMarker(user, key: key, period: period)
        case 6:
            return .storeMessage(
                user, source, flag ? .user : .support, text: "m\(index)", media: MediaKind.allCases.randomElement(using: &rng)!, flow: flag ? nil : "F")
        case 7: return .saveForward(groupMessage, user)
        case 8: return .userForGroupMessage(groupMessage)
        case 9: return .assignment(experiment, user)
        case 10: return .saveAssignment(experiment, user, variant: variant)
        case 11: return .recordExposure(experiment, user, variant: variant)
        case 12: return .firstExposure(experiment, user)
        case 13: return .recordConversion(experiment, user, variant: variant)
        default:
            let flows = flag ? [FlowOutcome(name: "F\(index)", result: .ran, reason: nil, variant: variant)] : []
            return .trace(.appMessage, userID: user, flows: flows, note: flag ? nil : "note \(index)")
        }
    }
}

// MARK: Tests

@Suite("BufferedStateStore: the same answers and the same file as DirectStateStore", .machineShare)
struct BufferedStateStoreEquivalenceTests {
    @Test("every call answers as DirectStateStore does, and finish() leaves the same rows", arguments: BufferTuning.all)
    func scenarioMatchesSQLite(tuning: BufferTuning) throws {
        let bufferedPath = temporaryDatabasePath(), referencePath = temporaryDatabasePath()
        defer { removeTemporaryDatabase(bufferedPath); removeTemporaryDatabase(referencePath) }
        let bufferedDatabase = try ReplyflowDatabase(path: bufferedPath)
        let referenceDatabase = try ReplyflowDatabase(path: referencePath)
        let buffered = try tuning.open(bufferedDatabase)
        let reference = DirectStateStore(database: referenceDatabase)

        let answers = perform(scenario, on: buffered)
        let expected = perform(scenario, on: reference)
        try buffered.finish()
        #expect(reference.takeError() == nil)

        expectSameAnswers(answers, expected, calls: scenario)
        try expectSameTables(bufferedDatabase, referenceDatabase, everyTableWritten: true)
        // The scenario's own facts, so the comparison is not of two equally wrong files.
        #expect(expected.filter { $0.hasPrefix("id ") } == ["id 1", "id 2", "id 3", "id 4", "id 5"])
        let exposure = try rows(bufferedDatabase, "experiment_exposures", orderBy: "experiment, user_id")
        #expect(exposure.first?.last == 3.databaseValue, "e1/42 was exposed three times")
        #expect(try rows(bufferedDatabase, "users", orderBy: "id").map { $0[4] } == [5.databaseValue, 2.databaseValue], "inbound counts of 42 and 7")
        let queries = StateQueries(database: bufferedDatabase)
        #expect(try queries.messages(userID: "42").map(\.text) == ["Где мой заказ?", "Заказ в пути", ""])
        #expect(try queries.count("run_traces") == 5)
    }

    @Test("seeded random calls: same answers, same rows", arguments: [1, 2, 3] as [UInt64], BufferTuning.all)
    func randomCallsMatchSQLite(seed: UInt64, tuning: BufferTuning) throws {
        let bufferedPath = temporaryDatabasePath(), referencePath = temporaryDatabasePath()
        defer { removeTemporaryDatabase(bufferedPath); removeTemporaryDatabase(referencePath) }
        let bufferedDatabase = try ReplyflowDatabase(path: bufferedPath)
        let referenceDatabase = try ReplyflowDatabase(path: referencePath)
        let buffered = try tuning.open(bufferedDatabase)
        let reference = DirectStateStore(database: referenceDatabase)
        let calls = randomCalls(seed: seed, count: 400)

        let answers = perform(calls, on: buffered)
        let expected = perform(calls, on: reference)
        try buffered.finish()
        #expect(reference.takeError() == nil)
        expectSameAnswers(answers, expected, calls: calls)
        try expectSameTables(bufferedDatabase, referenceDatabase, everyTableWritten: true)
    }

    @Test("seeded random calls split over two buffered stores on one file: same answers, same rows", arguments: [4, 5, 6] as [UInt64], BufferTuning.all)
    func randomCallsAcrossReopen(seed: UInt64, tuning: BufferTuning) throws {
        let bufferedPath = temporaryDatabasePath(), referencePath = temporaryDatabasePath()
        defer { removeTemporaryDatabase(bufferedPath); removeTemporaryDatabase(referencePath) }
        let calls = randomCalls(seed: seed, count: 300)
        let split = 100 + Int(seed % 100)
        let first = Array(calls[..<split]), second = Array(calls[split...])

        let referenceDatabase = try ReplyflowDatabase(path: referencePath)
        let reference = DirectStateStore(database: referenceDatabase)
        let expected = perform(calls, on: reference)
        #expect(reference.takeError() == nil)

        do {
            let buffered = try tuning.open(try ReplyflowDatabase(path: bufferedPath))
            let answers = perform(first, on: buffered)
            try buffered.finish()
            expectSameAnswers(answers, Array(expected[..<split]), calls: first)
        }
        let bufferedDatabase = try ReplyflowDatabase(path: bufferedPath)
        let buffered = try tuning.open(bufferedDatabase)
        let answers = perform(second, on: buffered, firstStep: split)
        try buffered.finish()
        expectSameAnswers(answers, Array(expected[split...]), calls: second, firstStep: split)
        try expectSameTables(bufferedDatabase, referenceDatabase, everyTableWritten: true)
    }
}

@Suite("BufferedStateStore: reads from memory and from SQLite", .machineShare)
struct BufferedStateStoreReadTests {
    @Test("before any flush, reads answer from memory (and with small flushes, from both)", arguments: [1, 3, 1_000_000])
    func readsBeforeFlush(flushThreshold: Int) throws {
        let path = temporaryDatabasePath()
        defer { removeTemporaryDatabase(path) }
        let database = try ReplyflowDatabase(path: path)
        let store = try BufferedStateStore(database: database)
        store.flushThreshold = flushThreshold
        let queries = StateQueries(database: database)

        #expect(store.noteUser(id: "42", name: "Анна", at: t0, inbound: true) == 0)
        #expect(store.noteUser(id: "42", name: nil, at: t0.addingTimeInterval(1), inbound: false) == 1)
        #expect(store.noteUser(id: "42", name: nil, at: t0.addingTimeInterval(2), inbound: true) == 1)
        #expect(store.noteUser(id: "42", name: nil, at: t0.addingTimeInterval(3), inbound: true) == 2)
        #expect(store.noteUser(id: "7", name: nil, at: t0, inbound: false) == 0)
        #expect(store.autoMode(source: .app, userID: "42") == nil)
        store.setAutoMode(false, source: .app, userID: "42", at: t0)
        #expect(store.autoMode(source: .app, userID: "42") == false)
        #expect(store.autoMode(source: .telegram, userID: "42") == nil)
        store.setMarker(userID: "42", key: "history_fetch", period: "2026-11-20", at: t0)
        #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-20"))
        #expect(!store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-21"))
        #expect(!store.hasMarker(userID: "42", key: "once:Greeting", period: "2026-11-20"))
        #expect(store.storeMessage(StoredMessage(userID: "42", source: .app, direction: .user, text: "a", at: t0)) == 1)
        #expect(store.storeMessage(StoredMessage(userID: "42", source: .app, direction: .support, text: "b", at: t0, flow: "F")) == 2)
        store.saveGroupForward(groupMessageID: 1000, userID: "42", at: t0)
        #expect(store.userForGroupMessage(1000) == "42")
        #expect(store.userForGroupMessage(1001) == nil)
        #expect(store.assignment(experiment: "e1", userID: "42") == nil)
        store.saveAssignment(experiment: "e1", userID: "42", variant: "warm", at: t0)
        #expect(store.assignment(experiment: "e1", userID: "42") == "warm")
        #expect(store.firstExposure(experiment: "e1", userID: "42") == nil)
        store.recordExposure(experiment: "e1", variant: "warm", userID: "42", at: t0.addingTimeInterval(5))
        store.recordExposure(experiment: "e1", variant: "formal", userID: "42", at: t0.addingTimeInterval(6))
        #expect(store.firstExposure(experiment: "e1", userID: "42")?.variant == "warm")
        #expect(store.firstExposure(experiment: "e1", userID: "42")?.at == t0.addingTimeInterval(5))
        #expect(store.recordConversion(experiment: "e1", variant: "warm", userID: "42", at: t0))
        #expect(!store.recordConversion(experiment: "e1", variant: "warm", userID: "42", at: t0))

        let tables = ["users", "chats", "markers", "messages", "group_forwards", "experiment_assignments", "experiment_exposures", "experiment_conversions"]
        if flushThreshold > 1_000 {
            for table in tables {
                #expect(try queries.count(table) == 0, "nothing is flushed yet, so \(table) was answered from memory")
            }
        } else {
            // Small batches are committed in the background while the store runs (users
            // are not: their notes are merged and written at a commit or the end).
            var flushed = try queries.count("messages")
            for _ in 0..<100 where flushed == 0 {
                Thread.sleep(forTimeInterval: 0.02)
                flushed = try queries.count("messages")
            }
            #expect(flushed > 0, "small batches were flushed while the store ran")
        }
        // A period earlier than the latest one cached may be an out-of-order marker, which only
        // SQLite knows: this read may flush, so it comes after the check above.
        #expect(!store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-19"))
        #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-20"))
        #expect(store.recordConversion(experiment: "e1", variant: "formal", userID: "7", at: t0))
        try store.finish()
        #expect(try tables.map { try queries.count($0) } == [2, 1, 1, 2, 1, 1, 1, 2])
        #expect(try queries.experimentCounts(experiment: "e1")["warm"]?.exposures == 1)
    }

    @Test("once the caches are dropped, every read answers from SQLite", arguments: [1, 2, 3])
    func readsAfterCachesDropped(flushThreshold: Int) throws {
        let path = temporaryDatabasePath()
        defer { removeTemporaryDatabase(path) }
        let database = try ReplyflowDatabase(path: path)
        let store = try BufferedStateStore(database: database)
        store.flushThreshold = flushThreshold
        store.cacheLimit = 5

        for step in 0..<3 { _ = store.noteUser(id: "42", name: "Анна", at: t0.addingTimeInterval(Double(step)), inbound: true) }
        _ = store.noteUser(id: "42", name: nil, at: t0.addingTimeInterval(3), inbound: false)
        store.setAutoMode(false, source: .telegram, userID: "42", at: t0)
        store.setAutoMode(true, source: .instagram, userID: "7", at: t0)
        store.setMarker(userID: "42", key: "history_fetch", period: "2026-11-20", at: t0)
        store.saveGroupForward(groupMessageID: 1000, userID: "42", at: t0)
        store.saveAssignment(experiment: "e1", userID: "42", variant: "warm", at: t0)
        store.recordExposure(experiment: "e1", variant: "warm", userID: "42", at: t0.addingTimeInterval(10))
        store.recordExposure(experiment: "e1", variant: "warm", userID: "42", at: t0.addingTimeInterval(20))
        #expect(store.recordConversion(experiment: "e1", variant: "warm", userID: "42", at: t0.addingTimeInterval(30)))
        #expect(store.storeMessage(StoredMessage(userID: "42", source: .app, direction: .user, text: "a", at: t0)) == 1)
        // Many other users push the caches far past the limit, so they are dropped (again and again).
        for other in 0..<30 {
            let user = "other-\(other)"
            _ = store.noteUser(id: user, name: nil, at: t0.addingTimeInterval(100), inbound: true)
            store.setAutoMode(true, source: .app, userID: user, at: t0.addingTimeInterval(100))
            store.setMarker(userID: user, key: "history_fetch", period: "2026-11-25", at: t0.addingTimeInterval(100))
        }

        #expect(store.noteUser(id: "42", name: nil, at: t0.addingTimeInterval(200), inbound: true) == 3)
        #expect(store.noteUser(id: "42", name: nil, at: t0.addingTimeInterval(201), inbound: true) == 4)
        #expect(store.noteUser(id: "never-seen", name: nil, at: t0.addingTimeInterval(201), inbound: true) == 0)
        #expect(store.autoMode(source: .telegram, userID: "42") == false)
        #expect(store.autoMode(source: .instagram, userID: "7") == true)
        #expect(store.autoMode(source: .app, userID: "42") == nil)
        #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-20"), "same period")
        #expect(!store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-19"), "earlier period")
        #expect(!store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-21"), "later period")
        #expect(!store.hasMarker(userID: "42", key: "once:Greeting", period: "2026-11-20"))
        // A marker set after the drop for an earlier period than the stored one: both are there.
        store.setMarker(userID: "42", key: "history_fetch", period: "2026-11-18", at: t0.addingTimeInterval(210))
        #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-18"))
        #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-20"))
        #expect(!store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-19"))
        store.setMarker(userID: "42", key: "history_fetch", period: "2026-11-21", at: t0.addingTimeInterval(211))
        #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-21"))
        #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-20"))
        #expect(store.userForGroupMessage(1000) == "42")
        #expect(store.userForGroupMessage(999) == nil)
        #expect(store.assignment(experiment: "e1", userID: "42") == "warm")
        #expect(store.assignment(experiment: "e1", userID: "7") == nil)
        let first = try #require(store.firstExposure(experiment: "e1", userID: "42"))
        #expect(first.variant == "warm")
        #expect(first.at == t0.addingTimeInterval(10))
        #expect(store.firstExposure(experiment: "e2", userID: "42") == nil)
        store.recordExposure(experiment: "e1", variant: "formal", userID: "42", at: t0.addingTimeInterval(220))
        #expect(store.firstExposure(experiment: "e1", userID: "42")?.variant == "warm", "a later exposure does not move the first")
        #expect(!store.recordConversion(experiment: "e1", variant: "warm", userID: "42", at: t0.addingTimeInterval(230)), "converted before the drop")
        #expect(store.recordConversion(experiment: "e1", variant: "warm", userID: "7", at: t0.addingTimeInterval(230)))
        #expect(!store.recordConversion(experiment: "e1", variant: "warm", userID: "7", at: t0.addingTimeInterval(231)))
        #expect(store.storeMessage(StoredMessage(userID: "42", source: .app, direction: .user, text: "b", at: t0)) == 2)
        try store.finish()

        // Proof the drop happened: a row the store never wrote is found, so a miss reads SQLite.
        try database.writer.write { db in
            try db.execute(sql: "INSERT INTO chats (source, user_id, auto_mode, updated_at) VALUES ('app', 'probe', 1, 0)")
        }
        #expect(store.autoMode(source: .app, userID: "probe") == true, "the caches were dropped")

        let exposures = try rows(database, "experiment_exposures", orderBy: "experiment, user_id")
        let firstAt: Double = t0.timeIntervalSince1970 + 10
        let expectedExposures: [[DatabaseValue]] = [["e1".databaseValue, "42".databaseValue, "warm".databaseValue, firstAt.databaseValue, 3.databaseValue]]
        #expect(exposures == expectedExposures)
        let periods = try database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT period FROM markers WHERE user_id = '42' ORDER BY period")
        }
        #expect(periods == ["2026-11-18", "2026-11-20", "2026-11-21"])
        #expect(try StateQueries(database: database).messages(userID: "42").map(\.text) == ["a", "b"])
        #expect(store.takeError() == nil)
    }

    @Test("markers out of time order: both periods are marked, in memory and in the file", arguments: [1, 1_000_000])
    func markersOutOfOrder(flushThreshold: Int) throws {
        let path = temporaryDatabasePath()
        defer { removeTemporaryDatabase(path) }
        let database = try ReplyflowDatabase(path: path)
        do {
            let store = try BufferedStateStore(database: database)
            store.flushThreshold = flushThreshold
            store.setMarker(userID: "42", key: "history_fetch", period: "2026-11-02", at: t0.addingTimeInterval(86_400))
            store.setMarker(userID: "42", key: "history_fetch", period: "2026-11-01", at: t0)
            #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-01"))
            #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-02"))
            #expect(!store.hasMarker(userID: "42", key: "history_fetch", period: "2026-10-31"))
            #expect(!store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-03"))
            // Setting the earlier one again changes nothing.
            store.setMarker(userID: "42", key: "history_fetch", period: "2026-11-01", at: t0.addingTimeInterval(5))
            try store.finish()
        }
        let stored = try rows(database, "markers", orderBy: "user_id, key, period")
        let day2At: Double = t0.timeIntervalSince1970 + 86_400
        let expected: [[DatabaseValue]] = [
            ["42".databaseValue, "history_fetch".databaseValue, "2026-11-01".databaseValue, t0.timeIntervalSince1970.databaseValue],
            ["42".databaseValue, "history_fetch".databaseValue, "2026-11-02".databaseValue, day2At.databaseValue],
        ]
        #expect(stored == expected)
        let reopened = try BufferedStateStore(database: try ReplyflowDatabase(path: path))
        #expect(reopened.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-01"))
        #expect(reopened.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-02"))
        #expect(!reopened.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-03"))
    }

    @Test("with a small forward cache, the oldest forwards are still found in SQLite", arguments: [5, 1_000_000])
    func forwardCacheLimit(flushThreshold: Int) throws {
        let path = temporaryDatabasePath()
        defer { removeTemporaryDatabase(path) }
        let database = try ReplyflowDatabase(path: path)
        let store = try BufferedStateStore(database: database)
        store.flushThreshold = flushThreshold
        store.forwardCacheLimit = 4
        for id in 1...20 {
            store.saveGroupForward(groupMessageID: Int64(id), userID: "user-\(id)", at: t0.addingTimeInterval(Double(id)))
        }
        for id in 1...20 {
            #expect(store.userForGroupMessage(Int64(id)) == "user-\(id)", "forward \(id)")
        }
        #expect(store.userForGroupMessage(21) == nil)
        #expect(store.userForGroupMessage(0) == nil)
        // Saving a dropped forward again replaces it, as in SQLite.
        store.saveGroupForward(groupMessageID: 1, userID: "replaced", at: t0.addingTimeInterval(100))
        #expect(store.userForGroupMessage(1) == "replaced")
        for id in 30...40 {
            store.saveGroupForward(groupMessageID: Int64(id), userID: "user-\(id)", at: t0.addingTimeInterval(Double(id)))
        }
        #expect(store.userForGroupMessage(1) == "replaced")
        #expect(store.userForGroupMessage(2) == "user-2")
        #expect(store.userForGroupMessage(40) == "user-40")
        try store.finish()
        #expect(try StateQueries(database: database).count("group_forwards") == 31)
        #expect(DirectStateStore(database: database).userForGroupMessage(1) == "replaced")
    }
}

@Suite("BufferedStateStore: a database that already holds state", .machineShare)
struct BufferedStateStoreReopenTests {
    /// The first run's calls.
    private static func firstRun(_ store: any StateCalls) {
        _ = store.noteUser(id: "42", name: "Анна", at: t0, inbound: true)
        _ = store.noteUser(id: "42", name: nil, at: t0.addingTimeInterval(1), inbound: true)
        _ = store.noteUser(id: "42", name: nil, at: t0.addingTimeInterval(2), inbound: false)
        store.setAutoMode(false, source: .telegram, userID: "42", at: t0)
        store.setMarker(userID: "42", key: "history_fetch", period: "2026-11-20", at: t0)
        store.setMarker(userID: "42", key: "once:Greeting", period: "ever", at: t0)
        for text in ["one", "two", "three"] {
            store.storeMessage(StoredMessage(userID: "42", source: .telegram, direction: .user, text: text, at: t0))
        }
        store.saveGroupForward(groupMessageID: 1000, userID: "42", at: t0)
        store.saveAssignment(experiment: "e1", userID: "42", variant: "warm", at: t0)
        store.recordExposure(experiment: "e1", variant: "warm", userID: "42", at: t0.addingTimeInterval(3))
        _ = store.recordConversion(experiment: "e1", variant: "warm", userID: "42", at: t0.addingTimeInterval(4))
        var result = RunResult(trigger: .appMessage, userID: "42")
        result.flows = [FlowOutcome(name: "A", result: .ran, reason: nil, variant: "warm")]
        store.recordTrace(result, event: InboundEvent(kind: .appMessage, at: t0, userID: "42", text: "one"))
    }

    /// The second run's calls, checking that the first run's state is seen.
    private static func secondRun(_ store: any StateCalls, _ label: String) {
        let later = t0.addingTimeInterval(86_400)
        #expect(store.noteUser(id: "42", name: nil, at: later, inbound: true) == 2, "\(label)")
        #expect(store.noteUser(id: "42", name: nil, at: later, inbound: true) == 3, "\(label)")
        #expect(store.noteUser(id: "7", name: nil, at: later, inbound: true) == 0, "\(label)")
        #expect(store.autoMode(source: .telegram, userID: "42") == false, "\(label)")
        #expect(store.autoMode(source: .app, userID: "42") == nil, "\(label)")
        #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-20"), "\(label)")
        #expect(!store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-21"), "\(label)")
        #expect(!store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-19"), "\(label)")
        #expect(store.hasMarker(userID: "42", key: "once:Greeting", period: "ever"), "\(label)")
        store.setMarker(userID: "42", key: "history_fetch", period: "2026-11-21", at: later)
        #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-21"), "\(label)")
        #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-20"), "\(label)")
        #expect(store.userForGroupMessage(1000) == "42", "\(label)")
        #expect(store.userForGroupMessage(1001) == nil, "\(label)")
        #expect(store.assignment(experiment: "e1", userID: "42") == "warm", "\(label)")
        #expect(store.firstExposure(experiment: "e1", userID: "42")?.variant == "warm", "\(label)")
        #expect(store.firstExposure(experiment: "e1", userID: "42")?.at == t0.addingTimeInterval(3), "\(label)")
        store.recordExposure(experiment: "e1", variant: "warm", userID: "42", at: later)
        #expect(!store.recordConversion(experiment: "e1", variant: "warm", userID: "42", at: later), "\(label)")
        // Message 1 was deleted between the runs: ids continue after the stored maximum (3), not the count (2).
        #expect(store.storeMessage(StoredMessage(userID: "42", source: .app, direction: .support, text: "four", at: later, flow: "F")) == 4, "\(label)")
        #expect(store.storeMessage(StoredMessage(userID: "7", source: .app, direction: .user, text: "five", at: later)) == 5, "\(label)")
    }

    @Test("a store opened on a previous run's file sees its state and continues message ids", arguments: BufferTuning.all)
    func continuesStoredState(tuning: BufferTuning) throws {
        let bufferedPath = temporaryDatabasePath(), referencePath = temporaryDatabasePath()
        defer { removeTemporaryDatabase(bufferedPath); removeTemporaryDatabase(referencePath) }
        let deleteFirstMessage = "DELETE FROM messages WHERE id = 1"

        do {
            let store = try tuning.open(try ReplyflowDatabase(path: bufferedPath))
            Self.firstRun(store)
            try store.finish()
            try store.database.writer.write { try $0.execute(sql: deleteFirstMessage) }
        }
        let bufferedDatabase = try ReplyflowDatabase(path: bufferedPath)
        let buffered = try tuning.open(bufferedDatabase)
        Self.secondRun(buffered, "buffered")
        try buffered.finish()

        let referenceDatabase = try ReplyflowDatabase(path: referencePath)
        let reference = DirectStateStore(database: referenceDatabase)
        Self.firstRun(reference)
        try referenceDatabase.writer.write { try $0.execute(sql: deleteFirstMessage) }
        Self.secondRun(reference, "DirectStateStore")
        #expect(reference.takeError() == nil)

        try expectSameTables(bufferedDatabase, referenceDatabase, everyTableWritten: true)
        #expect(try StateQueries(database: bufferedDatabase).messages(userID: "42").map(\.text) == ["two", "three", "four"])
    }

    @Test("on a file with state, what SQLite does not hold is looked up once, not on every event")
    func absentStateIsReadOnce() throws {
        let path = temporaryDatabasePath()
        defer { removeTemporaryDatabase(path) }
        let database = try ReplyflowDatabase(path: path)
        do {
            let seed = DirectStateStore(database: database)
            _ = seed.noteUser(id: "1", name: nil, at: t0, inbound: true)
        }
        let store = try BufferedStateStore(database: database)
        #expect(store.autoMode(source: .instagram, userID: "42") == nil)
        #expect(store.assignment(experiment: "e1", userID: "42") == nil)
        #expect(store.firstExposure(experiment: "e1", userID: "42") == nil)
        // Written behind the store's back: a store that asked SQLite again would see it.
        // (Nothing else writes these tables while a store owns the file.)
        let other = DirectStateStore(database: database)
        other.setAutoMode(true, source: .instagram, userID: "42", at: t0)
        other.saveAssignment(experiment: "e1", userID: "42", variant: "warm", at: t0)
        other.recordExposure(experiment: "e1", variant: "warm", userID: "42", at: t0)
        #expect(other.takeError() == nil)
        #expect(store.autoMode(source: .instagram, userID: "42") == nil)
        #expect(store.assignment(experiment: "e1", userID: "42") == nil)
        #expect(store.firstExposure(experiment: "e1", userID: "42") == nil)
        // The store's own writes replace what it remembered as absent.
        store.setAutoMode(false, source: .instagram, userID: "42", at: t0)
        store.saveAssignment(experiment: "e1", userID: "42", variant: "cold", at: t0)
        store.recordExposure(experiment: "e1", variant: "cold", userID: "42", at: t0)
        #expect(store.autoMode(source: .instagram, userID: "42") == false)
        #expect(store.assignment(experiment: "e1", userID: "42") == "cold")
        #expect(store.firstExposure(experiment: "e1", userID: "42")?.variant == "cold")
        try store.finish()
    }

    /// One kind of state, alone in a database.
    enum StoredKind: String, CaseIterable, CustomTestStringConvertible {
        case user, chat, marker, forward, assignment, exposure, conversion, message
        var testDescription: String { rawValue }
    }

    @Test("a database holding one kind of state is not mistaken for an empty one", arguments: StoredKind.allCases)
    func singleKindOfStoredState(kind: StoredKind) throws {
        let path = temporaryDatabasePath()
        defer { removeTemporaryDatabase(path) }
        do {
            let seed = DirectStateStore(database: try ReplyflowDatabase(path: path))
            switch kind {
            case .user: _ = seed.noteUser(id: "42", name: nil, at: t0, inbound: true)
            case .chat: seed.setAutoMode(false, source: .app, userID: "42", at: t0)
            case .marker: seed.setMarker(userID: "42", key: "history_fetch", period: "2026-11-20", at: t0)
            case .forward: seed.saveGroupForward(groupMessageID: 1000, userID: "42", at: t0)
            case .assignment: seed.saveAssignment(experiment: "e1", userID: "42", variant: "warm", at: t0)
            case .exposure: seed.recordExposure(experiment: "e1", variant: "warm", userID: "42", at: t0)
            case .conversion: _ = seed.recordConversion(experiment: "e1", variant: "warm", userID: "42", at: t0)
            case .message: seed.storeMessage(StoredMessage(userID: "42", source: .app, direction: .user, text: "x", at: t0))
            }
            #expect(seed.takeError() == nil)
        }
        let store = try BufferedStateStore(database: try ReplyflowDatabase(path: path))
        switch kind {
        case .user: #expect(store.noteUser(id: "42", name: nil, at: t0, inbound: true) == 1)
        case .chat: #expect(store.autoMode(source: .app, userID: "42") == false)
        case .marker: #expect(store.hasMarker(userID: "42", key: "history_fetch", period: "2026-11-20"))
        case .forward: #expect(store.userForGroupMessage(1000) == "42")
        case .assignment: #expect(store.assignment(experiment: "e1", userID: "42") == "warm")
        case .exposure: #expect(store.firstExposure(experiment: "e1", userID: "42")?.variant == "warm")
        case .conversion: #expect(!store.recordConversion(experiment: "e1", variant: "warm", userID: "42", at: t0), "already converted")
        case .message: #expect(store.storeMessage(StoredMessage(userID: "42", source: .app, direction: .user, text: "y", at: t0)) == 2)
        }
        try store.finish()
    }
}
