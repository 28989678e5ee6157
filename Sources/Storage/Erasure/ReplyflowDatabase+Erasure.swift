import Flows
import Foundation
import GRDB

/// What erasing a customer removed, kind by kind (see `ReplyflowDatabase.eraseCustomer`).
public struct CustomerErasure: Sendable, Equatable {
    /// How many of one kind of thing were removed.
    public struct Count: Sendable, Equatable {
        public var kind: String
        public var count: Int

        public init(kind: String, count: Int) {
            self.kind = kind
            self.count = count
        }
    }

    public init(counts: [Count], uploadsNotRemoved: [String]) {
        self.counts = counts
        self.uploadsNotRemoved = uploadsNotRemoved
    }

    /// Every kind, in the order they are shown, zeros included.
    public var counts: [Count]
    /// Upload files that could not be deleted (their rows are gone): delete them by hand.
    public var uploadsNotRemoved: [String]

    /// The count of one kind (0 when it is not one).
    public func count(of kind: String) -> Int {
        counts.first { $0.kind == kind }?.count ?? 0
    }

    /// "3 messages, 1 upload, ..." for the kinds that were removed.
    public var summary: String {
        let removed = counts.filter { $0.count > 0 }.map { "\($0.kind) \($0.count)" }
        return removed.isEmpty ? "nothing" : removed.joined(separator: ", ")
    }
}

/// Why a customer could not be erased.
public enum CustomerErasureError: Error, Equatable, CustomStringConvertible {
    /// Nothing is stored under that source and id.
    case notFound(source: ChatSource, id: String)
    /// The id cannot be one of that channel (a Telegram chat id is a number).
    case invalidID(source: ChatSource, id: String, reason: String)
    /// The schema has tables erasure has not been taught about (a newer migration).
    case tablesNotConsidered([String])

    public var description: String {
        switch self {
        case .notFound(let source, let id):
            "nothing is stored for the \(source.rawValue) customer \(id) (check --source and --id); nothing was removed"
        case .invalidID(let source, let id, let reason):
            "\"\(id)\" is not a \(source.rawValue) customer id: \(reason)"
        case .tablesNotConsidered(let tables):
            "erasure does not know the tables \(tables.joined(separator: ", ")): add them to CustomerTables.considered; nothing was removed"
        }
    }
}

/// Forgets a customer, on SQLite (`ReplyflowDatabase`) or PostgreSQL
/// (`PostgresCustomerErasure`): the command line and the admin panel both come here.
public protocol CustomerErasing: Sendable {
    /// See `ReplyflowDatabase.eraseCustomer`. Throws `CustomerErasureError`.
    func eraseCustomer(source: ChatSource, id: String, actor: String, address: String?, uploadsDirectory: String?, at now: Date) async throws
        -> CustomerErasure
}

extension CustomerErasing {
    /// Erases now.
    public func eraseCustomer(source: ChatSource, id: String, actor: String, address: String?, uploadsDirectory: String?) async throws
        -> CustomerErasure
    {
        try await eraseCustomer(source: source, id: id, actor: actor, address: address, uploadsDirectory: uploadsDirectory, at: Date())
    }
}

// MARK: - Erasing one customer

extension ReplyflowDatabase: CustomerErasing {
    /// The kinds an erasure reports, in order.
    public static let erasureKinds = [
        "messages", "uploads", "conversations", "chat settings", "devices", "markers", "traces", "experiment records", "outbox items",
        "user profiles", "staff-group links", "forum topics", "AI memory", "pending Telegram updates", "audit entries anonymised",
    ]

