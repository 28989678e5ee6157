import Foundation
import Testing

@testable import Flows

/// Who wrote each stored message, as the inbox shows it: the customer, the AI (a reply
/// whose text used the assistant's answer), a flow (its own text), or staff (named).
@Suite("Message authors") struct MessageAuthorTests {
    static let at = Date(timeIntervalSince1970: 1_795_600_000)

    func flows(_ yaml: String) throws -> FlowSet {
        let result = FlowLoader.load(files: [(path: "flow.yaml", data: Data(yaml.utf8))])
        #expect(result.diagnostics.filter { $0.severity == .error }.isEmpty, "\(result.diagnostics.map(\.description))")
        return try #require(result.flowSet)
    }

    func run(_ flowSet: FlowSet, _ event: InboundEvent, view: InMemoryStateStore = InMemoryStateStore()) async -> RunOutcome {
        await FlowRuntime(flowSet: flowSet, timeZone: TimeZone(identifier: "UTC")!, autoModeDefault: true)
            .run(event, view: view, services: RecordingServices())
    }

    @Test func anAnswerOfTheAssistantIsTheAIsAndACannedReplyTheFlows() async throws {
        let set = try flows(
            """
            name: Auto
            on: telegram_message
            do:
              - ask_assistant: {}
              - reply: { text: "{{answer}}" }
              - reply: { text: "Anything else?" }
            """)
        var event = InboundEvent(kind: .telegramMessage, at: Self.at, userID: "7", userName: "Ivan", text: "where is my order?")
        event.stubs.answer = "On its way."
        let outcome = await run(set, event)
        #expect(outcome.messages.map(\.author) == [.customer, .assistant, .flow])
        #expect(outcome.messages.map(\.flow) == [nil, "Auto", "Auto"])
    }

    @Test func aReplyAfterTheAssistantThatDoesNotUseItsAnswerIsTheFlows() async throws {
        let set = try flows(
            """
            name: Ask first
            on: app_message
            do:
              - ask_assistant: {}
              - reply: { text: "We will answer soon" }
            """)
        let outcome = await run(set, InboundEvent(kind: .appMessage, at: Self.at, userID: "42", text: "hi"))
        #expect(outcome.messages.map(\.author) == [.customer, .flow])
    }

    @Test func aStaffReplyFromTheGroupIsStaffsWithTheirName() async throws {
        let set = try flows(
            """
            name: Relay
            on: telegram_reply
            do:
              - broadcast: {}
            """)
        var event = InboundEvent(kind: .telegramReply, at: Self.at, userID: "42", text: "Your order left today")
        event.staffName = "Anna Petrova"
        let outcome = await run(set, event)
        let stored = try #require(outcome.messages.first)
        #expect(stored.author == .staff)
        #expect(stored.senderName == "Anna Petrova")
        #expect(stored.direction == .support)
    }

    @Test func withoutBeingToldAuthorsFollowDirectionAndFlow() {
        #expect(StoredMessage(userID: "1", source: .app, direction: .user, text: "", at: Self.at).author == .customer)
        #expect(StoredMessage(userID: "1", source: .app, direction: .support, text: "", at: Self.at, flow: "F").author == .flow)
        #expect(StoredMessage(userID: "1", source: .app, direction: .support, text: "", at: Self.at).author == .staff)
    }
}
