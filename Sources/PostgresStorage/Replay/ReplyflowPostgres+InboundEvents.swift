import Flows
import Foundation
import PostgresNIO
import Storage

extension ReplyflowPostgres {
    /// The inbound events stored since `since` (and before `until`), oldest first, in the
    /// replay format: SQLite's `ReplyflowDatabase.forEachInboundEvent`, same query, same
    /// events (`replyflow events export --db postgres://...`). Rows stream as they come.
    public func forEachInboundEvent(since: Date, until: Date? = nil, limit: Int? = nil, _ body: (EventRecord) throws -> Void) async throws {
        var bindings = PostgresBindings()
        bindings.append(since.timeIntervalSince1970)
        bindings.append(until?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude)
        bindings.append(since.timeIntervalSince1970)
        bindings.append(until?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude)
        bindings.append(limit)
        let sql = ReplyflowDatabase.inboundEventsSQL { "$\($0)" }
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        var events = InboundEvents()
        for try await (at, kind, userID, text, media, platformID, transcript, answer, name) in rows.decode(
            (Double, String, String, String?, String?, String?, String?, String?, String?).self)
        {
            let row = InboundEvents.Row(
                kind: kind, userID: userID, at: at, text: text, media: media, platformMessageID: platformID, transcript: transcript, answer: answer,
                name: name)
            if let record = events.event(row) { try body(record) }
        }
    }
}
