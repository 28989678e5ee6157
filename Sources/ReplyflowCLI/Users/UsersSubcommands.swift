import ArgumentParser
import Foundation
import Storage

extension UsersCommand {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add an account.")

        @Argument(help: "The user name: 1 to 64 letters, digits, '.', '_' or '-'.") var name: String
        @Option(help: "agent, editor or admin.") var role: String
        @Flag(name: .customLong("password-stdin"), help: "Read the password from the first line of standard input.") var passwordStdin = false
        @OptionGroup var common: Common

        func run() async throws {
            let role = try UsersCommand.role(role)
            let password = try PasswordPrompt.read(fromStdin: passwordStdin, confirm: true)
            let hasher = try common.hasher()
            try await common.withStore { store in
                try await UsersCommand.add(username: name, role: role, password: password, database: store, hasher: hasher, console: .standard())
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the accounts.")
        @OptionGroup var common: Common

        func run() async throws {
            try await common.withStore { try await UsersCommand.list(database: $0, console: .standard()) }
        }
    }

    struct SetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-role", abstract: "Change an account's role.")
        @Argument var name: String
        @Argument(help: "agent, editor or admin.") var role: String
        @OptionGroup var common: Common

        func run() async throws {
            let role = try UsersCommand.role(role)
            try await common.withStore { try await UsersCommand.setRole(username: name, role: role, database: $0, console: .standard()) }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "disable", abstract: "Disable an account (its sessions end).")
        @Argument var name: String
        @OptionGroup var common: Common

        func run() async throws {
            try await common.withStore { try await UsersCommand.setDisabled(username: name, true, database: $0, console: .standard()) }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enable", abstract: "Enable a disabled account.")
        @Argument var name: String
        @OptionGroup var common: Common

        func run() async throws {
            try await common.withStore { try await UsersCommand.setDisabled(username: name, false, database: $0, console: .standard()) }
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reset-password", abstract: "Set a new password (the account's sessions end).")
        @Argument var name: String
        @Flag(name: .customLong("password-stdin"), help: "Read the password from the first line of standard input.") var passwordStdin = false
        @OptionGroup var common: Common

        func run() async throws {
            let password = try PasswordPrompt.read(fromStdin: passwordStdin, confirm: true)
            let hasher = try common.hasher()
            try await common.withStore { store in
                try await UsersCommand.resetPassword(username: name, password: password, database: store, hasher: hasher, console: .standard())
            }
        }
    }
}
