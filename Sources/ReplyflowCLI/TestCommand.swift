import ArgumentParser
import Flows
import Foundation
import Storage

/// `replyflow test [DIR]`: runs the flow tests in DIR/tests.
struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the flow tests (DIR/tests/*.yaml, the tests folder, or one test file).",
        discussion: "Each test runs its steps with fresh state; a failure names the file and line and shows expected against actual."
    )

    @Argument(help: "The flows directory, its tests folder, or one test file.")
    var directory: String = "flows"

    @OptionGroup var runtimeOptions: RuntimeOptions

    func run() async throws {
        let code = try await Self.test(directory: directory, options: runtimeOptions, console: Console.standard())
        if code != 0 { throw ExitCode(code) }
    }

    static func test(directory: String, options: RuntimeOptions, console: Console) async throws -> Int32 {
        let target: TestTarget
        switch TestTarget.resolve(directory) {
        case .success(let found): target = found
        case .failure(let problem):
            console.line("\(directory):1:1: \(console.red("error")): \(problem.message)")
            return 1
        }
        let flows = try loadFlows(target.flowsDirectory, console: console)
        let files = target.testFiles
        guard !files.isEmpty else {
            console.line("No tests in \(FlowLoader.join(target.flowsDirectory, "tests")): add a .yaml test file there.")
            return 1
        }
        let zone = try options.resolvedTimeZone()
        let autoModeDefault = try options.resolvedAutoModeDefault()
        let suite: FlowTestSuiteResult
        do {
            // Each test starts from an empty scratch database.
            suite = try await FlowTestSuite.run(
                files: files.map { ($0, FileManager.default.contents(atPath: $0)) }, flows: flows,
                makeState: { try BufferedStateStore(database: try ReplyflowDatabase()) }, timeZone: zone, autoModeDefault: autoModeDefault)
        } catch {
            throw CommandFailure("cannot create a scratch database: \(error)")
        }
        for file in suite.files {
            for diagnostic in file.diagnostics { console.line(render(diagnostic, console: console)) }
            guard let test = file.test, let result = file.result else { continue }
            if result.passed {
                console.line(console.green("PASS") + "  \(test.name)  " + console.dim(file.path))
                continue
            }
            console.line(console.red("FAIL") + "  \(test.name)  " + console.dim(file.path))
            for failure in result.failures {
                console.line("  \(failure.location.description): step \(failure.step) did not do what the test expects")
                console.line("    expected: " + (failure.expected.isEmpty ? "nothing" : ""))
                for line in failure.expected { console.line("      - \(line)") }
                // In the test file's own syntax, so it can be pasted under `expect:`.
                console.line("    actual:   " + (failure.actual.isEmpty ? "nothing" : ""))
                for line in failure.actual { console.line("      - \(line)") }
                if let difference = failure.difference {
                    console.line("    \(difference.message)")
                    for line in difference.lines { console.line("      \(line)") }
                }
                if let note = failure.note { console.line("    note: \(note)") }
                for skipped in failure.skipped { console.line("    skipped \(skipped)") }
                for ranElse in failure.elseRan { console.line("    else    \(ranElse)") }
            }
        }
        let passed = suite.passed, failed = suite.failed, invalid = suite.invalid
        let summary = "\(passed) passed, \(failed) failed" + (invalid > 0 ? ", \(invalid) invalid" : "")
        console.line(failed + invalid == 0 ? console.green(summary) : console.red(summary))
        return failed + invalid == 0 ? 0 : 1
    }
}
