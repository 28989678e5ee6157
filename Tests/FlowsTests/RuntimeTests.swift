import Foundation
import Testing

@testable import Flows

// The runtime: which flows run for an event, in what order, why others are skipped,
// and what the actions do to state. Flows come from YAML as users write them.

/// Loads flows from (file name, YAML) pairs; the test fails if any has an error.
private func flowSet(_ files: [(String, String)], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> FlowSet {
    let result = FlowLoader.load(files: files.map { (path: $0.0, data: Data($0.1.utf8)) })
    let errors = result.diagnostics.filter { $0.severity == .error }
    #expect(errors.isEmpty, "\(errors.map(\.description))", sourceLocation: sourceLocation)
    return try #require(result.flowSet, sourceLocation: sourceLocation)
}

private func flowSet(_ yaml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> FlowSet {
    try flowSet([("flow.yaml", yaml)], sourceLocation: sourceLocation)
}

/// A runtime over in-memory state with recorded services, as dry-run and tests use.
private final class Harness {
    let runner: SequentialRunner<InMemoryStateStore>
    var store: InMemoryStateStore { runner.store }

    init(_ flows: FlowSet, timeZone: String = "UTC", autoModeDefault: Bool = true, services: any FlowServices = RecordingServices()) {
        runner = SequentialRunner(
            runtime: FlowRuntime(flowSet: flows, timeZone: TimeZone(identifier: timeZone)!, autoModeDefault: autoModeDefault),
            store: InMemoryStateStore(), services: services)
    }

    var runtime: FlowRuntime {
        get { runner.runtime }
        set { runner.runtime = newValue }
    }

    func run(_ event: InboundEvent) async -> RunResult {
        await runner.run(event)
    }
}

/// An RFC 3339 time, as event files write it.
private func at(_ text: String) -> Date {
    guard let date = Timestamp.parse(text) else { fatalError("bad test timestamp \(text)") }
    return date
}

private func event(
    _ kind: EventKind = .appMessage, _ time: String = "2026-11-20T10:00:00Z", user: String? = "42", name: String? = nil,
    autoMode: Bool? = nil, text: String? = "hello", media: MediaKind = .none, replyTo: Int64? = nil, stubs: InboundEvent.Stubs = .init()
) -> InboundEvent {
    InboundEvent(kind: kind, at: at(time), userID: user, userName: name, autoMode: autoMode, text: text, media: media, replyTo: replyTo, stubs: stubs)
}

/// An app message at `time`.
private func event(
    _ time: String, user: String? = "42", name: String? = nil, autoMode: Bool? = nil, text: String? = "hello",
    media: MediaKind = .none, stubs: InboundEvent.Stubs = .init()
) -> InboundEvent {
    event(.appMessage, time, user: user, name: name, autoMode: autoMode, text: text, media: media, stubs: stubs)
}

private func outcome(_ result: RunResult, _ flow: String) -> FlowOutcome? {
    result.flows.first { $0.name == flow }
}

/// A flow named `name` on app_message, with the given `if:` body (YAML, indented two spaces), replying "ok".
private func conditional(_ conditions: String, on trigger: String = "app_message") -> String {
    "name: Gate\non: \(trigger)\nif:\n\(conditions)\ndo:\n  - reply: ok\n"
}

@Suite("Runtime: flow order and stop")
struct RuntimeOrderTests {
    @Test("flows run by priority, then by file name (not by flow name)")
    func priorityThenFileName() async throws {
        let set = try flowSet([
            ("b.yaml", "name: Alpha\non: app_message\npriority: 5\ndo:\n  - reply: from b\n"),
            ("a.yaml", "name: Zulu\non: app_message\npriority: 5\ndo:\n  - reply: from a\n"),
            ("c.yaml", "name: Middle\non: app_message\npriority: 1\ndo:\n  - reply: from c\n"),
            ("0.yaml", "name: Default\non: app_message\ndo:\n  - reply: from default\n"),
        ])
        let result = await Harness(set).run(event())
        #expect(result.trigger == .appMessage)
        #expect(result.flows.map(\.name) == ["Middle", "Zulu", "Alpha", "Default"])
        #expect(result.flows.allSatisfy { $0.result == .ran && $0.reason == nil })
        #expect(result.actions.map(\.text) == ["from c", "from a", "from b", "from default"])
        #expect(result.actions.map(\.flow) == ["Middle", "Zulu", "Alpha", "Default"])
    }

    @Test("only flows listening to the trigger run")
    func onlyMatchingTrigger() async throws {
        let set = try flowSet([
            ("a.yaml", "name: App\non: app_message\ndo:\n  - reply: app\n"),
            ("b.yaml", "name: Both\non: [instagram_dm, app_message]\ndo:\n  - reply: both\n"),
            ("c.yaml", "name: Insta\non: instagram_dm\ndo:\n  - reply: insta\n"),
        ])
        let harness = Harness(set)
        #expect(await harness.run(event(.appMessage)).flows.map(\.name) == ["App", "Both"])
        #expect(await harness.run(event(.instagramDM)).flows.map(\.name) == ["Both", "Insta"])
        #expect(await harness.run(event(.telegramMessage)).flows.isEmpty)
    }

    @Test("'stop' ends the event: later actions and later flows do not run, and the skip says why")
    func stopPreventsLaterFlows() async throws {
        let set = try flowSet([
            ("a.yaml", "name: First\non: app_message\npriority: 1\ndo:\n  - reply: one\n  - stop: {}\n  - reply: unreachable\n"),
            ("b.yaml", "name: Second\non: app_message\npriority: 2\ndo:\n  - reply: two\n"),
        ])
        let result = await Harness(set).run(event())
        #expect(result.actions.map(\.type) == ["reply", "stop"])
        #expect(result.actions.first?.text == "one")
        #expect(outcome(result, "First")?.result == .ran)
        let second = try #require(outcome(result, "Second"))
        #expect(second.result == .skipped)
        #expect(second.reason?.contains("stopped") == true)
    }

    @Test("a 'stop' inside a branch that is not taken does not stop anything")
    func stopInUntakenBranch() async throws {
        let set = try flowSet([
            ("a.yaml", "name: First\non: app_message\npriority: 1\ndo:\n  - if: { media: photo }\n    then:\n      - stop: {}\n  - reply: one\n"),
            ("b.yaml", "name: Second\non: app_message\npriority: 2\ndo:\n  - reply: two\n"),
        ])
        let harness = Harness(set)
        let text = await harness.run(event(media: .none))
        #expect(text.actions.map(\.text) == ["one", "two"])
        let photo = await harness.run(event("2026-11-20T10:01:00Z", media: .photo))
        #expect(photo.actions.map(\.type) == ["stop"])
        #expect(outcome(photo, "Second")?.result == .skipped)
    }

    @Test("a disabled flow is skipped with a reason")
    func disabledFlow() async throws {
        let set = try flowSet("name: Off\non: app_message\nenabled: false\ndo:\n  - reply: x\n")
        let result = await Harness(set).run(event())
        #expect(result.actions.isEmpty)
        #expect(outcome(result, "Off")?.result == .skipped)
        #expect(outcome(result, "Off")?.reason?.contains("enabled: false") == true)
    }
}

@Suite("Runtime: conditions")
struct RuntimeConditionTests {
    @Test("auto_mode: the skip reason states the actual and the wanted value")
    func autoMode() async throws {
        let set = try flowSet(conditional("  auto_mode: on"))
        let harness = Harness(set, autoModeDefault: true)
        let onByDefault = await harness.run(event(user: "1"))
        #expect(outcome(onByDefault, "Gate")?.result == .ran)

        let off = await harness.run(event(user: "2", autoMode: false))
        let skipped = try #require(outcome(off, "Gate"))
        #expect(skipped.result == .skipped)
        #expect(skipped.reason == "auto_mode is off, the flow wants on")
        #expect(off.actions.isEmpty)

        // The chat's auto mode is state: it stays off for the next message.
        let later = await harness.run(event("2026-11-20T10:05:00Z", user: "2"))
        #expect(outcome(later, "Gate")?.result == .skipped)
        #expect(harness.store.autoMode(source: .app, userID: "2") == false)

        // A chat never seen before follows the configured default.
        let offDefault = Harness(set, autoModeDefault: false)
        #expect(outcome(await offDefault.run(event(user: "3")), "Gate")?.reason == "auto_mode is off, the flow wants on")
    }

    @Test("text_contains is case-insensitive, also for Cyrillic, and takes a list")
    func textContains() async throws {
        let harness = Harness(try flowSet(conditional("  text_contains: [Доставка, PRICE]")))
        for text in ["СКОЛЬКО СТОИТ ДОСТАВКА?", "what is the price", "доставка"] {
            #expect(outcome(await harness.run(event(text: text)), "Gate")?.result == .ran, "\(text)")
        }
        let miss = try #require(outcome(await harness.run(event(text: "hello there")), "Gate"))
        #expect(miss.result == .skipped)
        #expect(miss.reason?.contains("\"hello there\"") == true)
        #expect(miss.reason?.contains("доставка") == true)
        #expect(outcome(await harness.run(event(text: nil, media: .photo)), "Gate")?.result == .skipped)
    }

    @Test("text_matches uses the regular expression")
    func textMatches() async throws {
        let harness = Harness(try flowSet(conditional("  text_matches: \"^order #[0-9]+$\"")))
        #expect(outcome(await harness.run(event(text: "order #123")), "Gate")?.result == .ran)
        let miss = try #require(outcome(await harness.run(event(text: "my order #12 please")), "Gate"))
        #expect(miss.result == .skipped)
        #expect(miss.reason?.contains("does not match") == true)
        #expect(miss.reason?.contains("^order #[0-9]+$") == true)
    }

    @Test("user_name: known and missing")
    func userName() async throws {
        let known = Harness(try flowSet(conditional("  user_name: known")))
        #expect(outcome(await known.run(event(name: "Анна")), "Gate")?.result == .ran)
        #expect(outcome(await known.run(event(name: nil)), "Gate")?.reason == "user_name is missing, the flow wants known")
        #expect(outcome(await known.run(event(name: "")), "Gate")?.result == .skipped)
        let missing = Harness(try flowSet(conditional("  user_name: missing")))
        #expect(outcome(await missing.run(event(name: nil)), "Gate")?.result == .ran)
        #expect(outcome(await missing.run(event(name: "Анна")), "Gate")?.reason == "user_name is known, the flow wants missing")
    }

    @Test("first_message holds only for the user's first inbound message")
    func firstMessage() async throws {
        let set = try flowSet([
            ("a.yaml", conditional("  first_message: true").replacingOccurrences(of: "Gate", with: "First")),
            ("b.yaml", conditional("  first_message: false").replacingOccurrences(of: "Gate", with: "Later")),
        ])
        let harness = Harness(set)
        let first = await harness.run(event(user: "9"))
        #expect(outcome(first, "First")?.result == .ran)
        #expect(outcome(first, "Later")?.result == .skipped)
        let second = await harness.run(event("2026-11-20T10:01:00Z", user: "9"))
        #expect(outcome(second, "First")?.result == .skipped)
        #expect(outcome(second, "First")?.reason == "first_message is false, the flow wants true")
        #expect(outcome(second, "Later")?.result == .ran)
        // Another user has their own first message.
        #expect(outcome(await harness.run(event(user: "10")), "First")?.result == .ran)
    }

    @Test("a staff reply to a user does not use up the user's first message")
    func staffReplyIsNotFirstMessage() async throws {
        let set = try flowSet(conditional("  first_message: true"))
        let harness = Harness(set)
        _ = await harness.run(event(.telegramReply, user: "11", text: "Hello from staff"))
        #expect(outcome(await harness.run(event("2026-11-20T11:00:00Z", user: "11")), "Gate")?.result == .ran)
    }

    @Test("a staff reply is never the user's first message")
    func staffReplyIsNeverFirst() async throws {
        let harness = Harness(try flowSet(conditional("  first_message: true", on: "telegram_reply")))
        let reply = await harness.run(event(.telegramReply, user: "12", text: "Hello from staff"))
        #expect(reply.trigger == .telegramReply)
        #expect(outcome(reply, "Gate")?.result == .skipped)
        #expect(outcome(reply, "Gate")?.reason == "first_message is false, the flow wants true")
    }

    @Test("source: the conversation's channel, one or a list")
    func source() async throws {
        let set = try flowSet(conditional("  source: [instagram, telegram]", on: "[app_message, instagram_dm, telegram_message]"))
        let harness = Harness(set)
        #expect(outcome(await harness.run(event(.instagramDM)), "Gate")?.result == .ran)
        #expect(outcome(await harness.run(event(.telegramMessage)), "Gate")?.result == .ran)
        let app = try #require(outcome(await harness.run(event(.appMessage)), "Gate"))
        #expect(app.result == .skipped)
        #expect(app.reason == "source is app, the flow wants instagram or telegram")
    }

    @Test("media: a kind, a list, none, and any")
    func media() async throws {
        let photo = Harness(try flowSet(conditional("  media: photo")))
        #expect(outcome(await photo.run(event(media: .photo)), "Gate")?.result == .ran)
        #expect(outcome(await photo.run(event(media: .voice)), "Gate")?.reason == "media is voice, the flow wants photo")

        let list = Harness(try flowSet(conditional("  media: [voice, audio]")))
        #expect(outcome(await list.run(event(media: .audio)), "Gate")?.result == .ran)
        #expect(outcome(await list.run(event(media: .video)), "Gate")?.result == .skipped)

        let none = Harness(try flowSet(conditional("  media: none")))
        #expect(outcome(await none.run(event(media: .none)), "Gate")?.result == .ran)
        #expect(outcome(await none.run(event(media: .sticker)), "Gate")?.result == .skipped)

        let any = Harness(try flowSet(conditional("  media: any")))
        for kind in MediaKind.allCases where kind != .none {
            #expect(outcome(await any.run(event(media: kind)), "Gate")?.result == .ran, "\(kind)")
        }
        let plain = try #require(outcome(await any.run(event(media: .none)), "Gate"))
        #expect(plain.result == .skipped)
        #expect(plain.reason?.contains("media is none") == true)
        #expect(plain.reason?.contains("any") == true)
    }

    @Test("any: one of the maps must hold")
    func anyCondition() async throws {
        let harness = Harness(try flowSet(conditional("  any:\n    - { media: photo }\n    - { text_contains: urgent }")))
        #expect(outcome(await harness.run(event(text: "URGENT please")), "Gate")?.result == .ran)
        #expect(outcome(await harness.run(event(text: "", media: .photo)), "Gate")?.result == .ran)
        let neither = try #require(outcome(await harness.run(event(text: "hi")), "Gate"))
        #expect(neither.result == .skipped)
        #expect(neither.reason?.contains("none of 'any' held") == true)
        #expect(neither.reason?.contains("media is none") == true)
        #expect(neither.reason?.contains("urgent") == true)
    }

    @Test("all: every map must hold; a map with several keys needs all of them")
    func allCondition() async throws {
        let harness = Harness(try flowSet(conditional("  all:\n    - { user_name: known, media: photo }\n    - { text_contains: order }")))
        #expect(outcome(await harness.run(event(name: "A", text: "order", media: .photo)), "Gate")?.result == .ran)
        #expect(outcome(await harness.run(event(name: nil, text: "order", media: .photo)), "Gate")?.reason == "user_name is missing, the flow wants known")
        #expect(outcome(await harness.run(event(name: "A", text: "order", media: .none)), "Gate")?.result == .skipped)
        #expect(outcome(await harness.run(event(name: "A", text: "hello", media: .photo)), "Gate")?.result == .skipped)
    }

    @Test("not: holds when its condition does not")
    func notCondition() async throws {
        let harness = Harness(try flowSet(conditional("  not: { text_contains: spam }")))
        #expect(outcome(await harness.run(event(text: "hello")), "Gate")?.result == .ran)
        let spam = try #require(outcome(await harness.run(event(text: "SPAM offer")), "Gate"))
        #expect(spam.result == .skipped)
        #expect(spam.reason?.contains("'not' failed") == true)
    }

    @Test("all top-level conditions must hold; the first failing one is the reason")
    func severalConditions() async throws {
        let harness = Harness(try flowSet(conditional("  user_name: known\n  media: photo")))
        #expect(outcome(await harness.run(event(name: "A", media: .photo)), "Gate")?.result == .ran)
        #expect(outcome(await harness.run(event(name: nil, media: .voice)), "Gate")?.reason == "user_name is missing, the flow wants known")
        #expect(outcome(await harness.run(event(name: "A", media: .voice)), "Gate")?.reason == "media is voice, the flow wants photo")
    }
}

@Suite("Runtime: business hours")
struct RuntimeTimeWindowTests {
    static let businessHours = conditional("  time: { between: \"09:00-18:00\", days: mon-fri, timezone: Europe/Moscow }")

    // 2026-11-20 is a Friday, 2026-11-21 a Saturday.
    @Test(
        "09:00-18:00 mon-fri Europe/Moscow: Friday 17:59 MSK is in, 18:00 is out",
        arguments: [
            ("2026-11-20T17:59:00+03:00", true),
            ("2026-11-20T18:00:00+03:00", false),
            ("2026-11-20T09:00:00+03:00", true),
            ("2026-11-20T08:59:00+03:00", false),
            ("2026-11-20T14:59:00Z", true),  // 17:59 in Moscow
            ("2026-11-20T16:30:00Z", false),  // 16:30 UTC is inside 09-18 in UTC, but 19:30 in Moscow
            ("2026-11-21T10:00:00+03:00", false),  // Saturday
            ("2026-11-23T10:00:00+03:00", true),  // Monday
        ])
    func businessHours(time: String, inside: Bool) async throws {
        // The runtime's own zone is UTC: the window's zone must win.
        let harness = Harness(try flowSet(Self.businessHours), timeZone: "UTC")
        let result = await harness.run(event(time))
        let gate = try #require(outcome(result, "Gate"))
        #expect(gate.result == (inside ? .ran : .skipped))
        if !inside {
            #expect(gate.reason?.contains("the flow wants 09:00-18:00 mon-fri Europe/Moscow") == true, "\(gate.reason ?? "")")
        }
    }

    @Test("the skip reason names the local day and time it saw")
    func reasonShowsLocalTime() async throws {
        let harness = Harness(try flowSet(Self.businessHours), timeZone: "UTC")
        let friday = await harness.run(event("2026-11-20T18:00:00+03:00"))
        #expect(outcome(friday, "Gate")?.reason == "the time is fri 18:00, the flow wants 09:00-18:00 mon-fri Europe/Moscow")
        let saturday = await harness.run(event("2026-11-21T10:00:00+03:00"))
        #expect(outcome(saturday, "Gate")?.reason?.hasPrefix("the time is sat 10:00") == true)
    }

    @Test(
        "overnight 22:00-06:00 on fri includes Saturday 02:00 (the night that began on Friday)",
        arguments: [
            ("2026-11-21T02:00:00+03:00", true),  // Saturday early morning
            ("2026-11-20T23:00:00+03:00", true),  // Friday night
            ("2026-11-20T02:00:00+03:00", false),  // Friday early morning belongs to Thursday's night
            ("2026-11-21T23:00:00+03:00", false),  // Saturday night
            ("2026-11-21T06:00:00+03:00", false),  // the end is exclusive
            ("2026-11-20T21:59:00+03:00", false),
        ])
    func overnight(time: String, inside: Bool) async throws {
        let set = try flowSet(conditional("  time: { between: \"22:00-06:00\", days: fri, timezone: Europe/Moscow }"))
        let result = await Harness(set).run(event(time))
        #expect(outcome(result, "Gate")?.result == (inside ? .ran : .skipped))
    }

    @Test("a window without a zone uses the runtime's zone")
    func windowInRuntimeZone() async throws {
        let set = try flowSet(conditional("  time: { between: \"09:00-18:00\" }"))
        // 07:00 UTC is 10:00 in Moscow.
        #expect(outcome(await Harness(set, timeZone: "Europe/Moscow").run(event("2026-11-20T07:00:00Z")), "Gate")?.result == .ran)
        #expect(outcome(await Harness(set, timeZone: "UTC").run(event("2026-11-20T07:00:00Z")), "Gate")?.result == .skipped)
    }
}

@Suite("Runtime: once_per_user, else, assistant failures, transcripts")
struct RuntimeActionTests {
    @Test("once_per_user: day runs once per local day of the runtime's zone")
    func oncePerDay() async throws {
        let set = try flowSet("name: Once\non: app_message\nonce_per_user: day\ndo:\n  - reply: hi\n")
        let harness = Harness(set, timeZone: "Europe/Moscow")
        #expect(outcome(await harness.run(event("2026-11-20T09:00:00+03:00")), "Once")?.result == .ran)
        let again = try #require(outcome(await harness.run(event("2026-11-20T23:59:00+03:00")), "Once"))
        #expect(again.result == .skipped)
        #expect(again.reason?.contains("once_per_user: day") == true)
        // 00:01 in Moscow is still the 20th in UTC: the local day counts.
        #expect(outcome(await harness.run(event("2026-11-21T00:01:00+03:00")), "Once")?.result == .ran)
        // Another user is not affected.
        #expect(outcome(await harness.run(event("2026-11-21T00:02:00+03:00", user: "other")), "Once")?.result == .ran)
    }

    @Test("a flow skipped by its conditions does not use up its once_per_user run")
    func onceOnlyCountsRuns() async throws {
        let set = try flowSet("name: Once\non: app_message\nonce_per_user: ever\nif:\n  media: photo\ndo:\n  - reply: hi\n")
        let harness = Harness(set)
        #expect(outcome(await harness.run(event(media: .none)), "Once")?.result == .skipped)
        #expect(outcome(await harness.run(event("2026-11-20T10:01:00Z", media: .photo)), "Once")?.result == .ran)
        #expect(outcome(await harness.run(event("2026-11-25T10:01:00Z", media: .photo)), "Once")?.result == .skipped)
    }

    @Test("'else' runs when the conditions fail, and the outcome says so")
    func elseBranch() async throws {
        let set = try flowSet("name: Auto\non: app_message\nif:\n  auto_mode: on\ndo:\n  - reply: bot\nelse:\n  - reply: staff\n")
        let harness = Harness(set)
        let on = await harness.run(event(user: "1", autoMode: true))
        #expect(on.actions.map(\.text) == ["bot"])
        let off = await harness.run(event(user: "2", autoMode: false))
        #expect(off.actions.map(\.text) == ["staff"])
        let flow = try #require(outcome(off, "Auto"))
        #expect(flow.result == .ran)
        #expect(flow.reason == "ran 'else': auto_mode is off, the flow wants on")
    }

    @Test("a failing ask_assistant runs on_failure and skips the rest of its flow, not later flows")
    func assistantFailure() async throws {
        let set = try flowSet([
            (
                "a.yaml",
                """
                name: Assistant
                on: instagram_dm
                priority: 1
                do:
                  - ask_assistant:
                      on_failure:
                        - set_auto_mode: off
                        - forward_to_group: {}
                  - reply: "{{answer}}"

                """
            ),
            ("b.yaml", "name: Log\non: instagram_dm\npriority: 2\ndo:\n  - broadcast: {}\n"),
        ])
        let harness = Harness(set)
        let failed = await harness.run(event(.instagramDM, text: "refund?", stubs: .init(assistantFails: true)))
        #expect(failed.actions.map(\.type) == ["ask_assistant", "set_auto_mode", "forward_to_group", "broadcast"])
        #expect(failed.actions[0].value?.hasPrefix("failed") == true)
        #expect(failed.actions[1].value == "off")
        #expect(failed.actions[2].text == "refund?")
        #expect(!failed.actions.contains { $0.type == "reply" })
        #expect(harness.store.autoMode(source: .instagram, userID: "42") == false)

        let answered = await Harness(set).run(event(.instagramDM, text: "price?", stubs: .init(answer: "It costs 5")))
        #expect(answered.actions.map(\.type) == ["ask_assistant", "reply", "broadcast"])
        #expect(answered.actions[1].text == "It costs 5")
    }

    @Test("transcribe's output feeds {{transcript}} and the assistant's prompt")
    func transcriptFeedsLaterSteps() async throws {
        let set = try flowSet(
            """
            name: Voice
            on: telegram_message
            do:
              - if: { media: [voice, audio] }
                then:
                  - transcribe: {}
              - ask_assistant: {}
              - reply: "You said: {{transcript}} / {{answer}}"

            """)
        let harness = Harness(set)
        let voice = await harness.run(event(.telegramMessage, text: nil, media: .voice, stubs: .init(answer: "Yes", transcript: "Do you ship to Kazan?")))
        #expect(voice.actions.map(\.type) == ["transcribe", "ask_assistant", "reply"])
        #expect(voice.actions[0].text == "Do you ship to Kazan?")
        #expect(voice.actions[2].text == "You said: Do you ship to Kazan? / Yes")
        #expect(harness.store.messages.first?.transcript == "Do you ship to Kazan?", "the transcript is kept with the voice message")
        #expect(harness.store.messages.dropFirst().allSatisfy { $0.transcript == nil })

        // Without voice the branch is skipped and the transcript renders empty.
        let text = await harness.run(event(.telegramMessage, "2026-11-20T10:01:00Z", text: "hi", stubs: .init(answer: "Hello")))
        #expect(text.actions.map(\.type) == ["ask_assistant", "reply"])
        #expect(text.actions[1].text == "You said:  / Hello")

        // The assistant is asked with the transcript of a voice message.
        let prompts = PromptRecorder()
        let runtime = Harness(set, services: prompts)
        _ = await runtime.run(event(.telegramMessage, text: nil, media: .voice, stubs: .init(transcript: "Where is my order?")))
        _ = await runtime.run(event(.telegramMessage, text: "Typed question", media: .none))
        #expect(prompts.prompts == ["Where is my order?", "Typed question"])
    }

    @Test("forward_to_group without a text sends the message's text and the transcript of its voice")
    func forwardCarriesTheTranscript() async throws {
        let set = try flowSet(
            """
            name: Voice to staff
            on: instagram_dm
            do:
              - if: { media: voice }
                then:
                  - transcribe: {}
              - forward_to_group: {}

            """)
        let harness = Harness(set)
        let voice = await harness.run(event(.instagramDM, text: nil, media: .voice, stubs: .init(transcript: "Where is my order?")))
        #expect(voice.actions.last?.text == "🎤 Where is my order?")
        let captioned = await harness.run(event(.instagramDM, "2026-11-20T10:01:00Z", text: "Listen:", media: .voice, stubs: .init(transcript: "Hello")))
        #expect(captioned.actions.last?.text == "Listen:\n🎤 Hello")
        let typed = await harness.run(event(.instagramDM, "2026-11-20T10:02:00Z", text: "Typed"))
        #expect(typed.actions.last?.text == "Typed")
    }

    @Test("a new chat keeps the auto mode default of when it started")
    func newChatsKeepTheirDefaultAutoMode() async throws {
        let set = try flowSet("name: Auto\non: telegram_message\nif: { auto_mode: on }\ndo:\n  - reply: auto\n")
        let harness = Harness(set, autoModeDefault: false)
        let first = await harness.run(event(.telegramMessage, user: "100"))
        #expect(first.actions.isEmpty)
        #expect(harness.store.autoMode(source: .telegram, userID: "100") == false)
        // The default changes: the chat already under way keeps its own, a new chat takes the new one.
        harness.runtime.autoModeDefault = true
        let later = await harness.run(event(.telegramMessage, "2026-11-20T10:05:00Z", user: "100"))
        #expect(later.actions.isEmpty)
        let newChat = await harness.run(event(.telegramMessage, "2026-11-20T10:06:00Z", user: "200"))
        #expect(newChat.actions.map(\.type) == ["reply"])
        #expect(harness.store.autoMode(source: .telegram, userID: "200") == true)
    }

    @Test("a message with several photos is stored as one message per photo, the text on the first, and is still one event")
    func onePhotoPerStoredMessage() async throws {
        let set = try flowSet("name: Forward\non: app_message\ndo:\n  - forward_to_group: {}\n  - reply: thanks\n")
        var photos = event(text: "Три фото", media: .photo)
        photos.photoURLs = ["/uploads/1.png", "/uploads/2.png", "/uploads/3.png"]
        let outcome = await FlowRuntime(flowSet: set).run(photos, view: InMemoryStateStore(), services: RecordingServices())
        #expect(outcome.inboundMessages == 0..<3)
        #expect(outcome.inboundMessage == 0)
        #expect(outcome.messages.map(\.text) == ["Три фото", "", "", "thanks"])
        #expect(outcome.messages.map(\.photoURL) == ["/uploads/1.png", "/uploads/2.png", "/uploads/3.png", nil])
        #expect(outcome.messages.prefix(3).allSatisfy { $0.direction == .user && $0.media == .photo && $0.at == photos.at })
        #expect(outcome.deliveries.count == 2)
        #expect(outcome.writes.filter { if case .noteUser = $0 { true } else { false } }.count == 1)
    }

    @Test("a failed transcription goes on with an empty transcript")
    func transcriptionFailure() async throws {
        let set = try flowSet("name: Voice\non: telegram_message\ndo:\n  - transcribe: {}\n  - reply: \"[{{transcript}}]\"\n")
        let result = await Harness(set).run(event(.telegramMessage, media: .voice, stubs: .init(transcriptionFails: true)))
        #expect(result.actions.map(\.type) == ["transcribe", "reply"])
        #expect(result.actions[0].value?.hasPrefix("failed") == true)
        #expect(result.actions[1].text == "[]")
    }

    @Test("templates render user, message and chat values as plain text (no HTML escaping)")
    func templateValues() async throws {
        let set = try flowSet(
            "name: T\non: app_message\ndo:\n  - reply: \"{{#user.name}}Hi {{user.name}}{{/user.name}}{{^user.name}}Hi{{/user.name}} <{{message.text}}> {{chat.source}} {{chat.auto_mode}} {{today}}\"\n"
        )
        let harness = Harness(set, timeZone: "Europe/Moscow")
        let named = await harness.run(event("2026-11-20T22:30:00Z", name: "Tom & Jerry", text: "a<b>&c"))
        #expect(named.actions.first?.text == "Hi Tom & Jerry <a<b>&c> app on 2026-11-21")
        let anonymous = await harness.run(event("2026-11-20T10:00:00Z", user: "7", name: nil, text: "x"))
        #expect(anonymous.actions.first?.text == "Hi <x> app on 2026-11-20")
    }
}

/// Effects that keep the prompt the assistant is asked with.
private final class PromptRecorder: FlowServices {
    var prompts: [String?] = []
    func transcribe(_ request: ServiceRequest) async throws -> String { request.event.stubs.transcript ?? "" }
    func askAssistant(_ request: ServiceRequest, prompt: String?) async throws -> String {
        prompts.append(prompt)
        return "answer"
    }
}

@Suite("Runtime: derived triggers")
struct RuntimeTriggerTests {
    static let greeting = "name: Greeting\non: history_first_fetch_today\ndo:\n  - greet: \"Hello{{#user.name}}, {{user.name}}{{/user.name}}!\"\n"

    @Test("history_fetch fires history_first_fetch_today only on the first fetch of the local day")
    func firstFetchOfDay() async throws {
        let harness = Harness(try flowSet(Self.greeting), timeZone: "Europe/Moscow")
        // 23:30 and 00:30 in Moscow: the same UTC day (20:30Z and 21:30Z), different local days.
        let late = await harness.run(event(.historyFetch, "2026-11-20T23:30:00+03:00", name: "Anna", text: nil))
        #expect(late.trigger == .historyFirstFetchToday)
        #expect(late.actions.map(\.text) == ["Hello, Anna!"])
        let afterMidnight = await harness.run(event(.historyFetch, "2026-11-21T00:30:00+03:00", text: nil))
        #expect(afterMidnight.trigger == .historyFirstFetchToday)
        #expect(afterMidnight.actions.map(\.text) == ["Hello!"])
        let again = await harness.run(event(.historyFetch, "2026-11-21T09:00:00+03:00", text: nil))
        #expect(again.trigger == nil)
        #expect(again.flows.isEmpty)
        #expect(again.actions.isEmpty)
        #expect(again.note?.contains("not the first history fetch of 2026-11-21") == true)
        // Another user's first fetch that day still fires.
        #expect(await harness.run(event(.historyFetch, "2026-11-21T09:05:00+03:00", user: "7", text: nil)).trigger == .historyFirstFetchToday)
    }

    @Test("in UTC, the same two fetches fall on one day")
    func sameDayInUTC() async throws {
        let harness = Harness(try flowSet(Self.greeting), timeZone: "UTC")
        #expect(await harness.run(event(.historyFetch, "2026-11-20T23:30:00+03:00", text: nil)).trigger == .historyFirstFetchToday)
        #expect(await harness.run(event(.historyFetch, "2026-11-21T00:30:00+03:00", text: nil)).trigger == nil)
    }

    @Test("telegram_reply with reply_to of a forwarded message reaches that message's user")
    func staffReplyFindsUser() async throws {
        let set = try flowSet([
            ("a.yaml", "name: Forward\non: app_message\ndo:\n  - forward_to_group: {}\n"),
            ("b.yaml", "name: Deliver\non: telegram_reply\ndo:\n  - push: { title: Support, text: \"{{message.text}}\" }\n"),
        ])
        let harness = Harness(set)
        _ = await harness.run(event(user: "42", text: "Where is my order?"))
        _ = await harness.run(event("2026-11-20T10:01:00Z", user: "43", text: "Another user"))
        let forwarded = try #require(harness.runner.lastGroupMessageID)

        let reply = await harness.run(event(.telegramReply, "2026-11-20T10:05:00Z", user: nil, text: "On its way", replyTo: forwarded - 1))
        #expect(reply.trigger == .telegramReply)
        #expect(reply.userID == "42")
        #expect(reply.actions.map(\.type) == ["push"])
        #expect(reply.actions.first?.text == "On its way")
        #expect(reply.actions.first?.title == "Support")

        let second = await harness.run(event(.telegramReply, "2026-11-20T10:06:00Z", user: nil, text: "Hi", replyTo: forwarded))
        #expect(second.userID == "43")
    }

    @Test("telegram_reply to an unknown group message fires nothing, with a note")
    func staffReplyUnknownMessage() async throws {
        let set = try flowSet("name: Deliver\non: telegram_reply\ndo:\n  - push: { text: \"{{message.text}}\" }\n")
        let harness = Harness(set)
        let result = await harness.run(event(.telegramReply, user: nil, text: "Colleagues?", replyTo: 77))
        #expect(result.trigger == nil)
        #expect(result.userID == nil)
        #expect(result.actions.isEmpty)
        #expect(result.note?.contains("77") == true)
        #expect(harness.store.messages.isEmpty, "a reply that reaches nobody is stored for nobody")

        let neither = await harness.run(event(.telegramReply, user: nil, text: "Chatter"))
        #expect(neither.trigger == nil)
        #expect(neither.note != nil)
    }

    @Test("an event without a user id fires nothing, with a note")
    func missingUser() async throws {
        let result = await Harness(try flowSet("name: A\non: app_message\ndo:\n  - reply: x\n")).run(event(user: nil))
        #expect(result.trigger == nil)
        #expect(result.note?.contains("no user id") == true)
    }
}

@Suite("Runtime: message history")
struct RuntimeHistoryTests {
    @Test("inbound messages and every sent greet and reply are stored, in order")
    func messagesStored() async throws {
        let set = try flowSet([
            ("a.yaml", "name: Greeting\non: history_first_fetch_today\ndo:\n  - greet: \"Hello!\"\n"),
            ("b.yaml", "name: Answer\non: [app_message, instagram_dm]\ndo:\n  - ask_assistant: {}\n  - reply: \"{{answer}}\"\n"),
        ])
        let harness = Harness(set)
        _ = await harness.run(event(.historyFetch, "2026-11-20T09:00:00Z", text: nil))
        _ = await harness.run(event(.appMessage, "2026-11-20T09:01:00Z", text: "Question?", media: .photo, stubs: .init(answer: "Answer.")))
        _ = await harness.run(event(.instagramDM, "2026-11-20T09:02:00Z", text: "DM", stubs: .init(answer: "DM answer")))
        _ = await harness.run(event(.telegramReply, "2026-11-20T09:03:00Z", text: "Staff here"))

        let messages = harness.store.messages
        #expect(messages.map(\.text) == ["Hello!", "Question?", "Answer.", "DM", "DM answer", "Staff here"])
        #expect(messages.map(\.direction) == [.support, .user, .support, .user, .support, .support])
        #expect(messages.map(\.source) == [.app, .app, .app, .instagram, .instagram, .app])
        #expect(messages.map(\.flow) == ["Greeting", nil, "Answer", nil, "Answer", nil])
        #expect(messages.allSatisfy { $0.userID == "42" })
        #expect(messages[1].media == .photo)
        #expect(messages[0].at == at("2026-11-20T09:00:00Z"))
    }

    @Test("an inbound message is stored even when no flow runs for it")
    func storedWithoutFlows() async throws {
        let set = try flowSet("name: Gate\non: app_message\nif:\n  auto_mode: on\ndo:\n  - reply: x\n")
        let harness = Harness(set)
        let result = await harness.run(event(autoMode: false, text: "kept"))
        #expect(result.actions.isEmpty)
        #expect(harness.store.messages.map(\.text) == ["kept"])
        let noListeners = Harness(try flowSet("name: G\non: history_first_fetch_today\ndo:\n  - greet: hi\n"))
        _ = await noListeners.run(event(.telegramMessage, text: "nobody listens"))
        #expect(noListeners.store.messages.map(\.text) == ["nobody listens"])
    }

    @Test("every run is traced in the state store")
    func tracesRecorded() async throws {
        let harness = Harness(try flowSet("name: A\non: app_message\ndo:\n  - reply: x\n"))
        _ = await harness.run(event())
        _ = await harness.run(event(.historyFetch, text: nil))
        #expect(harness.store.traces.count == 2)
        #expect(harness.store.traces.first?.flows.map(\.name) == ["A"])
        harness.runtime.recordsTraces = false
        _ = await harness.run(event("2026-11-20T11:00:00Z"))
        #expect(harness.store.traces.count == 2)
    }
}
