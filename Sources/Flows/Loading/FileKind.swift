import Foundation

/// What a path given to a command holds, judged from the file itself, so a command given the
/// wrong kind of file can say which command reads it. The wording is here, not in the CLI,
/// so the admin panel says the same.
public enum FileKind: Sendable, Equatable {
    case missing
    /// A folder of flows (`flows`), possibly empty.
    case flowsFolder
    /// A `tests` folder of flow tests.
    case testsFolder
    case flowFile
    case testFile
    /// A YAML event (`replyflow dry-run`).
    case eventFile
    /// JSON lines of events (`replyflow replay`).
    case eventLines
    /// A SQLite database (`--db`, `experiments report`).
    case database
    case other

    /// Looks at the path: folders by name and contents, files by their first bytes and top-level keys.
    public static func of(_ path: String) -> FileKind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .missing }
        if isDirectory.boolValue {
            let name = URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
            if name == "tests" { return .testsFolder }
            return .flowsFolder
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { return .other }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 64 * 1024)) ?? Data()
        return of(data: head, path: path)
    }

    /// Judges a file's contents (its beginning is enough).
    static func of(data: Data, path: String) -> FileKind {
        if data.starts(with: Data("SQLite format 3\u{0}".utf8)) { return .database }
        let text = String(decoding: data, as: UTF8.self)
        if path.hasSuffix(".jsonl") || text.drop(while: { $0.isWhitespace }).first == "{" { return .eventLines }
        guard path.hasSuffix(".yaml") || path.hasSuffix(".yml") || !text.isEmpty else { return .other }
        // Top-level keys: lines that start a `key:` in column 1.
        var keys: Set<String> = []
        for line in text.split(separator: "\n") where line.first?.isLetter == true {
            if let colon = line.firstIndex(of: ":") { keys.insert(String(line[..<colon])) }
        }
        if keys.contains("steps") { return .testFile }
        if keys.contains("kind") || (keys.contains("user") && !keys.contains("do")) { return .eventFile }
        if keys.contains("on") || keys.contains("do") || keys.contains("name") { return .flowFile }
        return .other
    }

    /// What it is, in words: "a flow file".
    public var description: String {
        switch self {
        case .missing: "nothing (it does not exist)"
        case .flowsFolder: "a flows folder"
        case .testsFolder: "a tests folder"
        case .flowFile: "a flow file"
        case .testFile: "a test file"
        case .eventFile: "an event file (YAML)"
        case .eventLines: "a file of JSON lines"
        case .database: "a SQLite database"
        case .other: "not a file replyflow reads"
        }
    }

    /// The command that reads this kind, for "… is X: `replyflow Y` reads it".
    public func reader(for path: String) -> String? {
        switch self {
        case .flowsFolder: "replyflow check \(path)"
        case .testsFolder, .testFile: "replyflow test \(path)"
        case .flowFile: "replyflow check \(path)"
        case .eventFile: "replyflow dry-run \(path)"
        case .eventLines: "replyflow replay \(path)"
        case .database: "replyflow experiments report --db \(path)"
        case .missing, .other: nil
        }
    }

    /// The message for a path a command cannot use: it does not exist, or it is another kind
    /// of file, with the command that reads it. `wanted` says what the command takes.
    public static func wrongPathMessage(_ path: String, kind: FileKind, wanted: String) -> String {
        if kind == .missing { return "'\(path)' does not exist (check the path; this command takes \(wanted))" }
        if kind == .other { return "'\(path)' is not \(wanted): replyflow cannot tell what it is (check the path)" }
        var message = "'\(path)' is \(kind.description), but this command takes \(wanted)"
        if let command = kind.reader(for: path) { message += "; `\(command)` reads it" }
        return message
    }
}

/// Where `replyflow test PATH` finds the flows and the tests: PATH may be the flows folder,
/// its `tests` folder, or one test file.
public struct TestTarget: Sendable, Equatable {
    public var flowsDirectory: String
    public var testFiles: [String]

    public static let wanted =
        "a flows folder, its tests folder, or one test file (for example: replyflow test flows, replyflow test flows/tests/greeting.yaml)"

    /// The flows and tests for `path`, or the message saying what was expected.
    public static func resolve(_ path: String) -> Result<TestTarget, TargetProblem> {
        let kind = FileKind.of(path)
        let url = URL(fileURLWithPath: path)
        switch kind {
        case .flowsFolder:
            return .success(TestTarget(flowsDirectory: path, testFiles: FlowTestLoader.testFiles(in: path)))
        case .testsFolder:
            let files = (try? FlowLoader.flowFiles(in: path)) ?? []
            return .success(TestTarget(flowsDirectory: url.deletingLastPathComponent().path, testFiles: files))
        case .testFile:
            // flows/tests/x.yaml: the flows are the folder above `tests`.
            var folder = url.deletingLastPathComponent()
            if folder.lastPathComponent == "tests" { folder = folder.deletingLastPathComponent() }
            return .success(TestTarget(flowsDirectory: folder.path, testFiles: [path]))
        default:
            return .failure(TargetProblem(message: FileKind.wrongPathMessage(path, kind: kind, wanted: wanted)))
        }
    }

    public struct TargetProblem: Error, Sendable, Equatable {
        public var message: String
    }
}
