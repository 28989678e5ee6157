import Flows
import Foundation
import GRDB

@testable import Storage

/// A customer with a row in every table that can hold something of theirs, written as the
/// server would have written them, with strings distinctive enough to find in any column.
struct SeededCustomer {
    var source: ChatSource
    var id: String
    var name: String
    var text: String
    /// The photo's public path; its file is in the uploads folder.
    var photo: String

    init(source: ChatSource, id: String, tag: String) {
        self.source = source
        self.id = id
        name = "Name-\(tag)"
        text = "words-of-\(tag)"
        photo = "/uploads/photo\(tag).jpg"
    }

    /// The strings that identify the customer: none may be left anywhere after erasure.
    var traces: [String] { [id, name, text, String(photo.dropFirst("/uploads/".count))] }

    /// Writes the rows (`number` keeps unique keys of different customers apart) and the
    /// photo's file into `uploads`.
    func seed(_ db: Database, number: Int, uploads: String) throws {
        let at = 1_767_261_600.0 + Double(number)
        try Data("jpeg".utf8).write(to: URL(fileURLWithPath: uploads + "/" + String(photo.dropFirst("/uploads/".count))))
        try db.execute(sql: "INSERT INTO users (id, name, first_seen_at, last_seen_at, inbound_count) VALUES (?, ?, ?, ?, 1)", arguments: [id, name, at, at])
        try db.execute(sql: "INSERT INTO chats (source, user_id, auto_mode, updated_at) VALUES (?, ?, 1, ?)", arguments: [source.rawValue, id, at])
        try db.execute(
            sql: """
                INSERT INTO messages (user_id, source, direction, text, media, created_at, photo_url, sender_name, author)
                VALUES (?, ?, 'user', ?, 'photo', ?, ?, ?, 'customer')
                """, arguments: [id, source.rawValue, text, at, photo, name])
        try db.execute(
            sql: "INSERT INTO messages (user_id, source, direction, text, media, created_at, author) VALUES (?, ?, 'support', ?, 'none', ?, 'staff')",
            arguments: [id, source.rawValue, "answer to \(text)", at + 1])
        let replyID = db.lastInsertedRowID
        try db.execute(sql: "INSERT INTO markers (user_id, key, period, created_at) VALUES (?, 'greeting', '2026-01-01', ?)", arguments: [id, at])
        try db.execute(
            sql: "INSERT INTO group_forwards (group_message_id, user_id, created_at, source) VALUES (?, ?, ?, ?)",
            arguments: [1000 + number, id, at, source.rawValue])
        for table in ["experiment_assignments", "experiment_exposures", "experiment_conversions"] {
            let time = ["experiment_assignments": "assigned_at", "experiment_exposures": "first_at", "experiment_conversions": "converted_at"][table]!
            let extra = table == "experiment_exposures" ? ", exposure_count" : ""
            try db.execute(
                sql: "INSERT INTO \(table) (experiment, user_id, variant, \(time)\(extra)) VALUES ('greeting-test', ?, 'b', ?\(extra.isEmpty ? "" : ", 1"))",
                arguments: [id, at])
        }
        try db.execute(
            sql: "INSERT INTO run_traces (at, event_kind, trigger, user_id, note, flow, result) VALUES (?, 'message', 'message', ?, ?, 'greeting', 'ran')",
            arguments: [at, id, "said \(text)"])
        try db.execute(sql: "INSERT INTO forum_topics (user_id, thread_id, created_at) VALUES (?, ?, ?)", arguments: [id, 2000 + number, at])
        try db.execute(
            sql: "INSERT INTO assistant_memory (source, platform_chat_id, previous_response_id, updated_at) VALUES (?, ?, ?, ?)",
            arguments: [source.rawValue, id, "resp_\(id)", at])
        // The forward of the message to the staff group, and the reply to the customer.
        // (An app chat's forward names no source, as the server writes it.)
        let sourceField = source == .app ? "" : #""source":"\#(source.rawValue)","#
        let forward = #"{"photos":["\#(photo)"],\#(sourceField)"text":"\#(text)","user_id":"\#(id)","user_name":"\#(name)"}"#
        try insertOutbox(db, kind: "telegram.forward", lane: "telegram-group", payload: forward, messageID: nil, at: at)
        switch source {
        case .app:
            try db.execute(
                sql: "INSERT INTO devices (fcm_token, user_id, platform, registered_at, updated_at) VALUES (?, ?, 'ios', ?, ?)",
                arguments: ["token-of-\(id)", id, at, at])
            try insertOutbox(db, kind: "fcm.push", lane: "fcm:\(id)", payload: #"{"text":"answer to \#(text)","user_id":"\#(id)"}"#, messageID: nil, at: at)
        case .telegram:
            try insertOutbox(
                db, kind: "telegram.copy", lane: "telegram-group", payload: #"{"chat_id":\#(id),"message_id":7,"source":"telegram","user_id":"\#(id)"}"#,
                messageID: nil, at: at)
            try insertOutbox(
                db, kind: "telegram.reply", lane: "telegram:\(id)", payload: #"{"chat_id":\#(id),"text":"answer to \#(text)"}"#, messageID: replyID, at: at)
            try db.execute(
                sql: "INSERT INTO telegram_inbox (update_id, body, received_at) VALUES (?, ?, ?)",
                arguments: [3000 + number, #"{"update_id":\#(3000 + number),"message":{"chat":{"id":\#(id)},"text":"\#(text)"}}"#, at])
        case .instagram:
            try insertOutbox(
                db, kind: "brevo.message", lane: "brevo:\(id)", payload: #"{"text":"answer to \#(text)","visitor_id":"\#(id)"}"#, messageID: replyID, at: at)
        }
        // A staff action on the chat, as the panel audits it.
        try db.execute(
            sql: "INSERT INTO audit_log (at, actor, action, detail) VALUES (?, 'alice', 'reply', ?)",
            arguments: [at, "message \(replyID) to \(source.rawValue) chat \(id)"])
    }

    private func insertOutbox(_ db: Database, kind: String, lane: String, payload: String, messageID: Int64?, at: Double) throws {
        try db.execute(
            sql: """
                INSERT INTO outbox (kind, lane, payload, status, attempts, next_attempt_at, created_at, updated_at, message_id)
                VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?)
                """, arguments: [kind, lane, payload, at, at, at, messageID])
    }
}

/// Rows of every table, as text, for finding a customer's strings in any column.
func everyRow(_ db: Database) throws -> [String: [String]] {
    var rows: [String: [String]] = [:]
    for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") {
        rows[table] = try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"").map { row in
            row.databaseValues.map { "\($0)" }.joined(separator: "|")
        }
    }
    return rows
}
