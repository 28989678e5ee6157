import Flows
import Foundation
import Testing

/// The comparison's bookkeeping on hand-made runs, and "save as test"'s writer: what it
/// writes reads back as the test it means.
@Suite("Flow set comparison and the test writer")
struct FlowSetComparisonTests {
    static func run(_ actions: [PerformedAction], flows: [FlowOutcome], user: String = "1") -> RunResult {
        var result = RunResult(trigger: .appMessage, userID: user)
        result.actions = actions
        result.flows = flows
        return result
    }

    static let event = InboundEvent(kind: .appMessage, at: Date(timeIntervalSince1970: 1_763_600_000), userID: "1", text: "hello")

    @Test("equal runs count but change nothing; a different action is one changed event, grouped by its flow")
    func countsAndGroups() {
        var comparison = FlowSetComparison(examplesPerFlow: 2)
        let forward = PerformedAction(flow: "Forward", type: "forward_to_group", text: "hello")
        let same = Self.run([forward], flows: [FlowOutcome(name: "Forward", result: .ran)])
        comparison.add(Self.event, live: same, draft: same)
        #expect(comparison.events == 1 && comparison.changedEvents == 0 && comparison.flows.isEmpty)

        let handOff = PerformedAction(flow: "Auto", type: "set_auto_mode", value: "off")
        let reply = PerformedAction(flow: "Auto", type: "reply", text: "Hi")
        for _ in 0..<3 {
            comparison.add(
                Self.event,
                live: Self.run([forward, reply], flows: [FlowOutcome(name: "Forward", result: .ran), FlowOutcome(name: "Auto", result: .ran)]),
                draft: Self.run([forward, handOff], flows: [FlowOutcome(name: "Forward", result: .ran), FlowOutcome(name: "Auto", result: .ran)]))
        }
        #expect(comparison.events == 4 && comparison.changedEvents == 3)
        let counts = Dictionary(uniqueKeysWithValues: comparison.shownActions.map { ($0.type, ($0.live, $0.draft)) })
        #expect(counts["forward_to_group"]! == (4, 4))
        #expect(counts["reply"]! == (3, 0))
        #expect(counts["hand_off"]! == (0, 3), "set_auto_mode: off counts as a hand-off")
        #expect(comparison.shownActions.prefix(5).map(\.type) == FlowSetComparison.headlineActions)
        #expect(comparison.flows.map(\.flow) == ["Auto"], "Forward did the same on both sides")
        #expect(comparison.flows[0].events == 3)
        #expect(comparison.flows[0].examples.count == 2, "examples are capped")
        #expect(comparison.flows[0].examples[0].before == ["reply: Hi"])
        #expect(comparison.flows[0].examples[0].after == ["set_auto_mode: off"])
        #expect(comparison.flows[0].examples[0].text == "hello")
    }

    @Test("a flow the draft skips shows the reason it did nothing")
    func skippedReason() {
        var comparison = FlowSetComparison()
        let greet = PerformedAction(flow: "Greeting", type: "greet", text: "Hi")
        comparison.add(
            Self.event, live: Self.run([greet], flows: [FlowOutcome(name: "Greeting", result: .ran)]),
            draft: Self.run([], flows: [FlowOutcome(name: "Greeting", result: .skipped, reason: "the flow is disabled (enabled: false)")]))
        let example = comparison.flows.first?.examples.first
        #expect(example?.after == [])
        #expect(example?.afterResult == "skipped: the flow is disabled (enabled: false)")
        #expect(example?.beforeResult == "ran")
    }

    @Test("the writer's step, in a new file and appended, reads back with the event and the expected actions")
    func writerRoundTrip() throws {
        let actions = [
            PerformedAction(flow: "F", type: "greet", text: "Добрый день, \"Анна\"!"), PerformedAction(flow: "F", type: "set_auto_mode", value: "off"),
            PerformedAction(flow: "F", type: "push", text: "body", title: "Title"),
        ]
        let oneLine = #"{"at":"2026-11-21T09:00:00+03:00","kind":"history_fetch","user":{"id":"42","name":"Анна"}}"#
        let file = FlowTestWriter.newFile(name: "greeting: new", step: FlowTestWriter.step(eventYAML: oneLine, actions: actions))
        let (test, problems) = FlowTestLoader.load(data: Data(file.utf8), file: "t.yaml")
        #expect(problems.isEmpty, "\(problems)\n\(file)")
        #expect(test?.name == "greeting: new")
        #expect(test?.steps.first?.event.kind == .historyFetch)
        #expect(test?.steps.first?.expected?.map(\.description) == actions.map { FlowTest.expectLine(type: $0.type, text: $0.text, title: $0.title, value: $0.value) })

        let block = "kind: app_message\nat: 2026-11-21T09:05:00+03:00\nuser: { id: \"42\" }\nmessage: { text: \"hi\" }\n"
        let appended = FlowTestWriter.appending(FlowTestWriter.step(eventYAML: block, actions: []), to: file)
        let (both, bothProblems) = FlowTestLoader.load(data: Data(appended.utf8), file: "t.yaml")
        #expect(bothProblems.isEmpty, "\(bothProblems)\n\(appended)")
        #expect(both?.steps.count == 2)
        #expect(both?.steps.last?.event.text == "hi")
        #expect(both?.steps.last?.expected?.isEmpty == true, "expect: nothing")
    }
}
