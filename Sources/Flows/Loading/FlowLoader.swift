import Foundation

/// The outcome of loading a directory of flows: the set (only when nothing is in error)
/// and every diagnostic of every file.
public struct FlowLoadResult: Sendable {
    public var flowSet: FlowSet?
    public var diagnostics: [Diagnostic]
    public var fileCount: Int

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Loads and validates flow files.
public enum FlowLoader {
    /// YAML files directly in `directory`, sorted by name (test files live in `tests/`).
    public static func flowFiles(in directory: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { join(directory, $0) }
    }

    public static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Loads every flow file of a directory. A missing directory is one error, not a crash.
    public static func load(directory: String) -> FlowLoadResult {
        let paths: [String]
        do {
            paths = try flowFiles(in: directory)
        } catch {
            let location = SourceLocation(file: directory, line: 1, column: 1)
            return FlowLoadResult(
                flowSet: nil,
                diagnostics: [Diagnostic(.error, at: location, "cannot read the flows directory", hint: "check the path; it should hold .yaml flow files")],
                fileCount: 0)
        }
        let files = paths.map { path in (path, FileManager.default.contents(atPath: path)) }
        return load(files: files)
    }

    /// Loads flows from (path, contents) pairs; nil contents means the file could not be read.
    public static func load(files: [(path: String, data: Data?)]) -> FlowLoadResult {
        var diagnostics: [Diagnostic] = []
        var flows: [Flow] = []
        for (path, data) in files {
            guard let data else {
                diagnostics.append(Diagnostic(.error, at: SourceLocation(file: path, line: 1, column: 1), "cannot read this file"))
                continue
            }
            let (flow, fileDiagnostics) = loadFlow(data: data, file: path)
            diagnostics.append(contentsOf: fileDiagnostics)
            if let flow { flows.append(flow) }
        }
        diagnostics.append(contentsOf: crossFileProblems(flows))
        let hasErrors = diagnostics.contains { $0.severity == .error }
        guard !hasErrors else { return FlowLoadResult(flowSet: nil, diagnostics: diagnostics, fileCount: files.count) }
        var flowSet = FlowSet(flows: flows)
        flowSet.sources = files.compactMap { path, data in data.map { FlowSource(name: (path as NSString).lastPathComponent, data: $0) } }
        return FlowLoadResult(flowSet: flowSet, diagnostics: diagnostics, fileCount: files.count)
    }

    /// Loads one flow file: the flow, or nil with the reasons.
    public static func loadFlow(data: Data, file: String) -> (Flow?, [Diagnostic]) {
        var bag = DiagnosticBag()
        guard let text = YAMLReader.text(of: data, file: file, into: &bag),
            let composed = YAMLReader.composeRecovering(text: text, file: file, into: &bag)
        else { return (nil, bag.items) }
        var decoder = FlowDecoder(file: file, source: text)
        let flow = decoder.decode(composed.node)
        let found = decoder.reader.bag.items.filter { !composed.repairedLines.contains($0.location.line) }
        let diagnostics = sortedByPosition(bag.items + found)
        return (diagnostics.contains { $0.severity == .error } ? nil : flow, diagnostics)
    }

    /// One file's diagnostics top to bottom, as people read and fix them; equal positions
    /// keep the order they were found in.
    static func sortedByPosition(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        diagnostics.enumerated().sorted { lhs, rhs in
            (lhs.element.location.line, lhs.element.location.column, lhs.offset) < (rhs.element.location.line, rhs.element.location.column, rhs.offset)
        }.map(\.element)
    }

    /// Names and experiment keys must be unique across files.
    static func crossFileProblems(_ flows: [Flow]) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        var names: [String: Flow] = [:]
        var keys: [String: Flow] = [:]
        for flow in flows.sorted(by: { $0.file < $1.file }) {
            if let first = names[flow.name] {
                problems.append(
                    Diagnostic(
                        .error, at: flow.location, "another flow is already named '\(flow.name)'", hint: "names must be unique; the other is in \(first.file)"))
            } else {
                names[flow.name] = flow
            }
            if let experiment = flow.experiment {
                if let first = keys[experiment.key] {
                    problems.append(
                        Diagnostic(
                            .error, at: experiment.location, "experiment key '\(experiment.key)' is already used by flow '\(first.name)'",
                            hint: "each experiment needs its own key, or results mix"))
                } else {
                    keys[experiment.key] = flow
                }
            }
        }
        return problems
    }
}
