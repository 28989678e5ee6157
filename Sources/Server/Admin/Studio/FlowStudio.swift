import Crypto
import Flows
import Foundation
import Logging
import Storage

/// The flow studio's one way to change flows, for the panel's pages: check a draft with
/// the checker `replyflow check` uses, save it only when the whole set is valid and the
/// flow tests pass (`FlowTestSuite`, as `replyflow test`), write the file atomically,
/// record a version, and swap the new set into the running engine at once. Restore and
/// delete go the same way. An actor: changes to the folder happen one at a time.
actor FlowStudio {
    let directory: String
    let versions: any FlowVersionStore
    let engine: FlowEngine
    let timeZone: TimeZone
    let autoModeDefault: Bool
    let clock: @Sendable () -> Date
    let logger: Logger

    init(
        directory: String, versions: any FlowVersionStore, engine: FlowEngine, timeZone: TimeZone, autoModeDefault: Bool,
        clock: @escaping @Sendable () -> Date, logger: Logger
    ) {
        self.directory = directory
        self.versions = versions
        self.engine = engine
        self.timeZone = timeZone
        self.autoModeDefault = autoModeDefault
        self.clock = clock
        self.logger = logger
    }

    // MARK: Reading

    /// The flow files on disk, by name.
    nonisolated func files() throws -> [FlowFile] {
        let paths = try FlowLoader.flowFiles(in: directory)
        return paths.compactMap { path in
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            return FlowFile(name: (path as NSString).lastPathComponent, content: String(decoding: data, as: UTF8.self))
        }
    }

    /// One file on disk; nil when it does not exist.
    nonisolated func file(named name: String) throws -> FlowFile? {
        try FlowFileName.check(name)
        guard let data = FileManager.default.contents(atPath: path(of: name)) else { return nil }
        return FlowFile(name: name, content: String(decoding: data, as: UTF8.self))
    }

    /// What the checker says of the flow set with `draft` as the file `name` (added when new):
    /// the draft's own problems and those across files, in file order.
    nonisolated func check(draft: String, as name: String) throws -> FlowLoadResult {
        try FlowFileName.check(name)
        guard draft.utf8.count <= YAMLReader.maximumFileSize else {
            throw StudioError.tooLarge(bytes: draft.utf8.count)
        }
        var files = try files().map { (path: path(of: $0.name), data: Optional(Data($0.content.utf8))) }
        let target = path(of: name)
        files.removeAll { $0.path == target }
        files.append((target, Data(draft.utf8)))
        files.sort { $0.path < $1.path }
        return FlowLoader.load(files: files)
    }

    /// Runs the flow tests of `FLOWS_DIR/tests` against the set with `draft` as `name`
    /// (or the files as they are, without a draft); nil when the set has errors.
    func runTests(draft: (name: String, content: String)?) async throws -> (FlowLoadResult, FlowTestSuiteResult?) {
        let loaded: FlowLoadResult
        if let draft {
            loaded = try check(draft: draft.content, as: draft.name)
        } else {
            loaded = FlowLoader.load(files: try files().map { (path(of: $0.name), Optional(Data($0.content.utf8))) })
        }
        guard let flowSet = loaded.flowSet else { return (loaded, nil) }
        return (loaded, try await testSuite(flowSet))
    }

    // MARK: Changing

    /// Saves `draft` as `name`. `expectedHash` is the hash of the file the editor opened
    /// (nil: a new file, which must not exist yet). Throws `StudioError`: a changed file on
    /// disk, errors in the set, failing flow tests.
    @discardableResult
    func save(name: String, draft: String, expectedHash: String?, comment: String, author: String) async throws -> FlowVersion {
        try await serialized { try await $0.saveNow(name: name, draft: draft, expectedHash: expectedHash, comment: comment, author: author) }
    }

    private func saveNow(name: String, draft: String, expectedHash: String?, comment: String, author: String) async throws -> FlowVersion {
        let current = try file(named: name)
        if expectedHash == nil, current != nil { throw StudioError.exists(name) }
        if current?.hash != expectedHash {
            if let current { throw StudioError.changedOnDisk(current) }
            throw StudioError.deletedOnDisk(name)
        }
        let flowSet = try await validSet(try check(draft: draft, as: name))
        try write(draft, to: name)
        let versions = try await record(
            current, then: .init(file: name, change: .save, content: draft, contentHash: FlowFile.hash(draft), comment: comment, author: author))
        await engine.replaceFlows(flowSet)
        logger.notice("flow saved in the panel", metadata: ["file": "\(name)", "by": "\(author)"])
        return versions
    }

    /// Puts version `id` of `name` back, after recording what the file holds now.
    @discardableResult
    func restore(name: String, versionID: Int64, author: String) async throws -> FlowVersion {
        try await serialized { try await $0.restoreNow(name: name, versionID: versionID, author: author) }
    }

    private func restoreNow(name: String, versionID: Int64, author: String) async throws -> FlowVersion {
        guard let version = try await versions.flowVersion(id: versionID, of: name), let content = version.content else {
            throw StudioError.noSuchVersion(name: name, id: versionID)
        }
        let current = try file(named: name)
        let flowSet = try await validSet(try check(draft: content, as: name))
        try write(content, to: name)
        let recorded = try await record(
            current,
            then: .init(
                file: name, change: .restore, content: content, contentHash: FlowFile.hash(content), comment: "restored version \(versionID)", author: author))
        await engine.replaceFlows(flowSet)
        logger.notice("flow restored in the panel", metadata: ["file": "\(name)", "version": "\(versionID)", "by": "\(author)"])
        return recorded
    }

    /// Removes `name` from the folder; its history stays, and `undelete` brings it back.
    @discardableResult
    func delete(name: String, author: String) async throws -> FlowVersion {
        try await serialized { try await $0.deleteNow(name: name, author: author) }
    }

    private func deleteNow(name: String, author: String) async throws -> FlowVersion {
        guard let current = try file(named: name) else { throw StudioError.noSuchFile(name) }
        let remaining = try files().filter { $0.name != name }
        guard !remaining.isEmpty else { throw StudioError.lastFlow(name) }
        let loaded = FlowLoader.load(files: remaining.map { (path(of: $0.name), Optional(Data($0.content.utf8))) })
        let flowSet = try await validSet(loaded)
        try FileManager.default.removeItem(atPath: path(of: name))
        let recorded = try await record(
            current, then: .init(file: name, change: .delete, content: nil, contentHash: nil, author: author))
        await engine.replaceFlows(flowSet)
        logger.notice("flow deleted in the panel", metadata: ["file": "\(name)", "by": "\(author)"])
        return recorded
    }

    /// Brings back a file deleted in the panel: its last content before the delete.
    @discardableResult
    func undelete(name: String, author: String) async throws -> FlowVersion {
        try await serialized { try await $0.undeleteNow(name: name, author: author) }
    }

    private func undeleteNow(name: String, author: String) async throws -> FlowVersion {
        guard try file(named: name) == nil else { throw StudioError.exists(name) }
        let versions = try await versions.flowVersions(of: name)
        guard versions.first?.change == .delete, let last = versions.first(where: { $0.content != nil }) else {
            throw StudioError.notDeleted(name)
        }
        return try await restoreNow(name: name, versionID: last.id, author: author)
    }

    // MARK: Flow tests

    /// Adds `step` (written by `FlowTestWriter`) to the test file `name` in `FLOWS_DIR/tests`,
    /// making the file (titled `title`) when there is none. Refuses a file the step cannot
    /// be appended to cleanly: the result must read as the same test with one more step.
    /// Returns the number of steps the file has now.
    func addTestStep(_ step: String, toTest name: String, title: String, author: String) async throws -> Int {
        try await serialized { studio in
            try FlowFileName.check(name)
            let folder = FlowLoader.join(studio.directory, "tests")
            let target = FlowLoader.join(folder, name)
            var text: String
            var before = 0
            if let data = FileManager.default.contents(atPath: target) {
                let (test, _) = FlowTestLoader.load(data: data, file: name)
                guard let test else { throw StudioError.testNotAppendable(name, "it has errors: run the flow tests to see them") }
                before = test.steps.count
                text = FlowTestWriter.appending(step, to: String(decoding: data, as: UTF8.self))
            } else {
                text = FlowTestWriter.newFile(name: title.isEmpty ? String(name.prefix { $0 != "." }) : title, step: step)
            }
            let (written, _) = FlowTestLoader.load(data: Data(text.utf8), file: name)
            guard let written, written.steps.count == before + 1 else {
                throw StudioError.testNotAppendable(name, "its steps are not the last part of the file, so the new step would not be one of them")
            }
            guard text.utf8.count <= YAMLReader.maximumFileSize else { throw StudioError.tooLarge(bytes: text.utf8.count) }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try studio.write(text, to: name, in: folder)
            studio.logger.notice("flow test step saved in the panel", metadata: ["file": "tests/\(name)", "by": "\(author)"])
            return written.steps.count
        }
    }

    // MARK: Steps

    /// The last change asked for: each change waits for the one before it to finish. An
    /// actor alone is not enough, since a change awaits (the flow tests, the database) and
    /// another could start in between, read the same file and overwrite the first.
    private var lastChange: Task<Void, Never> = Task {}

    private func serialized<T: Sendable>(_ change: @escaping @Sendable (FlowStudio) async throws -> T) async throws -> T {
        let previous = lastChange
        let task = Task { () async throws -> T in
            await previous.value
            return try await change(self)
        }
        lastChange = Task { _ = try? await task.value }
        return try await task.value
    }

    /// The flow set when `loaded` has no errors and the flow tests pass on it.
    private func validSet(_ loaded: FlowLoadResult) async throws -> FlowSet {
        let errors = loaded.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty, let flowSet = loaded.flowSet else { throw StudioError.invalid(errors) }
        let suite = try await testSuite(flowSet)
        guard suite.allPassed else { throw StudioError.testsFail(suite) }
        return flowSet
    }

    /// The flow tests against `flowSet`, each on a scratch database (as `replyflow test`).
    private func testSuite(_ flowSet: FlowSet) async throws -> FlowTestSuiteResult {
        let testFiles = FlowTestLoader.testFiles(in: directory)
        return try await FlowTestSuite.run(
            files: testFiles.map { ($0, FileManager.default.contents(atPath: $0)) }, flows: flowSet,
            makeState: { try BufferedStateStore(database: try ReplyflowDatabase()) }, timeZone: timeZone, autoModeDefault: autoModeDefault)
    }

    /// Writes through a temporary file renamed over the target: a reader (the reloader, a
    /// crash) sees the old file or the new one, never half of one.
    private nonisolated func write(_ content: String, to name: String, in folder: String? = nil) throws {
        let folder = folder ?? directory
        let target = FlowLoader.join(folder, name)
        let temporary = FlowLoader.join(folder, ".\(name).saving-\(UUID().uuidString)")
        do {
            try Data(content.utf8).write(to: URL(fileURLWithPath: temporary))
            if rename(temporary, target) != 0 { throw StudioError.cannotWrite(name, String(cString: strerror(errno))) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            if let error = error as? StudioError { throw error }
            throw StudioError.cannotWrite(name, "\(error)")
        }
    }

    /// Records `change`, preceded by the file's content before it when no version holds it
    /// yet (the file as it was before the panel first changed it, or edited by hand since):
    /// whatever the change, the content it replaced can be restored.
    private func record(_ before: FlowFile?, then change: NewFlowVersion) async throws -> FlowVersion {
        var new: [NewFlowVersion] = []
        if let before {
            let last = try await versions.flowVersions(of: before.name, limit: 1).first
            if last?.contentHash != before.hash, before.hash != change.contentHash {
                new.append(
                    .init(file: before.name, change: .outside, content: before.content, contentHash: before.hash, author: FlowVersion.outsideAuthor))
            }
        }
        new.append(change)
        let recorded = try await versions.recordFlowVersions(new, at: clock())
        return recorded[recorded.count - 1]
    }

    private nonisolated func path(of name: String) -> String {
        FlowLoader.join(directory, name)
    }
}

extension FlowVersion {
    /// The author of a version that records a change made to the file by hand.
    static let outsideAuthor = "outside the panel"
}

/// A flow file's name and text.
struct FlowFile: Sendable, Equatable {
    var name: String
    var content: String
    var hash: String { Self.hash(content) }

    /// SHA-256 of the text, in hex: what the editor sends back to prove which file it opened.
    static func hash(_ content: String) -> String {
        SHA256.hash(data: Data(content.utf8)).hexadecimal
    }
}
