import Flows
import Foundation

/// The names the studio gives flow files: a plain name in `FLOWS_DIR` (no folder, no
/// hidden file), lowercase letters, digits, `-` and `_`, ending in `.yaml` or `.yml`.
enum FlowFileName {
    static let maxLength = 64

    static func check(_ name: String) throws {
        guard isValid(name) else { throw StudioError.badName(name) }
    }

    static func isValid(_ name: String) -> Bool {
        guard name.count <= maxLength, let stem = stem(of: name), let first = stem.first else { return false }
        return (first.isLetter || first.isNumber) && stem.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "_" }
    }

    /// `greeting` of `greeting.yaml`; nil without one of the two extensions.
    static func stem(of name: String) -> String? {
        for suffix in [".yaml", ".yml"] where name.hasSuffix(suffix) { return String(name.dropLast(suffix.count)) }
        return nil
    }

    /// The editor's file of each running flow, by flow name: the running set is loaded
    /// from `FLOWS_DIR`, so its files are there; one under another name has no editor.
    static func files(of flows: [Flow]) -> [String: String] {
        var files: [String: String] = [:]
        for flow in flows {
            let file = (flow.file as NSString).lastPathComponent
            if isValid(file) { files[flow.name] = file }
        }
        return files
    }

    /// A file name made from what a person typed: "After hours!" → `after-hours.yaml`.
    static func suggested(from text: String) -> String {
        var stem = ""
        for character in text.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber) {
                stem.append(character)
            } else if !stem.isEmpty, stem.last != "-" {
                stem.append("-")
            }
        }
        while stem.hasSuffix("-") { stem.removeLast() }
        return (stem.isEmpty ? "new-flow" : String(stem.prefix(maxLength - 5))) + ".yaml"
    }
}
