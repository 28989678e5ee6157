import Flows
import Foundation
import GRDB

/// One `run_traces` row: what one flow did with one event, or why no flow ran.
public struct TraceRow: Sendable, Equatable {
    public var id: Int64
    public var at: Date
    /// The event's kind as stored (an `EventKind`'s raw value).
    public var event: String
    /// The trigger the event fired, as stored; nil when it fired none.
    public var trigger: String?
    public var userID: String?
    /// Nil on the row of an event that ran no flow.
    public var flow: String?
    public var result: TraceResult
    /// For a skip, the condition that failed (actual and wanted values); for a flow that ran
    /// its `else`, "ran 'else': " and that condition.
    public var reason: String?
    /// Why no trigger fired or no flow ran.
    public var note: String?
    /// The experiment variant the flow ran as.
    public var variant: String?
    /// What the flow did, one action a line (`reply: Hello!`); empty for a skip and for
    /// rows traced before v15.
    public var actions: [String]
    /// The inbox conversation of the user on the event's channel (`/admin/chats/ID`), when
    /// there is one (a history fetch of a user who never wrote has none).
    public var chatID: Int64?

    public var eventKind: EventKind? { EventKind(rawValue: event) }

    public init(
        id: Int64, at: Date, event: String, trigger: String?, userID: String?, flow: String?, result: TraceResult, reason: String?, note: String?,
        variant: String?, actions: [String], chatID: Int64?
    ) {
        self.id = id
        self.at = at
        self.event = event
        self.trigger = trigger
        self.userID = userID
        self.flow = flow
        self.result = result
        self.reason = reason
        self.note = note
        self.variant = variant
        self.actions = actions
        self.chatID = chatID
    }
}

/// A page of traces, newest first.
public struct TracePage: Sendable, Equatable {
    public var rows: [TraceRow]
    /// Where the next, older, page starts (`TraceQuery.before`); nil when no older row matches.
    public var older: Int64?
    /// The page stopped after reading `TraceQuery.scanLimit` rows, not because it was full
    /// or reached the oldest trace: older rows may match (`older` goes on from there).
    public var stoppedScanning: Bool

    public init(rows: [TraceRow], older: Int64?, stoppedScanning: Bool) {
        self.rows = rows
        self.older = older
        self.stoppedScanning = stoppedScanning
    }

    /// A page of `rows` read from the ids `floor` up (`TraceQuery.floor`), newest first:
    /// `moreMatched` when a row past the page's limit matched, so the next page starts after
    /// the last row; else, when the scan stopped above `lower`, it goes on from `floor`.
    public init(rows: [TraceRow], moreMatched: Bool, floor: Int64, lower: Int64) {
        if moreMatched, let last = rows.last {
            self.init(rows: rows, older: last.id, stoppedScanning: false)
        } else if floor > lower {
            self.init(rows: rows, older: floor, stoppedScanning: true)
        } else {
            self.init(rows: rows, older: nil, stoppedScanning: false)
        }
    }
}

