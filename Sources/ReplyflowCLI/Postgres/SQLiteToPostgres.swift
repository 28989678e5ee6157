import Foundation
import Logging
import PostgresStorage
import Storage

/// The copy behind `migrate-to-postgres`: which SQLite table goes where, and the streaming
/// of its rows, a batch at a time, into the import's one transaction.
enum SQLiteToPostgres {
    /// The SQLite tables in the order PostgreSQL takes them (`ReplyflowTable.all`).
    ///
    /// A table in the SQLite file that the PostgreSQL schema does not know stops the copy:
    /// a table added to SQLite later must get its place here too, never be left behind.
    static func plan(_ export: TableExport) async throws -> [TableExport.Table] {
        let sqliteTables = try await export.tables()
        let known = Set(ReplyflowTable.all.map(\.name))
        let unknown = sqliteTables.map(\.name).filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw CommandFailure(
                "the SQLite database has tables the PostgreSQL copy does not know: \(unknown.joined(separator: ", ")); nothing was copied (each table needs its place in the PostgreSQL schema first)"
            )
        }
        let byName = Dictionary(uniqueKeysWithValues: sqliteTables.map { ($0.name, $0) })
        let missing = ReplyflowTable.all.map(\.name).filter { byName[$0] == nil }
        guard missing.isEmpty else {
            throw CommandFailure("the SQLite database lacks the tables \(missing.joined(separator: ", ")); is it Replyflow's?")
        }
        return ReplyflowTable.all.compactMap { byName[$0.name] }
    }

    /// Copies `tables` in order; returns the rows written per table.
    static func copy(
        _ tables: [TableExport.Table], from export: TableExport, into postgres: ReplyflowPostgres, logger: Logger
    ) async throws -> [(table: String, rows: Int)] {
        var copied: [(table: String, rows: Int)] = []
        try await PostgresImport.run(into: postgres, logger: logger) { writer in
            for table in tables {
                let batchSize = PostgresImport.Writer.rowsPerInsert(columnCount: table.columns.count)
                var after: [TableExport.Value]?
                var rows = 0
                while true {
                    let batch = try await export.batch(of: table, after: after, limit: batchSize)
                    guard let last = batch.last else { break }
                    try await writer.insert(table: table.name, columns: table.columns, rows: batch.map { $0.map(Self.value) })
                    rows += batch.count
                    after = TableExport.key(of: last, in: table)
                    if batch.count < batchSize { break }
                }
                copied.append((table.name, rows))
            }
        }
        return copied
    }

    static func value(_ value: TableExport.Value) -> PostgresImport.Value {
        switch value {
        case .null: return .null
        case .integer(let integer): return .integer(integer)
        case .real(let real): return .real(real)
        case .text(let text): return .text(text)
        case .blob(let bytes): return .blob(bytes)
        }
    }
}
