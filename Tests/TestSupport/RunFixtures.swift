import Flows
import Foundation

/// Flows and events that reach every kind of state a run writes: the storage suites run
/// them through two writers (the bulk writer and per-run commits; SQLite and PostgreSQL)
/// and compare the rows they leave.
public enum RunFixtures {
    /// 2026-11-27 08:26:40 UTC.
    public static let start = Date(timeIntervalSince1970: 1_795_600_000)

    /// The flow files could not be read or did not load.
    public struct LoadFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The shipped flows, an experiment with a goal, a flow once per user and week, and one
    /// that turns auto mode off.
    public static func flows() throws -> FlowSet {
        let shipped = repositoryRoot + "/flows"
        var files: [(path: String, data: Data?)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: shipped).sorted() where name.hasSuffix(".yaml") {
            files.append((path: name, data: try Data(contentsOf: URL(fileURLWithPath: shipped + "/" + name))))
        }
        files.append(
            (
                path: "zz-experiment.yaml",
                data: Data(
                    """
                    name: Welcome test
                    on: app_message
                    priority: 50
                    experiment:
                      key: welcome
                      goal: { on: history_first_fetch_today, within: 2d }
                      variants:
                        - name: short
                          weight: 1
                          do:
                            - push: { text: "Hi" }
                        - name: long
                          weight: 1
                          do:
                            - push: { text: "Hello, we are here" }
                    do:
                      - broadcast: {}

                    """.utf8)
            ))
        files.append(
            (
                path: "zz-weekly.yaml",
                data: Data(
                    """
                    name: Weekly note
                    on: [instagram_dm, telegram_message]
                    priority: 60
                    once_per_user: week
                    if: { text_contains: ["off"] }
                    do:
                      - set_auto_mode: off
                      - reply: "Staff will answer."

                    """.utf8)
            ))
        let loaded = FlowLoader.load(files: files)
        guard !loaded.hasErrors, let flowSet = loaded.flowSet else {
            throw LoadFailure(description: loaded.diagnostics.map(\.description).joined(separator: "\n"))
        }
        return flowSet
    }

    /// Events of a few users over several days: every kind, staff replies to forwarded
    /// messages (group ids from 1000, as `SequentialRunner` hands them out), assistant
    /// failures, names coming and going.
    public static func events(seed: UInt64, count: Int) -> [InboundEvent] {
        var random = SplitMix64(seed: seed)
        var at = start
        var forwardsSoFar: Int64 = 0
        var events: [InboundEvent] = []
        let texts = ["hello", "turn it off", "where is my order?", "", "спасибо"]
        for _ in 0..<count {
            at += Double(random.next(upperBound: UInt64(40_000)))
            let user = "u\(random.next(upperBound: UInt64(6)))"
            let kind = EventKind.allCases[Int(random.next(upperBound: UInt64(EventKind.allCases.count)))]
            var event = InboundEvent(
                kind: kind, at: at, userID: user, userName: random.next(upperBound: UInt64(3)) == 0 ? nil : "Name \(user)",
                text: kind == .historyFetch ? nil : texts[Int(random.next(upperBound: UInt64(texts.count)))],
                media: random.next(upperBound: UInt64(5)) == 0 ? .sticker : .none,
                stubs: .init(answer: "answer", assistantFails: random.next(upperBound: UInt64(4)) == 0))
            if kind == .telegramReply && forwardsSoFar > 0 && random.next(upperBound: UInt64(2)) == 0 {
                event.userID = nil
                event.replyTo = 1000 + Int64(random.next(upperBound: UInt64(forwardsSoFar + 2)))
            }
            if kind == .appMessage || kind == .instagramDM || kind == .telegramMessage { forwardsSoFar += 1 }
            events.append(event)
        }
        return events
    }

    /// The repository's root (the shipped flows live in its `flows` folder).
    public static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
}
