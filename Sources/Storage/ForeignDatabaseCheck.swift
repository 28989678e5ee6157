import Foundation
import GRDB

/// A file that is not Replyflow's database: another application's SQLite file (the Flask
/// relay's `support_bot.db`, say), or no SQLite file at all. Migrating it would fail halfway
/// with pages of SQL, or worse, succeed and mix two applications' tables in one file.
public struct ForeignDatabase: Error, CustomStringConvertible {
    /// The file.
    public var path: String
    /// What it is instead, as the end of a sentence.
    public var reason: String

    /// Without the path: whoever reports it names the setting or option that gave it.
    public var description: String { "this file \(reason)" }
}

/// Looks at an existing file before Replyflow opens it as its own. A file is Replyflow's
/// when it is empty, has no tables yet, or records at least one of Replyflow's migrations.
enum ForeignDatabaseCheck {
    /// `configuration`: the database's own (its busy timeout: another connection may be
    /// writing the file this moment).
    static func check(path: String, migrations: [String], configuration: Configuration) throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        guard size > 0 else { return }
        // A plain connection (no WAL pragma, no migration): reading leaves the file as it is.
        let tables: [String]
        let applied: [String]
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            (tables, applied) = try queue.read { db in
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                let applied = tables.contains("grdb_migrations") ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") : []
                return (tables, applied)
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw ForeignDatabase(path: path, reason: "is not a SQLite database")
        }
        guard !tables.isEmpty, Set(applied).isDisjoint(with: migrations) else { return }
        let shown = tables.prefix(5).joined(separator: ", ") + (tables.count > 5 ? ", …" : "")
        throw ForeignDatabase(
            path: path, reason: "is another application's SQLite database (tables \(shown)) and not Replyflow's: point it at a new file, Replyflow creates it")
    }
}