extension ReplyflowDatabase {
    /// The traces `query` asks for, newest first, one transaction.
    ///
    /// Time bounds become id bounds first: traces are appended in time order, so a binary
    /// search on the id finds where a time starts without an index on `at`. A flow, a user
    /// or `no_flow` then reads only matching rows through `run_traces_by_flow` or
    /// `run_traces_by_user`; a trigger or a result alone reads at most `TraceQuery.scanLimit`
    /// rows of the period, newest first, and the page says where it stopped.
    public func traces(_ query: TraceQuery) async throws -> TracePage {
        try await writer.read { db in
            var upper = try Int64.fetchOne(db, sql: "SELECT max(id) FROM run_traces") ?? 0
            if let before = query.before { upper = min(upper, before - 1) }
            if let until = query.until { upper = min(upper, try Self.firstTraceID(atOrAfter: until, db) - 1) }
            var lower: Int64 = 1
            if let since = query.since { lower = try Self.firstTraceID(atOrAfter: since, db) }
            guard upper >= lower else { return TracePage(rows: [], older: nil, stoppedScanning: false) }
            let floor = query.floor(lower: lower, upper: upper)

            var conditions = ["id BETWEEN ? AND ?"]
            var arguments: StatementArguments = [floor, upper]
            // Both indexes can answer a flow and a user together; a user's rows are far
            // fewer than a flow's, so `+` keeps SQLite off the flow index then.
            let flowColumn = query.userID == nil ? "flow" : "+flow"
            if let since = query.since {
                conditions.append("at >= ?")
                arguments += [since.timeIntervalSince1970]
            }
            if let until = query.until {
                conditions.append("at < ?")
                arguments += [until.timeIntervalSince1970]
            }
            if let flow = query.flow {
                conditions.append("\(flowColumn) = ?")
                arguments += [flow]
            }
            if let user = query.userID {
                conditions.append("user_id = ?")
                arguments += [user]
            }
            switch query.result {
            case .ran?, .skipped?:
                conditions.append("result = ?")
                arguments += [query.result?.rawValue]
            case .noFlow?:
                conditions.append("\(flowColumn) IS NULL")
            case nil:
                break
            }
            if let trigger = query.trigger {
                conditions.append("trigger = ?")
                arguments += [trigger.rawValue]
            }
            arguments += [query.limit + 1]
            let found = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, at, event_kind, trigger, user_id, flow, result, reason, note, variant, actions FROM run_traces
                    WHERE \(conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT ?
                    """, arguments: arguments)
            var chats = ChatLookup()
            let rows = try found.prefix(query.limit).map { row in try Self.traceRow(row, chats: &chats, db) }
            return TracePage(rows: rows, moreMatched: found.count > query.limit, floor: floor, lower: lower)
        }
    }

    /// The first trace id at or after `date` (one past the newest when there is none):
    /// traces are appended in time order, so a binary search over ids bounds a period
    /// without an index on the time. Ids deleted by retention or erasure are skipped over.
    static func firstTraceID(atOrAfter date: Date, _ db: Database) throws -> Int64 {
        let cutoff = date.timeIntervalSince1970
        var low: Int64 = 0
        var high = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM run_traces") ?? 0) + 1
        let at = try db.cachedStatement(sql: "SELECT at FROM run_traces WHERE id >= ? ORDER BY id LIMIT 1")
        while low < high {
            let middle = (low + high) / 2
            if let time = try Double.fetchOne(at, arguments: [middle]), time < cutoff { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func traceRow(_ row: Row, chats: inout ChatLookup, _ db: Database) throws -> TraceRow {
        let event: String = row["event_kind"], user: String? = row["user_id"], flow: String? = row["flow"]
        let result: TraceResult = flow == nil ? .noFlow : TraceResult(rawValue: row["result"] ?? "") ?? .skipped
        return TraceRow(
            id: row["id"], at: Date(timeIntervalSince1970: row["at"]), event: event, trigger: row["trigger"], userID: user, flow: flow, result: result,
            reason: row["reason"], note: row["note"], variant: row["variant"],
            actions: (row["actions"] as String?).map { $0.split(separator: "\n").map(String.init) } ?? [],
            chatID: try chats.id(source: EventKind(rawValue: event)?.source, user: user, db))
    }

    /// Conversation ids by channel and user, each looked up once per page. Traces name the
    /// user, not the channel: the channel is the event's.
    private struct ChatLookup {
        var known: [String: Int64?] = [:]

        mutating func id(source: ChatSource?, user: String?, _ db: Database) throws -> Int64? {
            guard let source, let user else { return nil }
            let key = source.rawValue + "\n" + user
            if let id = known[key] { return id }
            let id = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT id FROM conversations WHERE source = ? AND platform_chat_id = ?"), arguments: [source.rawValue, user])
            known[key] = id
            return id
        }
    }
}
