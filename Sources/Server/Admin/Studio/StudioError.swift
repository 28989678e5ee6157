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
            return "not saved: \(errors.count) error\(errors.count == 1 ? "" : "s") in the flows (listed with their lines)"
        case .testsFail(let suite):
            return "not saved: \(suite.failed + suite.invalid) flow test file\(suite.failed + suite.invalid == 1 ? "" : "s") would fail with this change"
        case .cannotWrite(let name, let reason): return "could not write \(name): \(reason)"
        }
    }
}
