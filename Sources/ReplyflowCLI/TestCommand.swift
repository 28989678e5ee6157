import ArgumentParser
import Flows
import Foundation
import Storage

/// `replyflow test [DIR]`: runs the flow tests in DIR/tests.
struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the flow tests (DIR/tests/*.yaml).",
        discussion: "Each test runs its steps with fresh state; a failure names the file and line and shows expected against actual."
    )

    @Argument(help: "The flows directory.")
    var directory: String = "flows"

    @OptionGroup var runtimeOptions: RuntimeOptions

    func run() async throws {
        let code = try await Self.test(directory: directory, options: runtimeOptions, console: Console.standard())
        if code != 0 { throw ExitCode(code) }
    }

    static func test(directory: String, options: RuntimeOptions, console: Console) async throws -> Int32 {
        let flows = try loadFlows(directory, console: console)
        let files = FlowTestLoader.testFiles(in: directory)
        guard !files.isEmpty else {
            console.line("No tests in \(directory)/tests: add a .yaml test file there.")
            return 1
        }
        let zone = try options.resolvedTimeZone()
        let autoModeDefault = try options.resolvedAutoModeDefault()
        var failed = 0, passed = 0, invalid = 0
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                console.line("\(file):1:1: \(console.red("error")): cannot read this file")
                invalid += 1
                continue
            }
            let (test, diagnostics) = FlowTestLoader.load(data: data, file: file)
            for diagnostic in diagnostics { console.line(render(diagnostic, console: console)) }
            guard let test else {
                invalid += 1
                continue
            }
            let result: FlowTestResult
            do {
                // Each test starts from an empty scratch database.
                result = try await FlowTestRunner.run(
                    test, flows: flows,
                    makeState: {
                        try BufferedStateStore(database: try ReplyflowDatabase())
                    }, timeZone: zone, autoModeDefault: autoModeDefault)
            } catch {
                throw CommandFailure("cannot create a scratch database: \(error)")
            }
            if result.passed {
                passed += 1
                console.line(console.green("PASS") + "  \(test.name)  " + console.dim(file))
            } else {
                failed += 1
                console.line(console.red("FAIL") + "  \(test.name)  " + console.dim(file))
                for failure in result.failures {
                    console.line("  \(failure.location.description): step \(failure.step) did not do what the test expects")
                    console.line("    expected: " + (failure.expected.isEmpty ? "nothing" : ""))
                    for line in failure.expected { console.line("      - \(line)") }
                    console.line("    actual:   " + (failure.actual.isEmpty ? "nothing" : ""))
                    for line in failure.actual { console.line("      - \(line)") }
                    if let note = failure.note { console.line("    note: \(note)") }
                    for skipped in failure.skipped { console.line("    skipped \(skipped)") }
                }
            }
        }
        let summary = "\(passed) passed, \(failed) failed" + (invalid > 0 ? ", \(invalid) invalid" : "")
        console.line(failed + invalid == 0 ? console.green(summary) : console.red(summary))
        return failed + invalid == 0 ? 0 : 1
    }
}
