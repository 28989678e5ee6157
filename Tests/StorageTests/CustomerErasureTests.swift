import Flows
import Foundation
import GRDB
import Testing

@testable import Storage
import TestSupport

@Suite("Customer erasure", .machineShare)
struct CustomerErasureTests {
    /// A database file and an uploads folder holding three customers to erase, one per
    /// channel, and three to keep.
    struct Fixture {
        let directory = NSTemporaryDirectory() + "replyflow-erasure-" + UUID().uuidString
        var uploads: String { directory + "/uploads" }
        let database: ReplyflowDatabase
        let erased = [
            SeededCustomer(source: .telegram, id: "987654321", tag: "tgerased"),
            SeededCustomer(source: .app, id: "alice-7f3k", tag: "apperased"),
            SeededCustomer(source: .instagram, id: "visitor-x1y2", tag: "igerased"),
        ]
        let kept = [
            SeededCustomer(source: .telegram, id: "123456789", tag: "tgkept"),
            SeededCustomer(source: .app, id: "bob-2m9q", tag: "appkept"),
            SeededCustomer(source: .instagram, id: "visitor-z3w4", tag: "igkept"),
        ]

        init() throws {
            try FileManager.default.createDirectory(atPath: directory + "/uploads", withIntermediateDirectories: true)
            database = try ReplyflowDatabase(path: directory + "/state.sqlite")
            let customers = erased + kept
            let uploads = directory + "/uploads"
            try database.writer.write { db in
                for (number, customer) in customers.enumerated() { try customer.seed(db, number: number, uploads: uploads) }
                // Tables that hold nothing of customers still get a row, to show they are kept.
                try db.execute(sql: "INSERT INTO telegram_updates (update_id, received_at) VALUES (1, 0)")
                try db.execute(sql: "INSERT INTO brevo_messages (message_id, direction, at) VALUES ('m1', 'received', 0)")
                try db.execute(
                    sql: "INSERT INTO staff_accounts (username, role, password_hash, created_at, updated_at) VALUES ('alice', 'admin', 'x', 0, 0)")
                try db.execute(
                    sql: "INSERT INTO staff_sessions (id_hash, account_id, csrf_token, created_at, last_seen_at) VALUES ('h', 1, 'c', 0, 0)")
            }
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    @Test("every table of the schema has been considered by erasure, and none it lists is gone")
    func everyTableConsidered() throws {
        let database = try ReplyflowDatabase()
        let tables = try database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'").filter { !CustomerTables.isInternal($0) }
        }
        #expect(Set(tables) == Set(CustomerTables.considered.keys), "tables added or dropped by a migration need a line in CustomerTables.considered")
        #expect(try database.writer.read(ReplyflowDatabase.unconsideredTables).isEmpty)
    }

