import Flows
import Foundation
import Logging
import PostgresNIO
import Storage

/// Writes one `RunRecord` inside an open transaction: the key first (a key already there
/// ends the commit with nothing written), then the state, the messages, the outbox items,
/// the assistant's memory and the trace, in the order and with the effect of SQLite's
/// `ReplyflowDatabase.commit`. Migration 2's triggers keep `conversations` and
/// `conversation_counts` as SQLite's do.
struct PostgresRunCommit {
    let connection: PostgresConnection
    let logger: Logger

    func write(_ record: RunRecord) async throws -> CommitReceipt? {
        if let key = record.idempotencyKey, try await !claim(key) { return nil }
        for write in record.writes { try await execute(write) }
        var messageIDs: [Int64] = []
        for message in record.messages {
            messageIDs.append(try await insert(message))
        }
        var outbox: [OutboxItem] = []
        for draft in record.outbox {
            let messageID = draft.message.map { messageIDs[$0] }
            let at = draft.at.timeIntervalSince1970
            let id = try await one(
                connection.queryIfOpen(
                    """
                    INSERT INTO outbox (kind, lane, payload, status, attempts, next_attempt_at, created_at, updated_at, message_id)
                    VALUES (\(draft.kind.rawValue), \(draft.lane), \(draft.payload), \(draft.status.rawValue), 0, \(at), \(at), \(at), \(messageID))
                    RETURNING id
                    """, logger: logger
                ).decode(Int64.self))
            outbox.append(
                OutboxItem(
                    id: id, kind: draft.kind, lane: draft.lane, payload: draft.payload, status: draft.status, attempts: 0,
                    nextAttemptAt: draft.at, lastError: nil, messageID: messageID))
        }
        if let memory = record.assistantMemory {
            try await run(
                """
                INSERT INTO assistant_memory (source, platform_chat_id, previous_response_id, updated_at)
                VALUES (\(memory.source.rawValue), \(memory.platformChatID), \(memory.responseID), \(memory.at.timeIntervalSince1970))
                ON CONFLICT (source, platform_chat_id) DO UPDATE SET previous_response_id = EXCLUDED.previous_response_id, updated_at = EXCLUDED.updated_at
                """)
        }
        if let trace = record.trace { try await insert(trace) }
        if !record.live.isEmpty { try await insert(record.live, messageIDs: messageIDs, of: record.messages) }
        return CommitReceipt(messageIDs: messageIDs, outbox: outbox)
    }

    /// The run's live entries, in one statement. They are numbered in commit order after the
    /// commit (`PostgresLiveFeed.number`), whose pass rings the other instances: commits do
    /// not wait on each other for it, and ring no doorbell themselves (a transaction that
    /// notifies takes a lock at its commit that every such commit waits for).
    private func insert(_ entries: [LiveEntry], messageIDs: [Int64], of messages: [StoredMessage]) async throws {
        // Arrays of text and numbers (postgres-nio binds no arrays of optionals): '' and 0
        // stand for none, and are made NULL again below.
        var kinds: [String] = [], sources: [String] = [], chats: [String] = [], ids: [Int64] = [], payloads: [String] = []
        func add(_ kind: String, _ source: String, _ chat: String, _ id: Int64 = 0, _ payload: String = "") {
            kinds.append(kind)
            sources.append(source)
            chats.append(chat)
            ids.append(id)
            payloads.append(payload)
        }
        for entry in entries {
            switch entry {
            case .message(let index):
                let message = messages[index]
                add("message", message.source.rawValue, message.userID, messageIDs[index])
                add("chat", message.source.rawValue, message.userID)
            case let .chat(source, chatID):
                add("chat", source.rawValue, chatID)
            case let .room(userID, item):
                add("room", "", userID, 0, item)
            }
        }
        try await run(
            """
            INSERT INTO live_events (kind, source, chat_id, message_id, payload)
            SELECT entry.kind, nullif(entry.source, ''), entry.chat_id, nullif(entry.message_id, 0), nullif(entry.payload, '')
            FROM unnest(\(kinds)::text[], \(sources)::text[], \(chats)::text[], \(ids)::bigint[], \(payloads)::text[])
                WITH ORDINALITY AS entry (kind, source, chat_id, message_id, payload, n)
            ORDER BY entry.n
            """)
    }
    /// The channel a numbering pass notifies (`PostgresLiveFeed` listens).
    static let doorbell = "replyflow_live"

    /// Marks the input handled; false when another commit (on any instance) marked it first.
    private func claim(_ key: IdempotencyKey) async throws -> Bool {
        let now = Date().timeIntervalSince1970
        let rows =
            switch key {
            case .telegramUpdate(let id):
                try await connection.queryIfOpen(
                    "INSERT INTO telegram_updates (update_id, received_at) VALUES (\(id), \(now)) ON CONFLICT DO NOTHING RETURNING 1", logger: logger)
            case .brevoMessage(let id):
                try await connection.queryIfOpen(
                    "INSERT INTO brevo_messages (message_id, direction, at) VALUES (\(id), 'received', \(now)) ON CONFLICT DO NOTHING RETURNING 1",
                    logger: logger)
            }
        return try await rows.collect().count == 1
    }

