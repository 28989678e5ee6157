import ArgumentParser
import Flows
import Foundation

/// `replyflow dry-run EVENT_FILE`: one event through the runtime; nothing is sent.
struct DryRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dry-run",
        abstract: "Run one event through the flows without sending anything.",
        discussion: "Shows which flows ran, which were skipped and why, and the actions with their text."
    )

    @Argument(help: "A YAML event file (kind, at, user, chat, message, stubs).")
    var eventFile: String

    @OptionGroup var flowsOptions: FlowsOptions
    @OptionGroup var runtimeOptions: RuntimeOptions

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        try await Self.dryRun(eventFile: eventFile, flowsDirectory: flowsOptions.flows, options: runtimeOptions, json: json, console: Console.standard())
    }

    static func dryRun(eventFile: String, flowsDirectory: String, options: RuntimeOptions, json: Bool, console: Console) async throws {
        let kind = FileKind.of(eventFile)
        if kind == .missing || kind == .eventLines || kind == .database || kind == .flowFile || kind == .testFile || kind == .flowsFolder
            || kind == .testsFolder
        {
            console.errorLine(
                "\(eventFile):1:1: \(console.red("error")): \(FileKind.wrongPathMessage(eventFile, kind: kind, wanted: "one event written in YAML"))")
            throw ExitCode(1)
        }
        let flows = try loadFlows(flowsDirectory, console: console, printWarnings: !json)
        guard let data = FileManager.default.contents(atPath: eventFile) else {
            console.errorLine("\(eventFile):1:1: \(console.red("error")): cannot read the event file")
            throw ExitCode(1)
        }
        let (event, diagnostics) = EventFile.load(data: data, file: eventFile)
        for diagnostic in diagnostics { console.errorLine(render(diagnostic, console: console)) }
        guard let event else { throw ExitCode(1) }
        let runner = try RecordedRuntime(
            flows: flows, database: try options.openDatabase(), timeZone: try options.resolvedTimeZone(), autoModeDefault: try options.resolvedAutoModeDefault()
        )
        let result = await runner.run(event)
        do {
            try runner.store.finish()
        } catch {
            throw CommandFailure("storage error: \(error)")
        }
        if json {
            let data = try DryRunJSON.encoder(pretty: true).encode(DryRunJSON(result))
            console.line(String(decoding: data, as: UTF8.self))
        } else {
            console.line(DryRunText.render(result, event: event, console: console))
        }
    }
}
