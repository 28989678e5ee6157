import Flows

/// Why the studio refused a change; each says what to do in words a non-programmer reads.
enum StudioError: Error, CustomStringConvertible {
    case badName(String)
    case tooLarge(bytes: Int)
    case noSuchFile(String)
    case exists(String)
    case notDeleted(String)
    case noSuchVersion(name: String, id: Int64)
    case changedOnDisk(FlowFile)
    case deletedOnDisk(String)
    case lastFlow(String)
    case invalid([Diagnostic])
    case testsFail(FlowTestSuiteResult)
    case cannotWrite(String, String)
    case testNotAppendable(String, String)

    var description: String {
        switch self {
        case .badName(let name):
            return "'\(name.prefix(80))' is not a flow file name: use lowercase letters, digits, - and _, ending in .yaml (for example after-hours.yaml)"
        case .tooLarge(let bytes):
            return "the flow is \(bytes) bytes; a flow file may be at most \(YAMLReader.maximumFileSize) bytes"
        case .noSuchFile(let name): return "there is no flow file \(name)"
        case .exists(let name): return "a flow file \(name) already exists: open it, or choose another name"
        case .notDeleted(let name): return "\(name) was not deleted in the panel, so there is nothing to bring back"
        case .noSuchVersion(let name, let id): return "\(name) has no version \(id)"
        case .changedOnDisk(let file):
            return "\(file.name) was changed by someone else since you opened it: compare the two below, then save yours again or keep theirs"
        case .deletedOnDisk(let name): return "\(name) was deleted or renamed since you opened it"
        case .lastFlow(let name): return "\(name) is the last flow: the server would have nothing to run, so it cannot be deleted"
        case .invalid(let errors):
            return "not saved: \(errors.count) error\(errors.count == 1 ? "" : "s") in the flows"
        case .testsFail(let suite):
            return "not saved: \(suite.failed + suite.invalid) flow test file\(suite.failed + suite.invalid == 1 ? "" : "s") would fail with this change"
        case .cannotWrite(let name, let reason): return "could not write \(name): \(reason)"
        case .testNotAppendable(let name, let reason): return "could not add the step to tests/\(name): \(reason); choose another test file"
        }
    }

    /// What lies behind `invalid` and `testsFail`, a line each (the first ten), for pages
    /// that cannot show the editor's lists.
    var details: [String] {
        switch self {
        case .invalid(let errors):
            return errors.prefix(10).map { "\($0.location.file.split(separator: "/").last ?? ""):\($0.location.line):\($0.location.column): \($0.message)" }
        case .testsFail(let suite):
            return suite.files.filter { $0.result?.passed != true }.prefix(10).map { file in
                let name = file.path.split(separator: "/").last.map(String.init) ?? file.path
                if let failure = file.result?.failures.first {
                    return
                        "\(name):\(failure.location.line): step \(failure.step) would do \(failure.actual.isEmpty ? "nothing" : failure.actual.joined(separator: "; ")), the test expects \(failure.expected.isEmpty ? "nothing" : failure.expected.joined(separator: "; "))"
                }
                return "\(name): \(file.diagnostics.first?.message ?? "cannot be run")"
            }
        default:
            return []
        }
    }
}
