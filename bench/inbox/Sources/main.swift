import Flows
import Foundation
import GRDB
import Storage

// The inbox queries' benchmark (run by bench/inbox/run.sh, built in release).
//
//   inbox-bench queries DB [CHATS] [RUNS]   seeds DB (when new) with CHATS chats of about ten
//                                           messages each through the bulk writer, then times
//                                           each inbox query RUNS times: p50 and p99.
//   inbox-bench commits N                   N commits of one message and its trace, paired:
//                                           the v14 schema against the same file with v3's
//                                           trigger and without v14's indexes.

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: inbox-bench queries DB [CHATS] [RUNS] | inbox-bench commits N")
    exit(2)
}
let t0 = Date(timeIntervalSince1970: 1_795_600_000)

func percentiles(_ samples: [Double]) -> (p50: Double, p99: Double) {
    let sorted = samples.sorted()
    return (sorted[sorted.count / 2], sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))])
}

func time(_ label: String, runs: Int, _ body: () async throws -> Void) async throws {
    for _ in 0..<min(10, runs) { try await body() }  // warm up
    var samples: [Double] = []
    for _ in 0..<runs {
        let start = ContinuousClock.now
        try await body()
        let elapsed = ContinuousClock.now - start
        samples.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
    }
    let (p50, p99) = percentiles(samples)
    let padded = label.count < 46 ? label + String(repeating: " ", count: 46 - label.count) : label
    print(padded + String(format: " p50 %8.2f ms   p99 %8.2f ms", p50, p99))
}

/// CHATS chats on three channels, 4 to 16 messages each (about ten on average): customers
/// write, every other chat gets an AI answer, every third a staff answer; a tenth of the chats
/// have auto mode off, and staff have seen nine chats in ten.
func seed(_ database: ReplyflowDatabase, chats: Int) throws {
    let store = try BufferedStateStore(database: database)
    let sources: [ChatSource] = [.app, .telegram, .instagram]
    let words = ["заказ", "доставка", "оплата", "возврат", "order", "delivery", "where", "package", "когда", "спасибо", "карта", "трек"]
    var random = SystemRandomNumberGenerator()
    var at = t0
    for chat in 0..<chats {
        let user = "\(1_000_000 + chat)", source = sources[chat % 3]
        let count = 4 + Int(random.next(upperBound: UInt(13)))
        for index in 0..<count {
            at = at.addingTimeInterval(0.5)
            let text = (0..<8).map { _ in words[Int(random.next(upperBound: UInt(words.count)))] }.joined(separator: " ") + " \(chat)-\(index)"
            let author: StoredMessage.Author =
                index % 2 == 0 ? .customer : chat % 3 == 0 && index == count - 1 ? .staff : chat % 2 == 0 ? .assistant : .flow
            if author == .customer { _ = store.noteUser(id: user, name: "Customer \(chat)", at: at, inbound: true) }
            store.storeMessage(
                StoredMessage(
                    userID: user, source: source, direction: author == .customer ? .user : .support, text: text, at: at,
                    flow: author == .customer || author == .staff ? nil : "Auto", senderName: author == .staff ? "Anna" : nil, author: author))
        }
        if chat % 10 == 0 { store.setAutoMode(false, source: source, userID: user, at: at) }
    }
    try store.finish()
    try database.writer.write { db in
        // Picked at random: a rule on the id would line up with the rule for auto mode.
        try db.execute(sql: "UPDATE conversations SET read_message_id = last_message_id WHERE abs(random()) % 10 != 0")
    }
}

