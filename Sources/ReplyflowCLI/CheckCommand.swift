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

    @Argument(help: "The flows directory.")
    var directory: String = "flows"

    func run() throws {
        let console = Console.standard()
        defer { StandardStream.flushAll() }
        let code = Self.check(directory: directory, console: console)
        if code != 0 { throw ExitCode(code) }
    }

    /// Returns the exit code; errors and warnings go to the console's output, one per line.
    static func check(directory: String, console: Console) -> Int32 {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            console.line("\(directory):1:1: \(console.red("error")): no such directory (the flows directory holds one .yaml file per flow)")
            return 1
        }
        let flows = FlowLoader.load(directory: directory)
        var diagnostics = flows.diagnostics
        let testFiles = FlowTestLoader.testFiles(in: directory)
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
        let flowCount = flows.flowSet?.flows.count ?? 0
        console.line(
            console.green("✓")
                + " \(flowCount) flow\(flowCount == 1 ? "" : "s") and \(testFiles.count) test file\(testFiles.count == 1 ? "" : "s") in \(directory) are valid"
                + (warnings > 0 ? " (\(warnings) warning\(warnings == 1 ? "" : "s"))" : ""))
        return 0
    }
}
