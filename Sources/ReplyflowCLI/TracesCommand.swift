import ArgumentParser
import Flows
import Foundation
import PostgresStorage
import Storage

/// `replyflow traces`: "why didn't it fire?" from the command line. The run traces on the
/// server's database, newest first, filtered and read by the same `TraceQuery` and
/// `ReplyflowDatabase.traces` as the panel's traces page. Safe while the server runs (a read).
struct TracesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traces",
        abstract: "Why a flow ran, was skipped, or no flow ran: the run traces, newest first.",
        discussion:
            "Each event leaves a row per flow that listens to its trigger (ran, or skipped with the condition that failed), or one row without a flow when none ran (no_flow: no flow listens to the trigger, or the event fired none; the reason says which). Reads the server's database (--db: a file or a postgres:// URL; default: DATABASE_URL or DATABASE_PATH as serve reads them), or one written by `replyflow replay --db`. Safe while the server runs."
    )

    @OptionGroup var database: ServerDatabaseOptions
    @Option(help: "Only this user's traces (their id on the event's channel).")
    var user: String?
    @Option(help: "Only this flow's traces (its name).")
    var flow: String?
    @Option(help: "ran, skipped or no_flow (the event ran no flow).")
    var result: String?
    @Option(help: "Only events that fired this trigger (\(Trigger.allCases.map(\.rawValue).joined(separator: ", "))).")
    var trigger: String?
    @Option(help: "From this time on: 30m, 12h, 1d, 7d back from now, or a date and time (2026-11-20T10:00, 2026-11-20T10:00:00Z).")
    var since: String?
    @Option(help: "Before this time (written as for --since).")
    var until: String?
    @Option(help: "Traces older than this trace id (printed at the end when there are more).")
    var before: Int64?
    @Option(help: "Traces at most, 1 to \(TraceQuery.maxLimit).")
    var limit: Int = TraceQuery.defaultLimit
    @Option(help: "The time zone of the times shown and of dates without an offset (default: TIMEZONE from the environment or the .env file, else UTC).")
    var timezone: String?
    @Flag(help: "One JSON object per trace, one a line.")
    var json = false

    /// The options as the traces query, checked by the same rules as the panel's filters.
    func traceQuery(now: Date, timeZone: TimeZone) throws -> TraceQuery {
        let text = TraceFilterText(
            flow: flow, user: user, result: result, trigger: trigger, since: since, until: until, before: before.map(String.init), limit: String(limit))
        do throws(TraceFilterError) {
            return try TraceQuery(text, now: now, timeZone: timeZone)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func validate() throws {
        _ = try traceQuery(now: Date(), timeZone: try database.timeZone(timezone))
    }

    func run() async throws {
        let zone = try database.timeZone(timezone)
        let query = try traceQuery(now: Date(), timeZone: zone)
        let page = try await Self.page(query, from: try database.location())
        Self.print(page, timeZone: zone, json: json, console: .standard())
    }

    // MARK: The command as a library (tests call it)

    /// The page `query` asks for, from either database.
    static func page(_ query: TraceQuery, from location: ServerDatabaseLocation) async throws -> TracePage {
        try await location.read(sqlite: { try await $0.traces(query) }, postgres: { try await $0.traces(query) })
    }

    static func traces(_ query: TraceQuery, database: ReplyflowDatabase, timeZone: TimeZone, json: Bool, console: Console) async throws {
        print(try await database.traces(query), timeZone: timeZone, json: json, console: console)
    }

    static func print(_ page: TracePage, timeZone: TimeZone, json: Bool, console: Console) {
        if json {
            let encoder = DryRunJSON.encoder(pretty: false)
            for row in page.rows {
                // A row of strings, numbers and lists always encodes.
                console.line(String(decoding: (try? encoder.encode(TraceJSON(row))) ?? Data(), as: UTF8.self))
            }
        } else if page.rows.isEmpty {
            console.line("No traces match.")
        } else {
            TracesTable.print(page.rows, timeZone: timeZone, console: console)
        }
        // Not in the JSON lines: a script reads them whole, a person reads this.
        let more = json ? console.errorLine : console.line
        if let older = page.older {
            if page.stoppedScanning {
                more(
                    "Read \(TraceQuery.scanLimit) traces without filling the page; older ones may match: add --before \(older), or narrow with --flow or --user."
                )
            } else {
                more("Older traces: add --before \(older).")
            }
        }
    }
}

/// One trace as `replyflow traces --json` prints it: every key present (null when empty),
/// times in UTC.
struct TraceJSON: Encodable {
    var id: Int64
    var at: String
    var event: String
    var trigger: String?
    var user: String?
    var flow: String?
    var result: String
    var reason: String?
    var note: String?
    var variant: String?
    var actions: [String]

    init(_ row: TraceRow) {
        id = row.id
        at = Timestamp.format(row.at)
        event = row.event
        trigger = row.trigger
        user = row.userID
        flow = row.flow
        result = row.result.rawValue
        reason = row.reason
        note = row.note
        variant = row.variant
        actions = row.actions
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(at, forKey: .at)
        try container.encode(event, forKey: .event)
        try container.encode(trigger, forKey: .trigger)
        try container.encode(user, forKey: .user)
        try container.encode(flow, forKey: .flow)
        try container.encode(result, forKey: .result)
        try container.encode(reason, forKey: .reason)
        try container.encode(note, forKey: .note)
        try container.encode(variant, forKey: .variant)
        try container.encode(actions, forKey: .actions)
    }

    enum CodingKeys: String, CodingKey { case id, at, event, trigger, user, flow, result, reason, note, variant, actions }
}

/// Traces as a table of aligned columns: time (in the zone), trigger, user, flow, result,
/// and why (the reason, the note, the variant), which is left unpadded at the end.
enum TracesTable {
    /// Longer values are cut, so one long user id does not push every row off the screen.
    static let maxColumnWidth = 32

    static func print(_ rows: [TraceRow], timeZone: TimeZone, console: Console) {
        // Foundation names UTC "GMT".
        let zone = timeZone.identifier == "GMT" ? "UTC" : timeZone.identifier
        let header = ["TIME (\(zone))", "TRIGGER", "USER", "FLOW", "RESULT", "WHY"]
        let cells = rows.map { row in
            [time(row.at, in: timeZone), row.trigger ?? "-", row.userID ?? "-", row.flow ?? "-", row.result.rawValue, why(row)].enumerated().map {
                $0.offset < 5 ? cut($0.element) : $0.element
            }
        }
        let widths = (0..<5).map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        for line in [header] + cells {
            let padded = (0..<5).map { line[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
            console.line((padded + [line[5]]).joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }

    /// `YYYY-MM-DD HH:MM:SS` on the zone's clock.
    static func time(_ date: Date, in zone: TimeZone) -> String {
        let local = Timestamp.format(date.addingTimeInterval(Double(zone.secondsFromGMT(for: date))))
        return String(local.dropLast()).replacingOccurrences(of: "T", with: " ")
    }

    static func why(_ row: TraceRow) -> String {
        var parts = [row.reason, row.note].compactMap { $0 }.filter { !$0.isEmpty }
        if let variant = row.variant { parts.append("variant \(variant)") }
        return parts.joined(separator: "; ")
    }

    private static func cut(_ text: String) -> String {
        text.count <= maxColumnWidth ? text : String(text.prefix(maxColumnWidth - 1)) + "…"
    }
}