    @Test("a table erasure was not taught about makes every erasure fail, naming it, and removes nothing")
    func unknownTableFailsLoudly() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.database.writer.write { db in try db.execute(sql: "CREATE TABLE customer_notes (user_id TEXT, note TEXT)") }
        let target = fixture.erased[0]
        await #expect(throws: CustomerErasureError.tablesNotConsidered(["customer_notes"])) {
            try await fixture.database.eraseCustomer(
                source: target.source, id: target.id, actor: "command line", address: nil, uploadsDirectory: fixture.uploads)
        }
        let messages = try await fixture.database.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM messages WHERE user_id = ?", arguments: [target.id])
        }
        #expect(messages == 2)
    }

    @Test("erasing a customer leaves nothing of them in any table or the uploads folder, keeps the others whole, and audits counts only")
    func erasesEverythingOfOneCustomerOnly() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let before = try await fixture.database.writer.read(everyRow)
        let countsBefore = try await fixture.database.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT source, total FROM conversation_counts").reduce(into: [String: Int]()) { $0[$1[0]] = $1[1] }
        }

        var erasures: [CustomerErasure] = []
        for customer in fixture.erased {
            erasures.append(
                try await fixture.database.eraseCustomer(
                    source: customer.source, id: customer.id, actor: "admin-ann", address: "127.0.0.1", uploadsDirectory: fixture.uploads))
        }
        let after = try await fixture.database.writer.read(everyRow)

        // Nothing of the erased customers anywhere: not an id, a name, a text or a file name.
        for customer in fixture.erased {
            for (table, rows) in after {
                for trace in customer.traces {
                    #expect(!rows.contains { $0.contains(trace) }, "\(table) still holds \(trace)")
                }
            }
            #expect(!FileManager.default.fileExists(atPath: fixture.uploads + "/" + String(customer.photo.dropFirst("/uploads/".count))))
        }
        // The others' rows, every one of them, as they were.
        for customer in fixture.kept {
            for (table, rows) in before where table != "conversation_counts" {
                let theirs = rows.filter { row in customer.traces.contains { row.contains($0) } }
                let theirsAfter = (after[table] ?? []).filter { row in customer.traces.contains { row.contains($0) } }
                #expect(theirs == theirsAfter, "\(table) lost rows of \(customer.id)")
            }
            #expect(FileManager.default.fileExists(atPath: fixture.uploads + "/" + String(customer.photo.dropFirst("/uploads/".count))))
        }
        for table in ["telegram_updates", "brevo_messages", "staff_accounts", "staff_sessions"] {
            #expect(before[table] == after[table], "\(table) is not the customers'")
        }
        // One conversation fewer per channel.
        let countsAfter = try await fixture.database.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT source, total FROM conversation_counts").reduce(into: [String: Int]()) { $0[$1[0]] = $1[1] }
        }
        for source in ChatSource.allCases { #expect(countsAfter[source.rawValue] == (countsBefore[source.rawValue] ?? 0) - 1) }

        // What each erasure said it removed.
        let telegram = erasures[0]
        #expect(telegram.count(of: "messages") == 2)
        #expect(telegram.count(of: "uploads") == 1)
        #expect(telegram.count(of: "conversations") == 1)
        #expect(telegram.count(of: "outbox items") == 3)
        #expect(telegram.count(of: "pending Telegram updates") == 1)
        #expect(telegram.count(of: "experiment records") == 3)
        #expect(telegram.count(of: "audit entries anonymised") == 1)
        #expect(telegram.count(of: "devices") == 0)
        #expect(erasures[1].count(of: "devices") == 1)
        #expect(erasures[1].count(of: "outbox items") == 2)
        #expect(erasures[2].count(of: "outbox items") == 2)
        #expect(erasures.allSatisfy { $0.uploadsNotRemoved.isEmpty })

        // The audit log: one entry per erasure, by the admin, with counts and nothing else.
        let entries = try await fixture.database.auditEntries(page: 1, limit: 100).filter { $0.action == "customer erased" }
        #expect(entries.count == 3)
        for entry in entries {
            #expect(entry.actor == "admin-ann")
            #expect(entry.detail.contains("messages 2"))
        }
        #expect(entries.map(\.detail).contains { $0.hasPrefix("telegram customer: ") })
        // The staff's own entries on the chats stay, without the customer's id.
        let anonymised = try await fixture.database.auditEntries(page: 1, limit: 100).filter { $0.action == "reply" }
        #expect(anonymised.filter { $0.detail.hasSuffix("chat [erased]") }.count == 3)
    }

    @Test("an unknown customer, or a Telegram id that is no number, is a clear error and removes nothing")
    func refusals() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let before = try await fixture.database.writer.read(everyRow)
        await #expect(throws: CustomerErasureError.notFound(source: .app, id: "nobody")) {
            try await fixture.database.eraseCustomer(source: .app, id: "nobody", actor: "command line", address: nil, uploadsDirectory: fixture.uploads)
        }
        // The Telegram customer's id, but on the wrong channel: not even the state kept by
        // the id alone (markers, traces) goes.
        await #expect(throws: CustomerErasureError.notFound(source: .app, id: "987654321")) {
            try await fixture.database.eraseCustomer(source: .app, id: "987654321", actor: "command line", address: nil, uploadsDirectory: fixture.uploads)
        }
        for bad in ["abc", "", "12\n3"] {
            await #expect(throws: CustomerErasureError.self) {
                try await fixture.database.eraseCustomer(source: .telegram, id: bad, actor: "command line", address: nil, uploadsDirectory: fixture.uploads)
            }
        }
        let after = try await fixture.database.writer.read(everyRow)
        #expect(before == after)
    }
}
