import Foundation

/// The outcome of one test file.
public struct FlowTestResult: Sendable {
    public var test: FlowTest
    public var failures: [Failure]
    public var passed: Bool { failures.isEmpty }

    /// A step whose actions differ from what the test expects.
    public struct Failure: Sendable {
        public var location: SourceLocation
        public var step: Int
        public var expected: [String]
        public var actual: [String]
        /// Flows skipped in that step and why: the first thing to read when something is missing.
        public var skipped: [String]
        /// Flows whose `if` did not hold and whose `else` ran, and why: shown like skips.
        public var elseRan: [String] = []
        public var note: String?
        /// Where the first mismatched action's text differs from the expected one, when the
        /// action is the same and only its text is not.
        public var difference: TextDifference?
    }
}

/// Runs flow tests through the same runtime as the server, with recorded services.
public enum FlowTestRunner {
    /// Runs one test with fresh state from `makeState`.
    public static func run<Store: FlowStateStore>(
        _ test: FlowTest, flows: FlowSet, makeState: () throws -> Store, timeZone: TimeZone, autoModeDefault: Bool = true
    ) async rethrows -> FlowTestResult {
        let runtime = SequentialRunner(
            runtime: FlowRuntime(flowSet: flows, timeZone: test.timeZone ?? timeZone, autoModeDefault: autoModeDefault), store: try makeState())
        var failures: [FlowTestResult.Failure] = []
        for (index, step) in test.steps.enumerated() {
            let result = await runtime.run(step.event)
            guard let expected = step.expected else { continue }
            let actual = result.actions
            let matches = expected.count == actual.count && zip(expected, actual).allSatisfy { $0.matches($1) }
            if !matches {
                failures.append(
                    FlowTestResult.Failure(
                        location: step.location, step: index + 1,
                        expected: expected.map(\.description),
                        actual: actual.map(describe),
                        skipped: result.flows.filter { $0.result == .skipped }.map { "\($0.name): \($0.reason ?? "")" },
                        elseRan: result.flows.filter(\.ranElse).map { "\($0.name): \($0.reason ?? "")" },
                        note: result.note,
                        difference: firstDifference(expected, actual)
                    ))
            }
        }
        return FlowTestResult(test: test, failures: failures)
    }

    /// An action as a test file writes it under `expect:`, so it can be pasted back.
    public static func describe(_ action: PerformedAction) -> String {
        FlowTest.expectLine(type: action.type, text: action.text, title: action.title, value: action.value)
    }

    /// The first pair that does not match, when it is the same action with another text (or title).
    static func firstDifference(_ expected: [FlowTest.ExpectedAction], _ actual: [PerformedAction]) -> TextDifference? {
        guard let (wanted, got) = zip(expected, actual).first(where: { !$0.matches($1) }), wanted.type == got.type else { return nil }
        if let text = wanted.text, let actualText = got.text, text != actualText { return TextDifference(expected: text, actual: actualText) }
        if let title = wanted.title, let actualTitle = got.title, title != actualTitle { return TextDifference(expected: title, actual: actualTitle) }
        return nil
    }
}
