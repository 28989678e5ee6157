import ArgumentParser
import Flows
import Foundation

/// The `replyflow` command line.
public struct ReplyflowCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "replyflow",
        abstract: "Customer-support conversations driven by YAML flows.",
        discussion: "Edit flows in flows/, then check, dry-run and test them before they go live.",
        subcommands: [
            ServeCommand.self, CheckCommand.self, DryRunCommand.self, TestCommand.self, ReplayCommand.self, SchemaCommand.self, ExperimentsCommand.self,
            EventsCommand.self, TracesCommand.self, BackupCommand.self, RestoreCommand.self, UsersCommand.self, CustomersCommand.self,
            MigrateToPostgresCommand.self,
        ]
    )

    public init() {}
}

/// Entry point with the contract's exit codes: 0 success, 1 validation or test failure, 2 usage error.
public enum ReplyflowMain {
    /// The subcommands' names, for the did-you-mean on a misspelt one.
    static var commandNames: [String] { ReplyflowCommand.configuration.subcommands.map { $0._commandName } + ["help"] }

    /// The error for a first argument that is no command (`replyflow chek`), with a did-you-mean; nil when it is one.
    static func unknownCommand(_ arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-"), !commandNames.contains(first) else { return nil }
        return "error: \(Suggestions.unknownCommand(first, commands: commandNames))\nRun 'replyflow --help' to see the commands.\n"
    }

    public static func run(_ arguments: [String]? = nil) async -> Int32 {
        defer { StandardStream.flushAll() }
        // `replyflow chek`: ArgumentParser would say "unexpected argument"; say which command was meant.
        if let message = unknownCommand(arguments ?? Array(CommandLine.arguments.dropFirst())) {
            StandardStream.error.write(message)
            return 2
        }
        do {
            var command = try ReplyflowCommand.parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let failure as CommandFailure {
            StandardStream.error.write("error: \(failure.description)\n")
            return 1
        } catch {
            let code = ReplyflowCommand.exitCode(for: error)
            let message = ReplyflowCommand.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { StandardStream.out.write(message + "\n") }
                return 0
            }
            if let exit = error as? ExitCode { return exit.rawValue }
            if !message.isEmpty { StandardStream.error.write(message + "\n") }
            // ArgumentParser uses EX_USAGE (64) for bad arguments; the contract says 2.
            return code == .validationFailure ? 2 : code.rawValue
        }
    }
}