    private func execute(_ write: StateWrite) async throws {
        switch write {
        case let .noteUser(id, name, at, inbound):
            let at = at.timeIntervalSince1970, count: Int64 = inbound ? 1 : 0
            try await run(
                """
                INSERT INTO users (id, name, first_seen_at, last_seen_at, inbound_count) VALUES (\(id), \(name), \(at), \(at), \(count))
                ON CONFLICT (id) DO UPDATE SET name = coalesce(EXCLUDED.name, users.name), last_seen_at = EXCLUDED.last_seen_at,
                    inbound_count = users.inbound_count + EXCLUDED.inbound_count
                """)
        case let .setAutoMode(source, userID, on, at):
            let flag: Int64 = on ? 1 : 0
            try await run(
                """
                INSERT INTO chats (source, user_id, auto_mode, updated_at) VALUES (\(source.rawValue), \(userID), \(flag), \(at.timeIntervalSince1970))
                ON CONFLICT (source, user_id) DO UPDATE SET auto_mode = EXCLUDED.auto_mode, updated_at = EXCLUDED.updated_at
                """)
        case let .setMarker(userID, key, period, at):
            try await run(
                """
                INSERT INTO markers (user_id, key, period, created_at) VALUES (\(userID), \(key), \(period), \(at.timeIntervalSince1970))
                ON CONFLICT DO NOTHING
                """)
        case let .saveAssignment(experiment, userID, variant, at):
            try await run(
                """
                INSERT INTO experiment_assignments (experiment, user_id, variant, assigned_at) VALUES (\(experiment), \(userID), \(variant), \(at.timeIntervalSince1970))
                ON CONFLICT (experiment, user_id) DO UPDATE SET variant = EXCLUDED.variant, assigned_at = EXCLUDED.assigned_at
                """)
        case let .recordExposure(experiment, userID, variant, at):
            try await run(
                """
                INSERT INTO experiment_exposures (experiment, user_id, variant, first_at, exposure_count)
                VALUES (\(experiment), \(userID), \(variant), \(at.timeIntervalSince1970), 1)
                ON CONFLICT (experiment, user_id) DO UPDATE SET exposure_count = experiment_exposures.exposure_count + 1
                """)
        case let .recordConversion(experiment, userID, variant, at):
            try await run(
                """
                INSERT INTO experiment_conversions (experiment, user_id, variant, converted_at) VALUES (\(experiment), \(userID), \(variant), \(at.timeIntervalSince1970))
                ON CONFLICT DO NOTHING
                """)
        }
    }

    private func insert(_ message: StoredMessage) async throws -> Int64 {
        try await one(
            connection.queryIfOpen(
                """
                INSERT INTO messages (user_id, source, direction, text, media, created_at, flow, photo_url, platform_message_id, sender_name, author,
                    transcript, audio_location)
                VALUES (\(message.userID), \(message.source.rawValue), \(message.direction.rawValue), \(message.text), \(message.media.rawValue),
                    \(message.at.timeIntervalSince1970), \(message.flow), \(message.photoURL), \(message.platformMessageID), \(message.senderName),
                    \(message.author.rawValue), \(message.transcript), \(message.audioLocation))
                RETURNING id
                """, logger: logger
            ).decode(Int64.self))
    }

    /// One row per flow, or one saying why none ran (as `ReplyflowDatabase.insert(_:in:)`).
    private func insert(_ trace: RunRecord.Trace) async throws {
        let at = trace.at.timeIntervalSince1970, kind = trace.kind.rawValue, trigger = trace.result.trigger?.rawValue, user = trace.result.userID
        if trace.result.flows.isEmpty {
            let note = trace.result.note ?? "no flow listens to this trigger"
            try await run(
                """
                INSERT INTO run_traces (at, event_kind, trigger, user_id, note, flow, result, reason, variant, actions)
                VALUES (\(at), \(kind), \(trigger), \(user), \(note), NULL, NULL, NULL, NULL, NULL)
                """)
        }
        for flow in trace.result.flows {
            try await run(
                """
                INSERT INTO run_traces (at, event_kind, trigger, user_id, note, flow, result, reason, variant, actions)
                VALUES (\(at), \(kind), \(trigger), \(user), \(trace.result.note), \(flow.name), \(flow.result.rawValue), \(flow.reason),
                    \(flow.variant), \(trace.result.actionLines(of: flow.name)))
                """)
        }
    }

    private func run(_ query: PostgresQuery) async throws {
        _ = try await connection.queryIfOpen(query, logger: logger).collect()
    }

    private func one<Rows: AsyncSequence>(_ rows: Rows) async throws -> Rows.Element {
        for try await row in rows { return row }
        throw PostgresRunStoreError.noRowReturned
    }
}

/// A statement that must return a row returned none (an INSERT ... RETURNING).
enum PostgresRunStoreError: Error {
    case noRowReturned
}
