import Flows
import Foundation
import Storage

/// The editor's "try it" form: one event, from its fields or pasted as an event file,
/// read by the same `EventFile` loader as `replyflow dry-run`.
struct TryItForm {
    var kind = EventKind.appMessage.rawValue
    var userID = "42"
    var userName = ""
    var text = ""
    var media = MediaKind.none.rawValue
    /// `YYYY-MM-DDTHH:MM`, as a `datetime-local` field sends it; empty: now.
    var at = ""
    var timeZone = ""
    var autoMode = true
    var answer = ""
    var transcript = ""
    /// A whole event file (YAML); when given, the fields are not used.
    var eventFile = ""

    init() {}

    init(_ form: FormQuery) {
        kind = form.first("try_kind") ?? kind
        userID = form.first("try_user_id") ?? userID
        userName = form.first("try_user_name") ?? ""
        text = form.first("try_text") ?? ""
        media = form.first("try_media") ?? media
        at = form.first("try_at") ?? ""
        timeZone = form.first("try_timezone") ?? ""
        autoMode = (form.first("try_auto_mode") ?? "on") != "off"
        answer = form.first("try_answer") ?? ""
        transcript = form.first("try_transcript") ?? ""
        eventFile = StudioView.normalisedNewlines(form.first("try_event") ?? "")
    }

    /// The event's YAML: the pasted file, or the fields written as a flow-style mapping
    /// (JSON, which YAML reads as it is). Problems point into this text.
    func eventYAML(defaultZone: TimeZone, now: Date) -> String {
        if !eventFile.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return eventFile }
        var event: [String: Any] = ["kind": kind, "at": timestamp(defaultZone: defaultZone, now: now)]
        var user: [String: Any] = ["id": userID]
        if !userName.isEmpty { user["name"] = userName }
        event["user"] = user
        event["chat"] = ["auto_mode": autoMode]
        if kind != EventKind.historyFetch.rawValue {
            var message: [String: Any] = ["text": text]
            if media != MediaKind.none.rawValue { message["media"] = media }
            event["message"] = message
        }
        var stubs: [String: Any] = [:]
        if !answer.isEmpty { stubs["answer"] = answer }
        if !transcript.isEmpty { stubs["transcript"] = transcript }
        if !stubs.isEmpty { event["stubs"] = stubs }
        let data = (try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// `at` in the form's zone (or the server's), as an ISO 8601 time with its offset.
    func timestamp(defaultZone: TimeZone, now: Date) -> String {
        let zone = TimeZone(identifier: timeZone) ?? defaultZone
        var date = now
        let parts = at.split(whereSeparator: { "-T:".contains($0) }).compactMap { Int($0) }
        if parts.count >= 5 {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let components = DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4])
            date = calendar.date(from: components) ?? now
        }
        return date.formatted(Date.ISO8601FormatStyle(timeZoneSeparator: .colon, timeZone: zone))
    }

    /// The form's values for the page (fields filled in as they were sent).
    func values(defaultZone: TimeZone) -> [String: Any] {
        [
            "kinds": EventKind.allCases.map { ["name": $0.rawValue, "selected": $0.rawValue == kind] },
            "media": MediaKind.allCases.map { ["name": $0.rawValue, "selected": $0.rawValue == media] },
            "userID": userID, "userName": userName, "text": text, "at": at, "timeZone": timeZone.isEmpty ? defaultZone.identifier : timeZone,
            "autoOn": autoMode, "answer": answer, "transcript": transcript, "eventFile": eventFile,
        ]
    }
}

/// Runs one event through a flow set with recorded services on a scratch database:
/// what `replyflow dry-run` does, so the page shows what `dry-run --json` prints.
enum TryIt {
    /// The run's result, and the same as `dry-run --json` prints it.
    struct Outcome {
        var result: RunResult
        var json: DryRunJSON
    }

    static func run(_ eventYAML: String, flows: FlowSet, timeZone: TimeZone, autoModeDefault: Bool) async throws -> (Outcome?, [Diagnostic]) {
        let (event, diagnostics) = EventFile.load(data: Data(eventYAML.utf8), file: "event")
        guard let event else { return (nil, diagnostics) }
        let runner = SequentialRunner(
            runtime: FlowRuntime(flowSet: flows, timeZone: timeZone, autoModeDefault: autoModeDefault),
            store: try BufferedStateStore(database: try ReplyflowDatabase()))
        let result = await runner.run(event)
        return (Outcome(result: result, json: DryRunJSON(result)), diagnostics)
    }
}