    /// Forgets a customer: their messages, the chat's inbox row and settings, devices, markers,
    /// traces, experiment records, deliveries, the AI's memory of the chat, their Telegram
    /// updates not handled yet; audit entries naming the chat get `[erased]` for its id.
    /// All in one transaction, which also appends an audit entry by `actor` with the counts
    /// (never the id, a name or a text). Then, after the commit, the upload files the
    /// messages referred to are deleted from `uploadsDirectory` (nil: files are left).
    ///
    /// Rows keyed by the id alone (`users`, markers, experiments, traces, forum topics) are
    /// the runtime's state of that id on every channel, and go too.
    ///
    /// The command line and the admin panel both come here. Throws `CustomerErasureError`.
    public func eraseCustomer(
        source: ChatSource, id: String, actor: String, address: String?, uploadsDirectory: String?, at now: Date
    ) async throws -> CustomerErasure {
        try Self.validateCustomerID(id, source: source)
        let (counts, photos) = try await writer.write { db in
            try Self.checkTablesConsidered(db)
            // The customer must be known on that channel: a wrong --source must not take the
            // state another channel's customer of the same id shares (markers, traces).
            guard try Self.isKnown(source: source, id: id, db) else { throw CustomerErasureError.notFound(source: source, id: id) }
            let (counts, photos) = try Self.eraseRows(source: source, id: id, db)
            let erasure = CustomerErasure(counts: counts, uploadsNotRemoved: [])
            try db.execute(
                sql: "INSERT INTO audit_log (at, actor, action, detail, address) VALUES (?, ?, 'customer erased', ?, ?)",
                arguments: [now.timeIntervalSince1970, actor, "\(source.rawValue) customer: \(erasure.summary)", address])
            return (counts, photos)
        }
        var erasure = CustomerErasure(counts: counts, uploadsNotRemoved: [])
        if let uploadsDirectory {
            let (removed, failed) = UploadFiles.remove(try await UploadFiles.unreferenced(photos, in: writer), from: uploadsDirectory)
            if let index = erasure.counts.firstIndex(where: { $0.kind == "uploads" }) { erasure.counts[index].count = removed }
            erasure.uploadsNotRemoved = failed
        }
        return erasure
    }

    public static func validateCustomerID(_ id: String, source: ChatSource) throws {
        guard !id.isEmpty, id.count <= 256, !id.contains(where: \.isNewline) else {
            throw CustomerErasureError.invalidID(source: source, id: id, reason: "an id is 1 to 256 characters on one line")
        }
        if source == .telegram, Int64(id) == nil {
            throw CustomerErasureError.invalidID(source: source, id: id, reason: "a Telegram chat id is a number")
        }
    }

