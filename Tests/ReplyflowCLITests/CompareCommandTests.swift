import Flows
import Foundation
import Storage
import Testing

@testable import ReplyflowCLI
import TestSupport

/// `replyflow events export` and `replyflow replay --compare` on known data: what the
/// server stored comes back as the events that caused it, and the comparison counts and
/// shows exactly the events a changed flow treats differently.
@Suite("CLI: events export and replay --compare", .machineShare)
struct CompareCommandTests {
    static let shippedFlows = packageRoot.appendingPathComponent("flows").path

    /// One of each kind the export knows, as replay lines.
    static let storedEvents = [
        #"{"kind":"history_fetch","at":"2026-11-20T06:00:00Z","user":{"id":"42","name":"Анна"}}"#,
        // The day's second fetch fires nothing and is not exported.
        #"{"kind":"history_fetch","at":"2026-11-20T06:30:00Z","user":{"id":"42","name":"Анна"}}"#,
        #"{"kind":"app_message","at":"2026-11-20T07:00:00Z","user":{"id":"42","name":"Анна"},"message":{"text":"Не приходит код"}}"#,
        #"{"kind":"telegram_reply","at":"2026-11-20T07:05:00Z","user":{"id":"42"},"message":{"text":"Проверьте папку «Спам»"}}"#,
        #"{"kind":"instagram_dm","at":"2026-11-20T08:00:00Z","user":{"id":"ig-7","name":"Олег"},"message":{"text":"Где мой заказ?"},"stubs":{"answer":"Заказ в пути."}}"#,
        #"{"kind":"telegram_message","at":"2026-11-20T09:00:00Z","user":{"id":"tg-9"},"message":{"text":"","media":"voice"},"stubs":{"transcript":"алло","answer":"Слушаю вас."}}"#,
    ]

    /// Replays `events` through the shipped flows into a new database, traces kept, as the server stores them.
    static func storedDatabase(_ events: [String]) async throws -> String {
        let directory = try makeDirectory(["events.jsonl": events.joined(separator: "\n") + "\n"])
        let database = directory + "/replyflow.sqlite"
        let (console, output) = Console.capturing()
        let code = try await ReplayCommand.replay(
            eventsFile: directory + "/events.jsonl", flowsDirectory: shippedFlows, options: try options(["--db", database]), json: false,
            traces: true, console: console)
        #expect(code == 0, "\(output.error)")
        return database
    }

    static func export(_ database: String, since: String = "2026-11-01T00:00:00Z", until: String? = nil) async throws -> [[String: Any]] {
        try lines(try await exportText(from: .sqlite(database), since: since, until: until)).map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// What `events export` prints, from either database.
    static func exportText(from location: ServerDatabaseLocation, since: String = "2026-11-01T00:00:00Z", until: String? = nil) async throws -> String {
        let (console, output) = Console.capturing()
        try await EventsCommand.ExportCommand.export(from: location, since: since, until: until, now: Date(), console: console)
        return output.out
    }

    @Test("events export gives back the stored inbound events in the replay format, oldest first")
    func exportRoundTrip() async throws {
        let database = try await Self.storedDatabase(Self.storedEvents)
        let exported = try await Self.export(database)
        #expect(exported.map { $0["kind"] as? String } == ["history_fetch", "app_message", "telegram_reply", "instagram_dm", "telegram_message"])
        #expect(exported.map { $0["at"] as? String } == [
            "2026-11-20T06:00:00Z", "2026-11-20T07:00:00Z", "2026-11-20T07:05:00Z", "2026-11-20T08:00:00Z", "2026-11-20T09:00:00Z",
        ])
        func field(_ index: Int, _ part: String, _ key: String) -> String? { (exported[index][part] as? [String: Any])?[key] as? String }
        #expect(field(0, "user", "id") == "42" && field(0, "user", "name") == "Анна")
        #expect(exported[0]["message"] == nil, "a history fetch has no message")
        #expect(field(1, "message", "text") == "Не приходит код")
        #expect(field(2, "message", "text") == "Проверьте папку «Спам»", "the staff reply's text")
        #expect(field(3, "stubs", "answer") == "Заказ в пути.", "the AI's answer, from the reply that used it")
        #expect(field(4, "message", "media") == "voice")
        #expect(field(4, "stubs", "answer") == "Слушаю вас.")
        #expect(field(4, "stubs", "transcript") == "алло", "the stored transcript")

        // Each exported line is an event replay reads.
        for object in exported {
            let data = try JSONSerialization.data(withJSONObject: object)
            let record = try EventRecord(json: try JSONSerialization.jsonObject(with: data))
            guard case .success = record.makeEvent(now: Date()) else {
                Issue.record("not a valid event: \(object)")
                continue
            }
        }

