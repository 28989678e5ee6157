import Flows
import Foundation
import GRDB
import Logging
import PostgresNIO
import TestSupport
import Testing

@testable import PostgresStorage
@testable import Storage

/// The admin panel's reads answer alike on both databases: the inbox (every filter, sort
/// and page, a chat's messages and runs, what staff have seen), the flows list's run
/// counts, the experiments pages, the stored events a comparison runs on, and the flow
/// studio's history. The same events, then the same script of calls, give the same
/// transcript.
@Suite(
    "The admin panel's reads on both databases", .timeLimit(.minutes(5)),
    .disabled(if: postgresMissing, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct PanelParityTests {
    private let logger = PostgresTestDatabase.logger

    @Test("inbox, run counts, experiments, stored events and flow versions: the same answers on SQLite and PostgreSQL")
    func sameAnswers() async throws {
        var want: [String] = []
        try await DrivenPair.drive(seed: 23, count: 300) { sqlite, postgres in
            want = try await Self.transcript(InboxQueries(database: sqlite, searchScanLimit: 150), reads: sqlite, versions: sqlite) { source, chat in
                try await sqlite.writer.read { db in
                    try Int64.fetchOne(db, sql: "SELECT id FROM conversations WHERE source = ? AND platform_chat_id = ?", arguments: [source, chat])
                }
            }
            let got = try await Self.transcript(
                PostgresInboxQueries(postgres, searchScanLimit: 150), reads: postgres, versions: PostgresFlowVersions(postgres)
            ) { source, chat in
                try await postgres.client.query(
                    "SELECT id FROM conversations WHERE source = \(source) AND platform_chat_id = \(chat)", logger: logger
                ).decode(Int64.self).first { _ in true }
            }
            #expect(got.count == want.count)
            var differences = 0
            for (index, (line, expected)) in zip(got, want).enumerated() where line != expected {
                differences += 1
                if differences <= 3 { Issue.record("call \(index): PostgreSQL \(line)\nSQLite \(expected)") }
            }
        }

        // The script reaches real data, so answers that are always empty cannot pass.
        #expect(want.contains { $0.hasPrefix("chats newestActivity all") && $0.contains("app ") })
        #expect(want.contains { $0.hasPrefix("unread: ") && $0 != "unread: 0" })
        #expect(want.contains { $0.hasPrefix("runs ") && $0.contains("ran") })
        #expect(want.contains { $0.hasPrefix("run counts: ") && $0.contains("ran") })
        #expect(want.contains { $0.hasPrefix("stored events: ") && !$0.hasSuffix(": 0") })
    }

    @Test("erasing customers removes the same rows and reports the same counts on SQLite and PostgreSQL")
    func sameErasure() async throws {
        var want: [String] = []
        try await DrivenPair.drive(seed: 5, count: 200) { sqlite, postgres in
            want = try await Self.erasures(sqlite) + DrivenPair.tableCounts(sqlite)
            let got = try await Self.erasures(PostgresCustomerErasure(postgres)) + DrivenPair.tableCounts(postgres)
            #expect(got == want)
        }
        #expect(want.contains { $0.hasPrefix("app u1: ") && $0.contains("messages") })
    }

    private static func erasures(_ store: any CustomerErasing) async throws -> [String] {
        var lines: [String] = []
        for (source, id) in [(ChatSource.app, "u1"), (.instagram, "u2"), (.telegram, "u3"), (.app, "nobody"), (.app, "u4"), (.app, "u1")] {
            do {
                let erasure = try await store.eraseCustomer(
                    source: source, id: id, actor: "anna", address: nil, uploadsDirectory: nil, at: Date(timeIntervalSince1970: 1_800_000_000))
                lines.append("\(source.rawValue) \(id): \(erasure.summary)")
            } catch {
                lines.append("\(source.rawValue) \(id): \(error)")
            }
        }
        return lines
    }

    /// The same calls on either database, each answer as one line. Conversation ids differ
    /// between the two (PostgreSQL's upsert draws sequence values it does not use), so
    /// chats are named by channel and chat id, and looked up through `conversationID`.
    private static func transcript(
        _ inbox: any InboxReading, reads: any PanelReads, versions: any FlowVersionStore,
        conversationID: (String, String) async throws -> Int64?
    ) async throws -> [String] {
        var lines: [String] = []
        func note(_ label: String, _ body: () async throws -> String) async {
            do { lines.append("\(label): \(try await body())") } catch { lines.append("\(label): \(error)") }
        }
        let queries: [(String, InboxQuery)] = [
            ("all", InboxQuery(autoModeDefault: true, limit: 4)),
            ("app", InboxQuery(source: .app, autoModeDefault: true, limit: 4)),
            ("telegram", InboxQuery(source: .telegram, autoModeDefault: true, limit: 4)),
            ("auto off", InboxQuery(autoMode: false, autoModeDefault: true, limit: 4)),
            ("auto on, default off", InboxQuery(autoMode: true, autoModeDefault: false, limit: 4)),
            ("waiting", InboxQuery(autoModeDefault: true, waitingOnly: true, limit: 4)),
            ("unread", InboxQuery(autoModeDefault: true, unreadOnly: true, limit: 4)),
            ("unread app", InboxQuery(source: .app, autoModeDefault: true, unreadOnly: true, limit: 4)),
            ("search u1", InboxQuery(autoModeDefault: true, search: "u1", limit: 4)),
            ("search text", InboxQuery(autoModeDefault: true, search: "E", limit: 4)),
            ("search 100%", InboxQuery(autoModeDefault: true, search: "100%", limit: 4)),
        ]
        var firstChats: [InboxChat] = []
        for sort in InboxSort.allCases {
            for (name, base) in queries {
                var query = base
                query.sort = sort
                // Every page, through the cursors.
                for page in 1...30 {
                    let result = try await inbox.chats(query)
                    if sort == .newestActivity && name == "all" && page == 1 { firstChats = result.items }
                    lines.append("chats \(sort.rawValue) \(name) \(page): \(result.items.map(describe)) more=\(result.next != nil)")
                    guard let next = result.next else { break }
                    query.after = next
                }
            }
        }
        await note("cursor of another sort") {
            let page = try await inbox.chats(InboxQuery(autoModeDefault: true, limit: 1))
            guard let next = page.next else { return "no second page" }
            return "\(try await inbox.chats(InboxQuery(sort: .longestWaiting, autoModeDefault: true, after: next)).items.count)"
        }
        await note("unread") { "\(try await inbox.unreadCount())" }
        for chat in firstChats {
            let key = "\(chat.source.rawValue) \(chat.platformChatID)"
            guard let id = try await conversationID(chat.source.rawValue, chat.platformChatID) else {
                lines.append("no id for \(key)")
                continue
            }
            let newest = try await inbox.messages(of: id, before: nil, limit: 3)
            lines.append("messages \(key): \(newest.map(describe))")
            if let oldest = newest.first {
                await note("older \(key)") { "\(try await inbox.messages(of: id, before: oldest.id, limit: 2).map(describe))" }
                await note("audio \(key)") { "\(String(describing: try await inbox.audioLocation(of: oldest.id, in: id)))" }
            }
            await note("runs \(key)") { "\(try await inbox.recentRuns(of: id, limit: 3).map(describe))" }
            if let last = newest.last {
                await note("read \(key)") {
                    try await inbox.markRead(conversationID: id, upTo: last.id + 1_000)
                    return "\(try await inbox.unreadCount())"
                }
            }
        }
        await note("read unknown") {
            try await inbox.markRead(conversationID: 999_999, upTo: 1)
            return "read"
        }
        await note("messages unknown") { "\(try await inbox.messages(of: 999_999, before: nil, limit: 3).count)" }
        await note("runs unknown") { "\(try await inbox.recentRuns(of: 999_999, limit: 3).count)" }

        let longAgo = Date(timeIntervalSince1970: 0)
        await note("run counts") {
            try await reads.flowRunCounts(since: longAgo).sorted { $0.key < $1.key }.map { "\($0.key) ran \($0.value.ran) skipped \($0.value.skipped)" }
                .joined(separator: "; ")
        }
        await note("experiments") {
            let (keys, counts) = try await reads.experimentCounts()
            return keys.map { key in "\(key) \((counts[key] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.exposures)/\($0.value.conversions)" })" }
                .joined(separator: "; ")
        }
        for key in try await reads.experimentCounts().keys + ["never-run"] {
            await note("daily \(key)") {
                guard let daily = try await reads.dailyExposures(experiment: key, timeZone: TimeZone(identifier: "Europe/Moscow")!) else { return "none" }
                return "\(daily.days) \(daily.counts.sorted { $0.key < $1.key }) \(daily.first.timeIntervalSince1970) \(daily.last.timeIntervalSince1970)"
            }
        }
        await note("stored events") { "\(try await reads.inboundEvents(since: longAgo, until: nil, limit: nil).count)" }
        await note("stored events, first 20") {
            try await reads.inboundEvents(since: longAgo, until: nil, limit: 20).map { String(describing: $0) }
                .joined(separator: "; ")
        }

        let at = Date(timeIntervalSince1970: 1_800_000_000)
        await note("record versions") {
            let recorded = try await versions.recordFlowVersions(
                [
                    NewFlowVersion(file: "a.yaml", change: .outside, content: "x: 1", contentHash: "h1", author: "outside the panel"),
                    NewFlowVersion(file: "a.yaml", change: .save, content: "x: 2", contentHash: "h2", comment: "fix", author: "anna"),
                    NewFlowVersion(file: "b.yaml", change: .delete, content: nil, contentHash: nil, author: "bob"),
                ], at: at)
            return recorded.map(describe).joined(separator: "; ")
        }
        await note("versions of a") { try await versions.flowVersions(of: "a.yaml").map(describe).joined(separator: "; ") }
        await note("newest version of a") { try await versions.flowVersions(of: "a.yaml", limit: 1).map(describe).joined(separator: "; ") }
        await note("version 1 of a") { try await versions.flowVersion(id: 1, of: "a.yaml").map(describe) ?? "none" }
        await note("version 1 of b") { try await versions.flowVersion(id: 1, of: "b.yaml").map(describe) ?? "none" }
        await note("latest") { try await versions.latestFlowVersions().sorted { $0.key < $1.key }.map { "\($0.key) \(describe($0.value))" }.joined(separator: "; ") }
        return lines
    }

    private static func describe(_ chat: InboxChat) -> String {
        let preview = chat.lastMessage.map { "\($0.id) \($0.text) \($0.media) \($0.author) \($0.at.timeIntervalSince1970)" } ?? "-"
        return "\(chat.source.rawValue) \(chat.platformChatID) \(chat.name ?? "-") \(chat.updatedAt.timeIntervalSince1970) \(String(describing: chat.autoMode)) "
            + "unread=\(chat.unread) waiting=\(chat.waitingSince?.timeIntervalSince1970 ?? 0) [\(preview)]"
    }

    private static func describe(_ message: InboxMessage) -> String {
        "\(message.id) \(message.direction) \(message.author) \(message.senderName ?? "-") \(message.flow ?? "-") \(message.text) \(message.media) "
            + "\(message.photoURL ?? "-") \(message.createdAt.timeIntervalSince1970) \(message.delivery.map { "\($0.itemID) \($0.status) \($0.lastError ?? "-")" } ?? "-") "
            + "\(message.transcript ?? "-") \(message.audioLocation ?? "-")"
    }

    private static func describe(_ run: ChatRunTrace) -> String {
        "\(run.at.timeIntervalSince1970) \(run.eventKind) \(run.trigger?.rawValue ?? "-") \(run.note ?? "-") "
            + "\(run.flows.map { "\($0.flow) \($0.result) \($0.reason ?? "-") \($0.variant ?? "-") \($0.actions)" })"
    }

    private static func describe(_ version: FlowVersion) -> String {
        "\(version.id) \(version.file) \(version.change) \(version.content ?? "-") \(version.contentHash ?? "-") \(version.comment) \(version.author) "
            + "\(version.createdAt.timeIntervalSince1970)"
    }
}
