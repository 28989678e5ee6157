import Foundation
import Logging
import PostgresNIO

/// Fills an empty Replyflow database on PostgreSQL in one transaction: the receiving end of
/// `replyflow migrate-to-postgres`.
///
/// It never merges: a database whose Replyflow tables hold any row is refused before
/// anything is written. Rows go in as multi-row INSERTs with bound parameters; each value
/// is converted to its column's type explicitly, and a value that does not fit (text in a
/// BIGINT column) stops the import instead of being guessed at. At the end each identity
/// sequence is moved past the copied ids, so the next id PostgreSQL gives out is max(id)+1.
public enum PostgresImport {
    /// A value to write, as SQLite stored it.
    public enum Value: Sendable, Equatable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob([UInt8])
    }

    /// Why an import stopped: one line.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The advisory lock of imports, so two at once on one database cannot both find it empty.
    static let lockKey: Int64 = 0x7266_6C6F_7769_6D70

    /// Applies the migrations, then, in one transaction, checks that every Replyflow table is
    /// empty, lets `body` insert through the `Writer`, resets the identity sequences and commits.
    public static func run(
        into database: ReplyflowPostgres, logger: Logger, _ body: (Writer) async throws -> Void
    ) async throws(Failure) {
        do {
            try await database.migrate()
        } catch {
            throw Failure(description: error.description)
        }
        do {
            try await database.client.withTransaction(logger: logger) { connection in
                _ = try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger).collect()
                // The copied conversations and counts are already what the messages made:
                // migration 2's triggers stand aside for this transaction.
                _ = try await connection.query("SET LOCAL replyflow.importing = 'on'", logger: logger).collect()
                let writer = try await Writer(connection: connection, logger: logger)
                try await writer.requireEmpty()
                try await body(writer)
                try await writer.resetIdentities()
                try await writer.fillInboxChats()
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            if let failure = (error as? PostgresTransactionError)?.closureError as? Failure { throw failure }
            throw Failure(description: "the import into PostgreSQL failed and was rolled back: \(PostgresErrorText.describe(error))")
        }
    }

    /// Inserts rows inside the import's transaction. Lent to the body of `run`; do not keep it.
    public final class Writer {
        /// The PostgreSQL types migration 1 uses.
        enum ColumnType {
            case bigint, double, text
        }

        private let connection: PostgresConnection
        private let logger: Logger
        /// Table → column → type, from the database's own catalogue.
        private let columnTypes: [String: [String: ColumnType]]

        /// Bound parameters a statement may carry (the protocol's limit is 65,535).
        static let parametersPerStatement = 30_000
        static let rowsPerStatement = 1_000

        fileprivate init(connection: PostgresConnection, logger: Logger) async throws {
            self.connection = connection
            self.logger = logger
            var types: [String: [String: ColumnType]] = [:]
            let rows = try await connection.query(
                "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()",
                logger: logger)
            for try await (table, column, dataType) in rows.decode((String, String, String).self) {
                let type: ColumnType
                switch dataType {
                case "bigint": type = .bigint
                case "double precision": type = .double
                case "text": type = .text
                default: continue  // Not a column of Replyflow's tables (schema_migrations.applied_at).
                }
                types[table, default: [:]][column] = type
            }
            columnTypes = types
        }

        /// Refuses a database holding any row in any Replyflow table.
        fileprivate func requireEmpty() async throws {
            var filled: [String] = []
            for table in ReplyflowTable.all {
                let query = PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(Self.quote(table.name)))")
                for try await holdsRows in try await connection.query(query, logger: logger).decode(Bool.self) where holdsRows {
                    filled.append(table.name)
                }
            }
            guard filled.isEmpty else {
                throw Failure(
                    description:
                        "the PostgreSQL database already holds Replyflow data (in \(filled.joined(separator: ", "))); migrate-to-postgres never merges: give it an empty database"
                )
            }
        }

        /// Rows a statement of `table` with `columnCount` columns takes at most.
        public static func rowsPerInsert(columnCount: Int) -> Int {
            max(1, min(rowsPerStatement, parametersPerStatement / max(1, columnCount)))
        }

        /// Inserts `rows` (values in `columns`' order) into `table`: a Replyflow table with
        /// every one of those columns, or the import fails naming what is missing.
        public func insert(table: String, columns: [String], rows: [[Value]]) async throws {
            guard ReplyflowTable.all.contains(where: { $0.name == table }), let types = columnTypes[table] else {
                throw Failure(description: "PostgreSQL has no Replyflow table \(table): the import knows no place for its rows")
            }
            let columnTypes = try columns.map { column in
                guard let type = types[column] else {
                    throw Failure(description: "PostgreSQL's table \(table) has no column \(column): add it to the PostgreSQL schema (a new migration)")
                }
                return type
            }
            let columnList = columns.map(Self.quote).joined(separator: ", ")
            let step = Self.rowsPerInsert(columnCount: columns.count)
            var start = 0
            while start < rows.count {
                let chunk = rows[start..<min(rows.count, start + step)]
                var bindings = PostgresBindings(capacity: chunk.count * columns.count)
                var tuples: [String] = []
                tuples.reserveCapacity(chunk.count)
                for row in chunk {
                    guard row.count == columns.count else {
                        throw Failure(description: "a row of \(table) has \(row.count) values for \(columns.count) columns")
                    }
                    var placeholders: [String] = []
                    for (index, value) in row.enumerated() {
                        try Self.bind(value, as: columnTypes[index], into: &bindings, at: "\(table).\(columns[index])")
                        placeholders.append("$\(bindings.count)")
                    }
                    tuples.append("(" + placeholders.joined(separator: ", ") + ")")
                }
                // Only identifiers of the schema and placeholders are in the text; values are bound.
                let sql = "INSERT INTO \(Self.quote(table)) (\(columnList)) VALUES " + tuples.joined(separator: ", ")
                _ = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).collect()
                start += step
            }
        }

        /// Moves every identity sequence past the ids copied: the next id is max(id)+1.
        fileprivate func resetIdentities() async throws {
            for table in ReplyflowTable.all where table.identity {
                let sql = """
                    SELECT setval(pg_get_serial_sequence($1, 'id'), coalesce(max(id), 0) + 1, false) FROM \(Self.quote(table.name))
                    """
                var bindings = PostgresBindings()
                bindings.append(table.name)
                _ = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).collect()
            }
        }

        /// Gives the copied Telegram updates their chats (a column SQLite does not keep,
        /// migration 6), so that each is handled in its chat's lane.
        fileprivate func fillInboxChats() async throws {
            _ = try await connection.query("UPDATE telegram_inbox SET chat_id = replyflow_update_chat(body)", logger: logger).collect()
        }

        /// Binds `value` as `type`, converting only where nothing can be lost.
        static func bind(_ value: Value, as type: ColumnType, into bindings: inout PostgresBindings, at place: String) throws {
            switch (type, value) {
            case (_, .null):
                bindings.appendNull()
            case (.bigint, .integer(let integer)):
                bindings.append(integer)
            case (.bigint, .real(let real)) where real.rounded() == real && abs(real) < 9.0e18:
                bindings.append(Int64(real))
            case (.double, .real(let real)):
                bindings.append(real)
            case (.double, .integer(let integer)):
                // SQLite keeps a whole REAL (a time written as 1767261600) as an integer.
                bindings.append(Double(integer))
            case (.text, .text(let text)):
                bindings.append(text)
            case (.text, .blob(let bytes)):
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw Failure(description: "\(place) holds bytes that are not UTF-8 text; PostgreSQL's column is TEXT")
                }
                bindings.append(text)
            default:
                throw Failure(description: "\(place) holds \(value.kind), which does not fit PostgreSQL's \(type) column; fix the row in SQLite first")
            }
        }

        /// A schema identifier in double quotes (the names are Replyflow's own; quoting keeps
        /// `trigger`, `key` and `text` plain column names).
        static func quote(_ identifier: String) -> String {
            "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
    }
}

extension PostgresImport.Value {
    /// What the value is, for errors (never the value itself: it may be a customer's).
    var kind: String {
        switch self {
        case .null: return "NULL"
        case .integer: return "an integer"
        case .real: return "a real number"
        case .text: return "text"
        case .blob: return "bytes"
        }
    }
}