        // --since and --until narrow the window; bad values are one clear error.
        #expect(try await Self.export(database, since: "2026-11-20T07:30:00Z").count == 2)
        #expect(try await Self.export(database, since: "2026-11-20T06:00:00Z", until: "2026-11-20T07:01:00Z").count == 2)
        #expect(try await Self.export(database, since: "1d").isEmpty, "nothing in the last day: the events are from 2026-11-20")
        await #expect(throws: CommandFailure.self) { try await Self.export(database, since: "a week") }
        await #expect(throws: CommandFailure.self) { try await Self.export(database + ".missing") }
    }

    static let greetingDraft = """
        name: Daily greeting
        on: history_first_fetch_today
        priority: 10
        once_per_user: day
        do:
          - greet: "Добрый день{{#user.name}}, {{user.name}}{{/user.name}}!"

        """

    /// A copy of the shipped flows with `file` replaced by `content`.
    static func shippedFlows(replacing file: String, with content: String) throws -> String {
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: shippedFlows) where name.hasSuffix(".yaml") {
            files[name] = try String(contentsOfFile: shippedFlows + "/" + name, encoding: .utf8)
        }
        files[file] = content
        return try makeDirectory(files)
    }

    @Test("replay --compare counts both sets' actions and lists the events the draft changes, by flow")
    func compareJSON() async throws {
        // Three users' first fetches of the day, a second fetch, and messages the greeting does not touch.
        let events = [
            #"{"kind":"history_fetch","at":"2026-11-20T06:00:00Z","user":{"id":"1","name":"Анна"}}"#,
            #"{"kind":"history_fetch","at":"2026-11-20T06:10:00Z","user":{"id":"2"}}"#,
            #"{"kind":"history_fetch","at":"2026-11-20T06:20:00Z","user":{"id":"1","name":"Анна"}}"#,
            #"{"kind":"app_message","at":"2026-11-20T06:30:00Z","user":{"id":"1"},"message":{"text":"Здравствуйте"}}"#,
            #"{"kind":"history_fetch","at":"2026-11-21T06:00:00Z","user":{"id":"3","name":"Олег"}}"#,
        ]
        let directory = try makeDirectory(["events.jsonl": events.joined(separator: "\n") + "\n"])
        let draft = try Self.shippedFlows(replacing: "daily-greeting.yaml", with: Self.greetingDraft)
        let (console, output) = Console.capturing()
        let code = try await ReplayCommand.compare(
            eventsFile: directory + "/events.jsonl", draftDirectory: draft, liveDirectory: Self.shippedFlows, options: try options(), json: true,
            console: console)
        #expect(code == 0, "\(output.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.out.utf8)) as? [String: Any])
        #expect(object["events"] as? Int == 5)
        #expect(object["changed_events"] as? Int == 3)
        let actions = try #require(object["actions"] as? [[String: Any]])
        func count(_ type: String) -> (Int?, Int?) {
            let action = actions.first { $0["type"] as? String == type }
            return (action?["live"] as? Int, action?["draft"] as? Int)
        }
        #expect(count("greet") == (3, 3))
        #expect(count("forward_to_group") == (1, 1))
        let flows = try #require(object["flows"] as? [[String: Any]])
        #expect(flows.map { $0["flow"] as? String } == ["Daily greeting"], "only the greeting changed")
        #expect(flows.first?["events"] as? Int == 3)
        let examples = try #require(flows.first?["examples"] as? [[String: Any]])
        #expect(examples.first?["before"] as? [String] == ["greet: Здравствуйте, Анна!"])
        #expect(examples.first?["after"] as? [String] == ["greet: Добрый день, Анна!"])
        #expect(examples.map { $0["user"] as? String } == ["1", "2", "3"])

        // The same comparison in words.
        let (textConsole, text) = Console.capturing()
        _ = try await ReplayCommand.compare(
            eventsFile: directory + "/events.jsonl", draftDirectory: draft, liveDirectory: Self.shippedFlows, options: try options(), json: false,
            console: textConsole)
        #expect(text.out.contains("Compared 5 events"), "\(text.out)")
        #expect(text.out.contains("3 would come out differently"))
        #expect(text.out.contains("Flow 'Daily greeting': 3 events differ"))
        #expect(text.out.contains("before: greet: Здравствуйте, Анна!"))
        #expect(text.out.contains("after:  greet: Добрый день, Анна!"))
    }

    @Test("replay --compare: a disabled flow's events show what it no longer does; the same set changes nothing")
    func compareDisabledAndSame() async throws {
        let events = (1...4).map { #"{"kind":"history_fetch","at":"2026-11-20T06:0\#($0):00Z","user":{"id":"u\#($0)"}}"# }
        let directory = try makeDirectory(["events.jsonl": events.joined(separator: "\n") + "\n"])
        let disabled = try Self.shippedFlows(replacing: "daily-greeting.yaml", with: Self.greetingDraft + "enabled: false\n")
        let (console, output) = Console.capturing()
        _ = try await ReplayCommand.compare(
            eventsFile: directory + "/events.jsonl", draftDirectory: disabled, liveDirectory: Self.shippedFlows, options: try options(), json: true,
            console: console)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.out.utf8)) as? [String: Any])
        let greet = (object["actions"] as? [[String: Any]])?.first { $0["type"] as? String == "greet" }
        #expect(greet?["live"] as? Int == 4 && greet?["draft"] as? Int == 0)
        let example = ((object["flows"] as? [[String: Any]])?.first?["examples"] as? [[String: Any]])?.first
        #expect(example?["after"] as? [String] == [])
        #expect((example?["after_result"] as? String)?.contains("disabled") == true, "\(String(describing: example))")

        let (sameConsole, same) = Console.capturing()
        _ = try await ReplayCommand.compare(
            eventsFile: directory + "/events.jsonl", draftDirectory: Self.shippedFlows, liveDirectory: Self.shippedFlows, options: try options(),
            json: false, console: sameConsole)
        #expect(same.out.contains("the draft does the same as the live flows"), "\(same.out)")
    }

    @Test("replay --compare with --db is a usage error: both sides run on scratch state")
    func compareRefusesDatabase() async throws {
        let code = await ReplyflowMain.run(["replay", "/nonexistent.jsonl", "--compare", Self.shippedFlows, "--db", "/tmp/x.sqlite"])
        #expect(code == 2)
    }
}
