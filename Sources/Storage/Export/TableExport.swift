import Foundation
import GRDB

/// Reads the database out table by table, in primary-key order, a batch at a time: what
/// `replyflow migrate-to-postgres` copies. Batches are read by key (`WHERE key > last`), so
/// a table of millions of rows is never held whole and no batch rereads the ones before.
///
/// Each batch is one read of its own: the copy is consistent only when nothing writes the
/// file meanwhile (the command holds the server's `ServingLock`).
public struct TableExport: Sendable {
    /// A value as SQLite stored it (SQLite's types belong to values, not columns).
    public enum Value: Sendable, Equatable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob([UInt8])
    }

    /// A table's columns, in the schema's order, and its primary key.
    public struct Table: Sendable, Equatable {
        public var name: String
        public var columns: [String]
        /// Indexes in `columns` of the primary key's columns, in the key's order.
        public var keyColumns: [Int]
    }

    /// Tables that are SQLite's or GRDB's bookkeeping, not Replyflow's data.
    public static func isBookkeeping(_ table: String) -> Bool {
        table.hasPrefix("sqlite_") || table == "grdb_migrations"
    }

    private let writer: any DatabaseWriter

    public init(_ database: ReplyflowDatabase) {
        writer = database.writer
    }

    /// Every table of Replyflow's data, by name.
    public func tables() async throws -> [Table] {
        try await writer.read { db in
            let names = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            return try names.filter { !Self.isBookkeeping($0) }.map { name in
                let columns = try db.columns(in: name).map(\.name)
                let key = try db.primaryKey(name).columns
                let keyColumns = key.compactMap { columns.firstIndex(of: $0) }
                guard !key.isEmpty, keyColumns.count == key.count else {
                    throw DatabaseError(message: "table \(name) has no primary key of its own columns; it cannot be read in key order")
                }
                return Table(name: name, columns: columns, keyColumns: keyColumns)
            }
        }
    }

    /// How many rows `table` has.
    public func count(_ table: Table) async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table.name.quotedDatabaseIdentifier)") ?? 0 }
    }

    /// Up to `limit` rows of `table` after the row whose key is `after` (from the start when
    /// nil), in key order. The next batch starts after the key of this one's last row.
    public func batch(of table: Table, after: [Value]?, limit: Int) async throws -> [[Value]] {
        let columns = table.columns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
        let key = table.keyColumns.map { table.columns[$0].quotedDatabaseIdentifier }.joined(separator: ", ")
        var sql = "SELECT \(columns) FROM \(table.name.quotedDatabaseIdentifier)"
        var arguments = StatementArguments()
        if let after {
            sql += " WHERE (\(key)) > (\(Array(repeating: "?", count: after.count).joined(separator: ", ")))"
            arguments = StatementArguments(after.map { $0.databaseValue as (any DatabaseValueConvertible)? })
        }
        sql += " ORDER BY \(key) LIMIT ?"
        arguments += [limit]
        let finalSQL = sql
        let finalArguments = arguments
        return try await writer.read { db in
            let rows = try Row.fetchCursor(db, sql: finalSQL, arguments: finalArguments)
            var batch: [[Value]] = []
            while let row = try rows.next() {
                batch.append((0..<row.count).map { Value(row[$0] as DatabaseValue) })
            }
            return batch
        }
    }

    /// The key of a row of `table`, for `batch(of:after:limit:)`.
    public static func key(of row: [Value], in table: Table) -> [Value] {
        table.keyColumns.map { row[$0] }
    }
}

extension TableExport.Value {
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let integer): self = .integer(integer)
        case .double(let real): self = .real(real)
        case .string(let text): self = .text(text)
        case .blob(let data): self = .blob([UInt8](data))
        }
    }

    var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .integer(let integer): return integer.databaseValue
        case .real(let real): return real.databaseValue
        case .text(let text): return text.databaseValue
        case .blob(let bytes): return Data(bytes).databaseValue
        }
    }
}
