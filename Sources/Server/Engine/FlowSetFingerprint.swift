import Crypto
import Flows
import Foundation

/// What `/health` says of the running flows: the first 16 hex digits of a SHA-256 over the
/// files they were loaded from (names and bytes, in name order). Instances that show the
/// same fingerprint run the same flows; after an edit, each shows the new one once it has
/// reloaded.
enum FlowSetFingerprint {
    static func of(_ flowSet: FlowSet) -> String {
        var hasher = SHA256()
        for source in flowSet.sources.sorted(by: { $0.name < $1.name }) {
            // Lengths first, so no two different lists of files hash the same bytes.
            hasher.update(data: Data("\(source.name.utf8.count):\(source.name)\(source.data.count):".utf8))
            hasher.update(data: source.data)
        }
        return String(hasher.finalize().hexadecimal.prefix(16))
    }
}