switch arguments[1] {
case "queries":
    let path = arguments.count > 2 ? arguments[2] : "bench/out/inbox.sqlite"
    let chats = arguments.count > 3 ? Int(arguments[3]) ?? 100_000 : 100_000
    let runs = arguments.count > 4 ? Int(arguments[4]) ?? 200 : 200
    let database = try ReplyflowDatabase(path: path)
    let existing = try await database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM conversations") ?? 0 }
    if existing == 0 {
        let start = ContinuousClock.now
        try seed(database, chats: chats)
        print("seeded \(chats) chats in \(ContinuousClock.now - start)")
    }
    let (chatCount, messageCount, unreadCount, waitingCount) = try await database.writer.read { db in
        (
            try Int.fetchOne(db, sql: "SELECT count(*) FROM conversations") ?? 0, try Int.fetchOne(db, sql: "SELECT max(id) FROM messages") ?? 0,
            try Int.fetchOne(db, sql: "SELECT count(*) FROM conversations WHERE last_customer_message_id > read_message_id") ?? 0,
            try Int.fetchOne(db, sql: "SELECT count(*) FROM conversations WHERE waiting_since IS NOT NULL") ?? 0
        )
    }
    print("\(chatCount) chats, \(messageCount) messages, \(unreadCount) unread, \(waitingCount) waiting; \(runs) runs each")
    let inbox = InboxQueries(database: database)
    let base = InboxQuery(autoModeDefault: true)
    try await time("first page, newest activity", runs: runs) { _ = try await inbox.chats(base) }
    try await time("first page, longest waiting", runs: runs) { _ = try await inbox.chats(InboxQuery(sort: .longestWaiting, autoModeDefault: true)) }
    var deep = base
    for _ in 0..<100 { deep.after = try await inbox.chats(deep).next }
    try await time("page 101 (5,000 chats deep), newest activity", runs: runs) { _ = try await inbox.chats(deep) }
    try await time("filtered: telegram, auto mode off, unread", runs: runs) {
        _ = try await inbox.chats(InboxQuery(source: .telegram, autoMode: false, autoModeDefault: true, unreadOnly: true))
    }
    // The worst case of a filter: nothing matches, so every unread chat is read.
    try await time("filtered, nothing matches (every unread read)", runs: runs) {
        _ = try await inbox.chats(InboxQuery(source: .telegram, autoMode: true, autoModeDefault: false, unreadOnly: true))
    }
    try await time("filtered: unread only", runs: runs) { _ = try await inbox.chats(InboxQuery(autoModeDefault: true, unreadOnly: true)) }
    let searchRuns = max(20, runs / 10)
    try await time("search 'трек 4242' (name, id, text)", runs: searchRuns) {
        _ = try await inbox.chats(InboxQuery(autoModeDefault: true, search: "трек 4242"))
    }
    try await time("search 'Customer 99999' (a name)", runs: searchRuns) {
        _ = try await inbox.chats(InboxQuery(autoModeDefault: true, search: "Customer 99999"))
    }
    try await time("unread count", runs: runs) { _ = try await inbox.unreadCount() }
    let open = try require(try await inbox.chats(base).items.first?.id)
    try await time("one conversation's newest 50 messages", runs: runs) { _ = try await inbox.messages(of: open, before: nil, limit: 50) }
    try await time("one conversation's recent runs (20)", runs: runs) { _ = try await inbox.recentRuns(of: open, limit: 20) }

case "commits":
    let count = arguments.count > 2 ? Int(arguments[2]) ?? 20_000 : 20_000
    // What "before" leaves out of v14: everything by default, or some of it, to find what costs.
    let parts = Set(arguments.count > 3 ? Array(arguments[3...]) : ["trigger", "waiting", "unread", "traces"])
    // Both files are written side by side, one commit each in turn (which goes first
    // alternates), so a load that comes and goes on a shared machine hits both alike.
    var databases: [ReplyflowDatabase] = []
    var directories: [String] = []
    for legacy in [false, true] {
        let directory = NSTemporaryDirectory() + "inbox-bench-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        directories.append(directory)
        let database = try ReplyflowDatabase(path: directory + "/state.sqlite")
        if legacy {
            try database.writer.write { db in
                if parts.contains("trigger") {
                    try db.execute(
                        sql: """
                            DROP TRIGGER conversations_follow_messages;
                            CREATE TRIGGER conversations_follow_messages AFTER INSERT ON messages BEGIN
                                INSERT INTO conversations (source, platform_chat_id, created_at, updated_at)
                                VALUES (NEW.source, NEW.user_id, NEW.created_at, NEW.created_at)
                                ON CONFLICT (source, platform_chat_id) DO UPDATE SET updated_at = max(updated_at, excluded.updated_at);
                            END;
                            """)
                }
                if parts.contains("waiting") { try db.execute(sql: "DROP INDEX conversations_waiting") }
                if parts.contains("unread") { try db.execute(sql: "DROP INDEX conversations_unread") }
                if parts.contains("traces") { try db.execute(sql: "DROP INDEX run_traces_by_user") }
            }
        }
        databases.append(database)
    }
    defer { for directory in directories { try? FileManager.default.removeItem(atPath: directory) } }
    /// One run's commit: a message (a customer's, an AI answer, every fourth a staff answer,
    /// so waiting starts and ends) and its trace, in one of 2,000 chats.
    func record(_ index: Int) -> RunRecord {
        let user = "u\(index % 2_000)", at = t0.addingTimeInterval(Double(index))
        let author: StoredMessage.Author = index % 4 == 3 ? .staff : index % 4 == 1 ? .assistant : .customer
        var record = RunRecord()
        record.messages = [
            StoredMessage(
                userID: user, source: .app, direction: author == .customer ? .user : .support, text: "where is my order \(index)", at: at,
                flow: author == .assistant ? "Auto" : nil, author: author)
        ]
        var result = RunResult(trigger: .appMessage, userID: user)
        result.flows = [FlowOutcome(name: "Forward", result: .ran)]
        record.trace = RunRecord.Trace(result: result, kind: .appMessage, at: at)
        return record
    }
    var samples: [[Double]] = [[], []]
    for index in 0..<count {
        let made = record(index)
        for which in (index % 2 == 0 ? [0, 1] : [1, 0]) {
            let start = ContinuousClock.now
            _ = try await databases[which].commit(made)
            let elapsed = ContinuousClock.now - start
            samples[which].append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
        }
    }
    let mean = { (values: [Double]) in values.reduce(0, +) / Double(values.count) }
    let (afterP50, afterP99) = percentiles(samples[0]), (beforeP50, beforeP99) = percentiles(samples[1])
    print("commit of one message + trace, \(count) commits each, interleaved; before = v14 without its \(parts.sorted().joined(separator: ", "))")
    print(String(format: "  before: mean %6.1f µs  p50 %6.1f µs  p99 %7.1f µs", mean(samples[1]), beforeP50, beforeP99))
    print(String(format: "  after:  mean %6.1f µs  p50 %6.1f µs  p99 %7.1f µs", mean(samples[0]), afterP50, afterP99))

default:
    print("unknown command \(arguments[1])")
    exit(2)
}

func require<T>(_ value: T?) throws -> T {
    guard let value else { throw CocoaError(.featureUnsupported) }
    return value
}
