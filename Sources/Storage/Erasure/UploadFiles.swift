import Foundation
import GRDB

/// Photo files under the uploads folder that deleted messages referred to (`/uploads/NAME`).
///
/// Files are removed after the rows' transaction has committed (a rollback must not lose
/// a file), and only when no message left still refers to them: a client may send the
/// address of an upload it already has.
public enum UploadFiles {
    static let publicPrefix = "/uploads/"

    /// The file name of a public path, or nil for anything that is not one of ours
    /// (another site's URL, a path with separators, a hidden file).
    public static func name(ofPublicPath path: String) -> String? {
        guard path.hasPrefix(publicPrefix) else { return nil }
        let name = String(path.dropFirst(publicPrefix.count))
        guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/"), !name.contains("\\") else { return nil }
        return name
    }

    /// Of `paths`, those no stored message refers to any more.
    static func unreferenced(_ paths: Set<String>, in writer: any DatabaseWriter) async throws -> Set<String> {
        guard !paths.isEmpty else { return [] }
        let list = Array(paths)
        let stillUsed = try await writer.read { db in
            try String.fetchSet(
                db, sql: "SELECT DISTINCT photo_url FROM messages WHERE photo_url IN (\(databaseQuestionMarks(count: list.count)))",
                arguments: StatementArguments(list))
        }
        return paths.subtracting(stillUsed)
    }

    /// Removes the files of `paths` from `directory`; returns how many were removed and
    /// the ones that could not be (a file already gone counts as neither).
    public static func remove(_ paths: Set<String>, from directory: String) -> (removed: Int, failed: [String]) {
        var removed = 0
        var failed: [String] = []
        for path in paths.sorted() {
            guard let name = name(ofPublicPath: path) else { continue }
            let file = (directory as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: file) else { continue }
            do {
                try FileManager.default.removeItem(atPath: file)
                removed += 1
            } catch {
                failed.append(file)
            }
        }
        return (removed, failed)
    }
}
