import ArgumentParser
import Flows
import Foundation
import Storage

/// `--flows DIR`: where the flows are.
struct FlowsOptions: ParsableArguments {
    @Option(name: .long, help: "The flows directory.")
    var flows: String = "flows"
}

/// Options for commands that run the runtime.
struct RuntimeOptions: ParsableArguments {
    @Option(name: .long, help: "Keep state in this SQLite file instead of a scratch in-memory database.")
    var db: String?

    @Option(name: .long, help: "Time zone of 'today' and of time windows without their own (default: $TIMEZONE or UTC).")
    var timezone: String?

    @Option(name: .customLong("auto-mode-default"), help: "Auto mode of chats never seen before: on or off (default: $AUTO_MODE_DEFAULT or on).")
    var autoModeDefault: String?

    func resolvedTimeZone() throws -> TimeZone {
        let name = timezone ?? ProcessInfo.processInfo.environment["TIMEZONE"] ?? "UTC"
        guard let zone = TimeZone(identifier: name) else {
            throw ValidationError("unknown time zone '\(name)'; use an IANA name such as Europe/Moscow")
        }
        return zone
    }

    func resolvedAutoModeDefault() throws -> Bool {
        let value = (autoModeDefault ?? ProcessInfo.processInfo.environment["AUTO_MODE_DEFAULT"] ?? "on").lowercased()
        switch value {
        case "on", "true": return true
        case "off", "false": return false
        default: throw ValidationError("--auto-mode-default must be on or off, not '\(value)'")
        }
    }

    func openDatabase() throws -> ReplyflowDatabase {
        do {
            return try db.map { try ReplyflowDatabase(path: $0) } ?? ReplyflowDatabase()
        } catch {
            throw CommandFailure("cannot open the database \(db ?? ":memory:"): \(error)")
        }
    }
}

/// A failure the user must act on: printed as one line, exit code 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Loads flows and prints their diagnostics; throws exit 1 when any is an error.
func loadFlows(_ directory: String, console: Console, printWarnings: Bool = true) throws -> FlowSet {
    let result = FlowLoader.load(directory: directory)
    for diagnostic in result.diagnostics where diagnostic.severity == .error || printWarnings {
        console.errorLine(render(diagnostic, console: console))
    }
    guard let set = result.flowSet else {
        console.errorLine("The flows in \(directory) have errors; nothing was run.")
        throw ExitCode(1)
    }
    return set
}

func render(_ diagnostic: Diagnostic, console: Console) -> String {
    let severity = diagnostic.severity == .error ? console.red("error") : console.yellow("warning")
    var text = "\(diagnostic.location.description): \(severity): \(diagnostic.message)"
    if let hint = diagnostic.hint { text += " (\(hint))" }
    return text
}
