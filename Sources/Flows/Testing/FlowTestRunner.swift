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
        public var note: String?
    }
}

/// Runs flow tests through the same runtime as the server, with recorded services.
public enum FlowTestRunner {
    /// Runs one test with fresh state from `makeState`.
    public static func run<Store: FlowStateStore>(
        _ test: FlowTest, flows: FlowSet, makeState: () throws -> Store, timeZone: TimeZone, autoModeDefault: Bool = true
    ) async rethrows -> FlowTestResult {
        let runtime = SequentialRunner(
            runtime: FlowRuntime(flowSet: flows, timeZone: timeZone, autoModeDefault: autoModeDefault), store: try makeState())
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
                        note: result.note
                    ))
            }
        }
        return FlowTestResult(test: test, failures: failures)
    }

    /// An action as a test would write it.
    public static func describe(_ action: PerformedAction) -> String {
        var text = action.type
        if let value = action.value { text += ": \(value)" }
        if let title = action.title { text += " title \"\(title)\"" }
        if let body = action.text { text += " \"\(body)\"" }
        return text
    }
}
