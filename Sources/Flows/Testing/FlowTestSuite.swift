import Foundation

/// The flow tests of a folder, run against one flow set: what `replyflow test` prints, and
/// what the admin panel's flow studio refuses a save on. One code path for both.
public enum FlowTestSuite {
    /// Runs every test file in `files` (path, contents; nil contents: unreadable) against
    /// `flows`, each test on fresh state from `makeState`.
    public static func run<Store: FlowStateStore>(
        files: [(path: String, data: Data?)], flows: FlowSet, makeState: () throws -> Store, timeZone: TimeZone, autoModeDefault: Bool
    ) async rethrows -> FlowTestSuiteResult {
        var results: [FlowTestSuiteResult.File] = []
        for (path, data) in files {
            guard let data else {
                let unreadable = Diagnostic(.error, at: SourceLocation(file: path, line: 1, column: 1), "cannot read this file")
                results.append(.init(path: path, test: nil, diagnostics: [unreadable], result: nil))
                continue
            }
            let (test, diagnostics) = FlowTestLoader.load(data: data, file: path)
            guard let test else {
                results.append(.init(path: path, test: nil, diagnostics: diagnostics, result: nil))
                continue
            }
            let result = try await FlowTestRunner.run(test, flows: flows, makeState: makeState, timeZone: timeZone, autoModeDefault: autoModeDefault)
            results.append(.init(path: path, test: test, diagnostics: diagnostics, result: result))
        }
        return FlowTestSuiteResult(files: results)
    }
}

/// Each test file's outcome: not loadable (its diagnostics say why), passed, or failed.
public struct FlowTestSuiteResult: Sendable {
    /// One test file.
    public struct File: Sendable {
        public var path: String
        /// Nil when the file could not be read or has errors.
        public var test: FlowTest?
        public var diagnostics: [Diagnostic]
        public var result: FlowTestResult?
    }

    public var files: [File]

    public init(files: [File]) {
        self.files = files
    }

    public var passed: Int { files.filter { $0.result?.passed == true }.count }
    public var failed: Int { files.filter { $0.result.map { !$0.passed } ?? false }.count }
    /// Files that could not be run (unreadable, or with errors).
    public var invalid: Int { files.filter { $0.test == nil }.count }
    public var allPassed: Bool { failed == 0 && invalid == 0 }
}
