import ArgumentParser
import Flows
import Foundation

/// `replyflow check [DIR]`: validates every flow and test file.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate every flow and test file.",
        discussion: "Prints each problem as path:line:col: error: message. Exit 1 when any error is found."
    )

    @Argument(help: "The flows directory, or one flow or test file.")
    var directory: String = "flows"

    func run() throws {
        let console = Console.standard()
        defer { StandardStream.flushAll() }
        let code = Self.check(directory: directory, console: console)
        if code != 0 { throw ExitCode(code) }
    }

    /// Returns the exit code; errors and warnings go to the console's output, one per line.
    /// What `check` takes, for the message when given something else.
    static let wanted = "a flows folder, a flow file or a test file"

    static func check(directory: String, console: Console) -> Int32 {
        let kind = FileKind.of(directory)
        var flows: FlowLoadResult?
        var testFiles: [String] = []
        switch kind {
        case .flowsFolder:
            flows = FlowLoader.load(directory: directory)
            testFiles = FlowTestLoader.testFiles(in: directory)
            if flows?.fileCount == 0, testFiles.isEmpty {
                console.line(
                    "\(directory):1:1: \(console.red("error")): there are no flows in this folder (a flows folder holds one .yaml file per flow; is it the right folder?)"
                )
                return 1
            }
        case .testsFolder:
            testFiles = (try? FlowLoader.flowFiles(in: directory)) ?? []
        case .flowFile:
            // One file: its own problems (names shared with other files are not checked).
            flows = FlowLoader.load(files: [(path: directory, data: FileManager.default.contents(atPath: directory))])
        case .testFile:
            testFiles = [directory]
        default:
            console.line("\(directory):1:1: \(console.red("error")): \(FileKind.wrongPathMessage(directory, kind: kind, wanted: wanted))")
            return 1
        }
        var diagnostics = flows?.diagnostics ?? []
        for file in testFiles {
            guard let data = FileManager.default.contents(atPath: file) else {
                diagnostics.append(Diagnostic(.error, at: SourceLocation(file: file, line: 1, column: 1), "cannot read this file"))
                continue
            }
            diagnostics.append(contentsOf: FlowTestLoader.load(data: data, file: file).1)
        }
        for diagnostic in diagnostics { console.line(render(diagnostic, console: console)) }
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.count - errors
        if errors > 0 {
            console.line(
                console.red("✗") + " \(errors) error\(errors == 1 ? "" : "s")" + (warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : "")
                    + " in \(directory)")
            return 1
        }
        let flowCount = flows?.flowSet?.flows.count ?? 0
        console.line(
            console.green("✓")
                + " \(flowCount) flow\(flowCount == 1 ? "" : "s") and \(testFiles.count) test file\(testFiles.count == 1 ? "" : "s") in \(directory) are valid"
                + (warnings > 0 ? " (\(warnings) warning\(warnings == 1 ? "" : "s"))" : ""))
        return 0
    }
}
