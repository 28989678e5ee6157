import Flows
import Foundation

/// What a run trace row says happened, as the traces page and `replyflow traces` filter it.
///
/// A run is stored (see `ReplyflowDatabase.commit`) as one `run_traces` row per flow that
/// listens to the trigger it fired, each `ran` or `skipped` with its reason; or, when no
/// flow ran at all, as one row without a flow whose note says why.
public enum TraceResult: String, Sendable, CaseIterable, Codable {
    /// The flow ran (its `do`, or its `else` when the reason starts with "ran 'else'").
    case ran
    /// The flow listened but did not run: the reason names the condition that failed, the
    /// `once_per_user` period, `enabled: false`, or an earlier flow's `stop`.
    case skipped
    /// The event ran no flow: no flow listens to the trigger it fired ("no flow listens to
    /// this trigger"), or it fired none (a staff message that answers no forwarded message,
    /// an event without a user id; the note says which). The row with no flow (`flow IS NULL`).
    /// An event every flow skipped is not this: its rows are `skipped`.
    case noFlow = "no_flow"
}

/// Which run traces to read, newest first: the filters of the traces page and of
/// `replyflow traces`, read by `ReplyflowDatabase.traces(_:)`.
public struct TraceQuery: Sendable, Equatable {
    /// Rows of this flow only (by its `name`).
    public var flow: String?
    public var userID: String?
    public var result: TraceResult?
    public var trigger: Trigger?
    /// Rows at or after this time.
    public var since: Date?
    /// Rows before this time.
    public var until: Date?
    /// Rows older than this row id: the `older` cursor of the page before.
    public var before: Int64?
    /// Rows on the page, 1 to `maxLimit`.
    public var limit: Int

    public static let defaultLimit = 200
    public static let maxLimit = 1000
    /// As long as a user id the `/api` accepts.
    public static let maxUserIDLength = 128
    public static let maxFlowNameLength = 200
    /// Rows a page reads at most when no index narrows it (no flow, user or `no_flow`
    /// filter: a trigger or a result alone). A rare trigger would otherwise scan every trace
    /// kept; this bounds a page to tens of milliseconds, and the page says where it stopped.
    public static let scanLimit: Int64 = 100_000

    public init(
        flow: String? = nil, userID: String? = nil, result: TraceResult? = nil, trigger: Trigger? = nil, since: Date? = nil, until: Date? = nil,
        before: Int64? = nil, limit: Int = TraceQuery.defaultLimit
    ) {
        self.flow = flow
        self.userID = userID
        self.result = result
        self.trigger = trigger
        self.since = since
        self.until = until
        self.before = before
        self.limit = min(max(limit, 1), Self.maxLimit)
    }

    /// Whether an index leads straight to the matching rows (per user, per flow, and the
    /// rows without a flow); otherwise the page reads at most `scanLimit` rows.
    public var isIndexed: Bool { flow != nil || userID != nil || result == .noFlow }

    /// The lowest id a page between `lower` and `upper` reads: `lower` when an index
    /// answers the filters, else at most `scanLimit` rows below `upper`.
    public func floor(lower: Int64, upper: Int64) -> Int64 {
        isIndexed ? lower : max(lower, upper - Self.scanLimit + 1)
    }
}

/// The filters as people write them: the traces page's query string, `replyflow traces`'
/// options. Empty texts mean "any". `TraceQuery(_:now:timeZone:)` checks them, so the page
/// and the command accept and refuse the same values with the same words.
public struct TraceFilterText: Sendable, Equatable {
    public var flow: String?
    public var user: String?
    /// `ran`, `skipped` or `no_flow`.
    public var result: String?
    /// A trigger's name (`app_message`, ...).
    public var trigger: String?
    /// A duration back from now (`30m`, `1d`, `7d`), an RFC 3339 time, or a local date and
    /// time (see `TimeText.pointInTime`).
    public var since: String?
    public var until: String?
    /// A row id: rows older than it.
    public var before: String?
    public var limit: String?

    public init(
        flow: String? = nil, user: String? = nil, result: String? = nil, trigger: String? = nil, since: String? = nil, until: String? = nil,
        before: String? = nil, limit: String? = nil
    ) {
        self.flow = flow
        self.user = user
        self.result = result
        self.trigger = trigger
        self.since = since
        self.until = until
        self.before = before
        self.limit = limit
    }
}

/// A filter value that cannot be used, in words that say what would be.
public struct TraceFilterError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

extension TraceQuery {
    /// The query the texts ask for; times relative to `now`, local ones in `timeZone`.
    /// Throws `TraceFilterError` for a value that is not one the filter takes.
    public init(_ text: TraceFilterText, now: Date, timeZone: TimeZone) throws(TraceFilterError) {
        func given(_ value: String?) -> String? {
            guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        /// At most 40 characters of a refused value, so a long one does not fill the message.
        func quoted(_ value: String) -> String { "\"\(value.prefix(40))\(value.count > 40 ? "…" : "")\"" }

        self.init()
        if let flow = given(text.flow) {
            guard flow.count <= Self.maxFlowNameLength else { throw TraceFilterError("a flow name is at most \(Self.maxFlowNameLength) characters") }
            self.flow = flow
        }
        if let user = given(text.user) {
            guard user.utf16.count <= Self.maxUserIDLength else { throw TraceFilterError("a user id is at most \(Self.maxUserIDLength) characters") }
            userID = user
        }
        if let raw = given(text.result) {
            guard let result = TraceResult(rawValue: raw) else { throw TraceFilterError("result must be ran, skipped or no_flow (got \(quoted(raw)))") }
            self.result = result
        }
        if let raw = given(text.trigger) {
            guard let trigger = Trigger(rawValue: raw) else {
                throw TraceFilterError(
                    "trigger must be one of \(Trigger.allCases.map(\.rawValue).joined(separator: ", ")) (got \(quoted(raw)))")
            }
            self.trigger = trigger
        }
        func time(_ name: String, _ value: String?) throws(TraceFilterError) -> Date? {
            guard let raw = given(value) else { return nil }
            guard let date = TimeText.pointInTime(raw, now: now, zone: timeZone) else {
                throw TraceFilterError(
                    "\(name) must be a duration back from now (30m, 12h, 1d, 7d) or a date and time (2026-11-20T10:00, or with its offset: 2026-11-20T10:00:00Z) (got \(quoted(raw)))"
                )
            }
            return date
        }
        since = try time("since", text.since)
        until = try time("until", text.until)
        if let since, let until, until <= since { throw TraceFilterError("until must be later than since") }
        if let raw = given(text.before) {
            guard let id = Int64(raw), id > 0 else { throw TraceFilterError("before must be a trace id, a whole number above 0 (got \(quoted(raw)))") }
            before = id
        }
        if let raw = given(text.limit) {
            guard let limit = Int(raw), (1...Self.maxLimit).contains(limit) else {
                throw TraceFilterError("limit must be a whole number from 1 to \(Self.maxLimit) (got \(quoted(raw)))")
            }
            self.limit = limit
        }
    }
}
