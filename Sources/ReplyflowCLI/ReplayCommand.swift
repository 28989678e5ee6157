import ArgumentParser
import Flows
import Foundation
import Storage

/// `replyflow replay EVENTS.jsonl`: a file of events through the runtime, in order,
/// with state carried from event to event.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run a file of events (one JSON event per line) through the flows.",
        discussion:
            """
            Streams the file; prints events per trigger, runs and skips per flow, actions per type and experiment counts. With --json, one \
            dry-run JSON object per event instead. With --compare LIVE_DIR, runs every event through both the --flows set (the draft) and \
            LIVE_DIR, each on its own scratch state that starts empty, and prints what the draft would do differently (--json: one object).
            """
    )

    @Argument(help: "A JSON Lines file: one event per line, in the dry-run event format.")
    var eventsFile: String

    @OptionGroup var flowsOptions: FlowsOptions
    @OptionGroup var runtimeOptions: RuntimeOptions

    @Flag(name: .long, help: "Print one dry-run JSON object per event instead of the summary (with --compare: the comparison as one JSON object).")
    var json = false

    @Option(name: .long, help: "Compare: the live flows folder to hold the --flows set (the draft) against. Nothing is stored or sent.")
    var compare: String?

    @Flag(name: .customLong("no-traces"), help: "With --db, do not store run traces (faster; the summary is the same). Without --db none are kept.")
    var noTraces = false

    func run() async throws {
        if let compare {
            if runtimeOptions.db != nil {
                throw ValidationError("--compare runs both sets on scratch state: leave out --db")
            }
            let code = try await Self.compare(
                eventsFile: eventsFile, draftDirectory: flowsOptions.flows, liveDirectory: compare, options: runtimeOptions, json: json,
                console: Console.standard())
            if code != 0 { throw ExitCode(code) }
            return
        }
        let code = try await Self.replay(
            eventsFile: eventsFile, flowsDirectory: flowsOptions.flows, options: runtimeOptions,
            json: json, traces: !noTraces, console: Console.standard()
        )
        if code != 0 { throw ExitCode(code) }
    }

    /// The events file's reader, or nil after saying in one line why it cannot be read.
    static func openEvents(_ eventsFile: String, console: Console) -> JSONLinesReader? {
        let kind = FileKind.of(eventsFile)
        if kind != .eventLines && kind != .other {
            console.errorLine(
                "\(eventsFile):1:1: \(console.red("error")): \(FileKind.wrongPathMessage(eventsFile, kind: kind, wanted: "a file of events, one JSON object a line"))"
            )
            return nil
        }
        guard let reader = JSONLinesReader(path: eventsFile) else {
            console.errorLine("\(eventsFile):1:1: \(console.red("error")): cannot open the events file")
            return nil
        }
        return reader
    }

    static func replay(eventsFile: String, flowsDirectory: String, options: RuntimeOptions, json: Bool, traces: Bool, console: Console) async throws -> Int32 {
        guard let reader = openEvents(eventsFile, console: console) else { return 1 }
        let flows = try loadFlows(flowsDirectory, console: console, printWarnings: false)
        // Without --db the state goes to a scratch file, not memory: a long replay stores
        // every message, and memory must stay flat.
        var scratchDirectory: String?
        let database: ReplyflowDatabase
        if options.db == nil {
            do {
                let scratch = try ReplyflowDatabase.scratch()
                database = scratch.database
                scratchDirectory = scratch.directory
            } catch {
                throw CommandFailure("cannot create a scratch database: \(error)")
            }
        } else {
            database = try options.openDatabase()
        }
        defer { if let scratchDirectory { try? FileManager.default.removeItem(atPath: scratchDirectory) } }
        let runner = try RecordedRuntime(
            flows: flows, database: database, timeZone: try options.resolvedTimeZone(), autoModeDefault: try options.resolvedAutoModeDefault())
        // A scratch database disappears with the process: traces nobody can read are not kept.
        runner.runtime.recordsTraces = traces && options.db != nil
        let encoder = DryRunJSON.encoder(pretty: false)
        let now = Date()
        var summary = ReplaySummary()
        let started = DispatchTime.now().uptimeNanoseconds
        let pipeline = EventLinePipeline(reader: reader, now: now)
        while let batch = pipeline.next() {
            for line in batch {
                switch line.event {
                case .failure(let problem):
                    summary.badLines += 1
                    console.errorLine("\(eventsFile):\(line.number):\(problem.column): \(console.red("error")): \(problem.message)")
                    if json {
                        let object = DryRunJSON.LineErrorJSON(line: line.number, column: problem.column, error: problem.message)
                        console.line(String(decoding: try encoder.encode(object), as: UTF8.self))
                    }
                case .success(let event):
                    let result = await runner.run(event)
                    summary.add(result)
                    if json { console.line(String(decoding: try encoder.encode(DryRunJSON(result, line: line.number)), as: UTF8.self)) }
                }
            }
            if let error = runner.store.takeError() { throw CommandFailure("storage error near \(eventsFile):\(batch.last?.number ?? 0): \(error)") }
            pipeline.recycle(batch)
        }
        do {
            try runner.store.finish()
        } catch {
            throw CommandFailure("storage error while saving the replay's state: \(error)")
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        if !json { console.line(summary.render(seconds: seconds, console: console)) }
        return summary.badLines > 0 ? 1 : 0
    }

    /// `replay --compare`: every event through the draft and the live set; the difference.
    static func compare(
        eventsFile: String, draftDirectory: String, liveDirectory: String, options: RuntimeOptions, json: Bool, console: Console
    ) async throws -> Int32 {
        guard let reader = openEvents(eventsFile, console: console) else { return 1 }
        let draft = try loadFlows(draftDirectory, console: console, printWarnings: false)
        let live = try loadFlows(liveDirectory, console: console, printWarnings: false)
        let comparer: FlowSetComparer
        do {
            comparer = try FlowSetComparer(
                live: live, draft: draft, timeZone: try options.resolvedTimeZone(), autoModeDefault: try options.resolvedAutoModeDefault())
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure("cannot create the scratch state for the comparison: \(error)")
        }
        var badLines = 0
        let started = DispatchTime.now().uptimeNanoseconds
        let pipeline = EventLinePipeline(reader: reader, now: Date())
        while let batch = pipeline.next() {
            for line in batch {
                switch line.event {
                case .failure(let problem):
                    badLines += 1
                    console.errorLine("\(eventsFile):\(line.number):\(problem.column): \(console.red("error")): \(problem.message)")
                case .success(let event):
                    await comparer.run(event)
                }
            }
            if let error = comparer.takeError() { throw CommandFailure("storage error near \(eventsFile):\(batch.last?.number ?? 0): \(error)") }
            pipeline.recycle(batch)
        }
        let comparison: FlowSetComparison
        do {
            comparison = try comparer.finish()
        } catch {
            throw CommandFailure("storage error in the comparison's scratch state: \(error)")
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        if json {
            let encoder = DryRunJSON.encoder(pretty: false)
            console.line(String(decoding: try encoder.encode(ComparisonOutput.JSON(comparison, badLines: badLines)), as: UTF8.self))
        } else {
            console.line(ComparisonOutput.text(comparison, badLines: badLines, seconds: seconds, console: console))
        }
        return badLines > 0 ? 1 : 0
    }
}
