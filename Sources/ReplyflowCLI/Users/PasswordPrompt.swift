import Foundation

/// Where `users add` and `users reset-password` get a password: the first line of
/// standard input (`--password-stdin`), or the terminal, asked twice without echo.
enum PasswordPrompt {
    static func read(fromStdin: Bool, confirm: Bool) throws -> String {
        if fromStdin {
            guard let line = readLine(strippingNewline: true) else { throw CommandFailure("--password-stdin: standard input is empty") }
            return line.hasSuffix("\r") ? String(line.dropLast()) : line
        }
        guard isatty(STDIN_FILENO) == 1 else {
            throw CommandFailure("standard input is not a terminal: pipe the password in with --password-stdin")
        }
        let first = try ask("Password: ")
        if confirm, try ask("Again: ") != first { throw CommandFailure("the two passwords differ; nothing changed") }
        return first
    }

    /// One line from the terminal with echo off (restored even on failure).
    private static func ask(_ prompt: String) throws -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { throw CommandFailure("cannot read the terminal's settings") }
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true) else { throw CommandFailure("no password given") }
        return line
    }
}
