import Flows
import Foundation
import PostgresNIO
import Storage

extension ReplyflowPostgres {
    /// The traces `query` asks for, newest first, in one read-only snapshot: the same
    /// rows, pages and scan bound as SQLite's `ReplyflowDatabase.traces` (`replyflow
    /// traces --db postgres://...`). Time bounds become id bounds by a binary search on
    /// the id, as there: traces are appended in time order.
    public func traces(_ query: TraceQuery) async throws -> TracePage {
        try await client.withConnection { connection in
            _ = try await connection.queryIfOpen("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger).collect()
            do {
                let page = try await Self.traces(query, on: connection, logger: logger)
                _ = try await connection.queryIfOpen("COMMIT", logger: logger).collect()
                return page
            } catch {
                _ = try? await connection.queryIfOpen("ROLLBACK", logger: logger).collect()
                throw error
            }
        }
    }

    private static func traces(_ query: TraceQuery, on connection: PostgresConnection, logger: Logger) async throws -> TracePage {
        let newest = try await connection.queryIfOpen("SELECT max(id) FROM run_traces", logger: logger).decode(Int64?.self)
            .first { _ in true }.flatMap { $0 } ?? 0
        var upper = newest
        if let before = query.before { upper = min(upper, before - 1) }
        if let until = query.until { upper = min(upper, try await firstTraceID(atOrAfter: until, newest: newest, connection, logger) - 1) }
        var lower: Int64 = 1
        if let since = query.since { lower = try await firstTraceID(atOrAfter: since, newest: newest, connection, logger) }
        guard upper >= lower else { return TracePage(rows: [], older: nil, stoppedScanning: false) }
        let floor = query.isIndexed ? lower : max(lower, upper - TraceQuery.scanLimit + 1)

        var bindings = PostgresBindings()
        var conditions: [String] = []
        func condition(_ sql: String, _ values: [any PostgresNonThrowingEncodable & Sendable]) {
            var text = sql
            for value in values {
                bindings.append(value)
                text = text.replacingOccurrences(of: "?", with: "$\(bindings.count)", options: [], range: text.range(of: "?"))
            }
            conditions.append(text)
        }
        condition("id BETWEEN ? AND ?", [floor, upper])
        if let since = query.since { condition("at >= ?", [since.timeIntervalSince1970]) }
        if let until = query.until { condition("at < ?", [until.timeIntervalSince1970]) }
        if let flow = query.flow { condition("flow = ?", [flow]) }
        if let user = query.userID { condition("user_id = ?", [user]) }
        switch query.result {
        case .ran?, .skipped?: condition("result = ?", [query.result?.rawValue ?? ""])
        case .noFlow?: condition("flow IS NULL", [])
        case nil: break
        }
        if let trigger = query.trigger { condition("trigger = ?", [trigger.rawValue]) }
        bindings.append(query.limit + 1)
        let sql = """
            SELECT id, at, event_kind, trigger, user_id, flow, result, reason, note, variant, actions FROM run_traces
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT $\(bindings.count)
            """
        let rows = try await connection.queryIfOpen(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        var found: [TraceRow] = []
        var chats: [String: Int64?] = [:]
        for try await (id, at, event, trigger, user, flow, result, reason, note, variant, actions) in rows.decode(
            (Int64, Double, String, String?, String?, String?, String?, String?, String?, String?, String?).self)
        {
            found.append(
                TraceRow(
                    id: id, at: Date(timeIntervalSince1970: at), event: event, trigger: trigger, userID: user, flow: flow,
                    result: flow == nil ? .noFlow : TraceResult(rawValue: result ?? "") ?? .skipped, reason: reason, note: note, variant: variant,
                    actions: actions.map { $0.split(separator: "\n").map(String.init) } ?? [], chatID: nil))
        }
        var page = Array(found.prefix(query.limit))
        // Conversation ids by channel and user, each looked up once per page: traces name the
        // user, and the channel is the event's.
        for index in page.indices {
            guard let source = page[index].eventKind?.source, let user = page[index].userID else { continue }
            let key = source.rawValue + "\n" + user
            if chats[key] == nil {
                chats[key] = .some(
                    try await connection.queryIfOpen(
                        "SELECT id FROM conversations WHERE source = \(source.rawValue) AND platform_chat_id = \(user)", logger: logger
                    ).decode(Int64.self).first { _ in true })
            }
            page[index].chatID = chats[key] ?? nil
        }
        if found.count > query.limit, let last = page.last { return TracePage(rows: page, older: last.id, stoppedScanning: false) }
        if floor > lower { return TracePage(rows: page, older: floor, stoppedScanning: true) }
        return TracePage(rows: page, older: nil, stoppedScanning: false)
    }

    /// The first trace id at or after `date` (one past the newest when there is none), as
    /// SQLite's: a binary search over ids, skipping ids deleted by retention or erasure.
    private static func firstTraceID(atOrAfter date: Date, newest: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> Int64 {
        let cutoff = date.timeIntervalSince1970
        var low: Int64 = 0
        var high = newest + 1
        while low < high {
            let middle = (low + high) / 2
            let time = try await connection.queryIfOpen("SELECT at FROM run_traces WHERE id >= \(middle) ORDER BY id LIMIT 1", logger: logger)
                .decode(Double.self).first { _ in true }
            if let time, time < cutoff { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
