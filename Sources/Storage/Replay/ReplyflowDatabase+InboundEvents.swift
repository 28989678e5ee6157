import Flows
import Foundation
import GRDB

extension ReplyflowDatabase {
    /// The inbound events stored since `since` (and before `until`), oldest first, in the
    /// replay format: what `replyflow events export` writes and the flow studio compares on.
    ///
    /// Where each kind comes from:
    /// - `app_message`, `telegram_message`, `instagram_dm`: the customers' messages. The
    ///   further photos of one message, stored as messages of their own, are one event.
    ///   A voice message carries its stored transcript, and a message the AI answered
    ///   carries that reply's text as the AI's answer (flows' messages are stored with
    ///   their event's time, right after the event's own).
    /// - `history_fetch`: the first history fetch of a user's day, from the run traces
    ///   (later fetches of the day fire nothing and leave no trace).
    /// - `telegram_reply`: staff replies from the Telegram group, from the run traces, with
    ///   the reply's stored text.
    ///
    /// The user's name is the one stored now. Auto-mode switches made in the panel or
    /// through the `/api` are not events and are not included. Reads synchronously: call
    /// it from a thread that may block (a command, a thread pool), not from async code.
    public func forEachInboundEvent(since: Date, until: Date? = nil, limit: Int? = nil, _ body: (EventRecord) throws -> Void) throws {
        try writer.read { db in try Self.forEachInboundEvent(since: since, until: until, limit: limit, in: db, body) }
    }

    /// The same events, read off the caller's thread and returned together (the flow
    /// studio's comparison, bounded by `limit`).
    public func inboundEvents(since: Date, until: Date?, limit: Int?) async throws -> [EventRecord] {
        try await writer.read { db in
            var records: [EventRecord] = []
            try Self.forEachInboundEvent(since: since, until: until, limit: limit, in: db) { records.append($0) }
            return records
        }
    }

    private static func forEachInboundEvent(
        since: Date, until: Date?, limit: Int?, in db: Database, _ body: (EventRecord) throws -> Void
    ) throws {
        let sinceSeconds = since.timeIntervalSince1970
        let untilSeconds = until?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude
        let rows = try Row.fetchCursor(
            db, sql: Self.inboundEventsSQL { _ in "?" }, arguments: [sinceSeconds, untilSeconds, sinceSeconds, untilSeconds, limit ?? -1])
        var events = InboundEvents()
        while let row = try rows.next() {
            let stored = InboundEvents.Row(
                kind: row["kind"], userID: row["user_id"], at: row["at"], text: row["text"], media: row["media"],
                platformMessageID: row["platform_message_id"], transcript: row["transcript"], answer: row["answer"], name: row["name"])
            if let record = events.event(stored) { try body(record) }
        }
    }

    /// Customers' messages and the traced history fetches and staff replies, in time order
    /// (a tie keeps the order they were stored in). Messages have no time index: their ids
    /// grow with time, and one pass over the table is what an export of days costs anyway.
    ///
    /// `placeholder(n)` writes the n-th (from 1) parameter: since, until, since, until, limit.
    /// PostgreSQL runs the same query (`ReplyflowPostgres.forEachInboundEvent`).
    public static func inboundEventsSQL(_ placeholder: (Int) -> String) -> String {
        """
        SELECT events.at, kind, user_id, text, media, platform_message_id, transcript, answer, users.name AS name FROM (
            SELECT m.created_at AS at, 0 AS part, m.id AS id,
                CASE m.source WHEN 'telegram' THEN 'telegram_message' WHEN 'instagram' THEN 'instagram_dm' ELSE 'app_message' END AS kind,
                m.user_id AS user_id, m.text AS text, m.media AS media, m.platform_message_id AS platform_message_id,
                m.transcript AS transcript,
                (SELECT a.text FROM messages a WHERE a.user_id = m.user_id AND a.id > m.id AND a.id <= m.id + 32
                    AND a.created_at = m.created_at AND a.author = 'assistant' ORDER BY a.id LIMIT 1) AS answer
            FROM messages m
            WHERE m.author = 'customer' AND m.created_at >= \(placeholder(1)) AND m.created_at < \(placeholder(2))
            UNION ALL
            SELECT t.at, 1, min(t.id), t.event_kind, t.user_id,
                CASE WHEN t.event_kind = 'telegram_reply' THEN
                    (SELECT s.text FROM messages s WHERE s.user_id = t.user_id AND s.created_at = t.at AND s.source = 'app'
                        AND s.author = 'staff' ORDER BY s.id LIMIT 1) END,
                'none', NULL, NULL, NULL
            FROM run_traces t
            WHERE t.event_kind IN ('history_fetch', 'telegram_reply') AND t.user_id IS NOT NULL AND t.trigger IS NOT NULL
                AND t.at >= \(placeholder(3)) AND t.at < \(placeholder(4))
            GROUP BY t.at, t.event_kind, t.user_id
        ) AS events LEFT JOIN users ON users.id = events.user_id
        ORDER BY events.at, events.part, events.id
        LIMIT \(placeholder(5))
        """
    }
}