    /// Whether the channel has a chat, a message or (the app) a device of the id.
    static func isKnown(source: ChatSource, id: String, _ db: Database) throws -> Bool {
        let chat: StatementArguments = [source.rawValue, id]
        return try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (SELECT 1 FROM conversations WHERE source = ?1 AND platform_chat_id = ?2)
                    OR EXISTS (SELECT 1 FROM messages WHERE user_id = ?2 AND source = ?1)
                    OR EXISTS (SELECT 1 FROM chats WHERE source = ?1 AND user_id = ?2)
                    OR (?1 = 'app' AND EXISTS (SELECT 1 FROM devices WHERE user_id = ?2))
                """, arguments: chat) ?? false
    }

    /// Fails when the schema has a table `CustomerTables` does not list.
    static func checkTablesConsidered(_ db: Database) throws {
        let unknown = try unconsideredTables(db)
        if !unknown.isEmpty { throw CustomerErasureError.tablesNotConsidered(unknown) }
    }

    /// Tables of the schema that erasure has not been taught about, sorted.
    static func unconsideredTables(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .filter { !CustomerTables.isInternal($0) && CustomerTables.considered[$0] == nil }
    }

    /// Deletes the customer's rows; returns the counts (uploads: the files referred to) and
    /// the upload paths their messages referred to.
    private static func eraseRows(source: ChatSource, id: String, _ db: Database) throws -> ([CustomerErasure.Count], Set<String>) {
        var counts: [String: Int] = [:]
        func delete(_ kind: String, _ sql: String, _ arguments: StatementArguments) throws {
            try db.execute(sql: sql, arguments: arguments)
            counts[kind, default: 0] += db.changesCount
        }
        let chat: StatementArguments = [source.rawValue, id]

        let photos = try String.fetchSet(
            db, sql: "SELECT DISTINCT photo_url FROM messages WHERE source = ? AND user_id = ? AND photo_url IS NOT NULL", arguments: chat
        ).filter { UploadFiles.name(ofPublicPath: $0) != nil }
        counts["uploads"] = photos.count

        // Deliveries first: some find the chat through its messages. The lane names the
        // recipient of replies and pushes; forwards and copies to the staff group name
        // the chat in their payload.
        try delete(
            "outbox items",
            """
            DELETE FROM outbox WHERE message_id IN (SELECT id FROM messages WHERE source = ?1 AND user_id = ?2)
                OR lane = ?3
                OR (kind IN ('telegram.forward', 'telegram.copy') AND json_valid(payload)
                    AND json_extract(payload, '$.user_id') = ?2 AND coalesce(json_extract(payload, '$.source'), 'app') = ?1)
            """, [source.rawValue, id, Self.deliveryLane(source: source, id: id)])
        try delete("messages", "DELETE FROM messages WHERE source = ? AND user_id = ?", chat)
        try delete("conversations", "DELETE FROM conversations WHERE source = ? AND platform_chat_id = ?", chat)
        if let removed = counts["conversations"], removed > 0 {
            try db.execute(sql: "UPDATE conversation_counts SET total = max(0, total - ?) WHERE source = ?", arguments: [removed, source.rawValue])
        }
        try delete("chat settings", "DELETE FROM chats WHERE source = ? AND user_id = ?", chat)
        try delete("staff-group links", "DELETE FROM group_forwards WHERE source = ? AND user_id = ?", chat)
        try delete("AI memory", "DELETE FROM assistant_memory WHERE source = ? AND platform_chat_id = ?", chat)
        if source == .app {
            try delete("devices", "DELETE FROM devices WHERE user_id = ?", [id])
        }
        if source == .telegram, let chatID = Int64(id) {
            try delete(
                "pending Telegram updates",
                """
                DELETE FROM telegram_inbox WHERE json_valid(body)
                    AND (json_extract(body, '$.message.chat.id') = ?1 OR json_extract(body, '$.edited_message.chat.id') = ?1)
                """, [chatID])
        }
        // The runtime's state of the id.
        try delete("markers", "DELETE FROM markers WHERE user_id = ?", [id])
        try delete("traces", "DELETE FROM run_traces WHERE user_id = ?", [id])
        for table in ["experiment_assignments", "experiment_exposures", "experiment_conversions"] {
            try delete("experiment records", "DELETE FROM \(table) WHERE user_id = ?", [id])
        }
        try delete("user profiles", "DELETE FROM users WHERE id = ?", [id])
        try delete("forum topics", "DELETE FROM forum_topics WHERE user_id = ?", [id])

        // The panel's audit entries end with "<source> chat <id>": the id goes, the entry stays.
        let named = "\(source.rawValue) chat \(id)"
        let erased = "\(source.rawValue) chat [erased]"
        try delete("audit entries anonymised", "UPDATE audit_log SET detail = ? WHERE detail = ?", [erased, named])
        try delete(
            "audit entries anonymised",
            "UPDATE audit_log SET detail = substr(detail, 1, length(detail) - length(?1)) || ?2 WHERE length(detail) > length(?1) AND substr(detail, -length(?1)) = ?1",
            [" " + named, " " + erased])

        return (erasureKinds.map { CustomerErasure.Count(kind: $0, count: counts[$0] ?? 0) }, photos)
    }

    /// The outbox lane of deliveries to a customer (as the engine's `DeliveryPlan` names them).
    public static func deliveryLane(source: ChatSource, id: String) -> String {
        switch source {
        case .app: "fcm:\(id)"
        case .telegram: "telegram:\(Int64(id).map(String.init) ?? id)"
        case .instagram: "brevo:\(id)"
        }
    }
}
