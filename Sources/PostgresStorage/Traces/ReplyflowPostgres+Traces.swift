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
        let floor = query.floor(lower: lower, upper: upper)

        var bindings = PostgresBindings()
        /// The placeholder of a bound value.
        func bound(_ value: some PostgresNonThrowingEncodable) -> String {
            bindings.append(value)
            return "$\(bindings.count)"
        }
        var conditions = ["id BETWEEN \(bound(floor)) AND \(bound(upper))"]
        if let since = query.since { conditions.append("at >= \(bound(since.timeIntervalSince1970))") }
        if let until = query.until { conditions.append("at < \(bound(until.timeIntervalSince1970))") }
        if let flow = query.flow { conditions.append("flow = \(bound(flow))") }
        if let user = query.userID { conditions.append("user_id = \(bound(user))") }
        switch query.result {
        case .ran?, .skipped?: conditions.append("result = \(bound(query.result?.rawValue ?? ""))")
        case .noFlow?: conditions.append("flow IS NULL")
        case nil: break
        }
        if let trigger = query.trigger { conditions.append("trigger = \(bound(trigger.rawValue))") }
        let sql = """
            SELECT id, at, event_kind, trigger, user_id, flow, result, reason, note, variant, actions FROM run_traces
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT \(bound(query.limit + 1))
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
        return TracePage(rows: page, moreMatched: found.count > query.limit, floor: floor, lower: lower)
    }

    /// The first trace id at or after `date` (one past the newest when there is none), as
    /// SQLite's: a binary search over ids, skipping ids deleted by retention or erasure.
    static func firstTraceID(atOrAfter date: Date, newest: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> Int64 {
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
