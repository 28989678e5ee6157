import GRDB

extension PendingWrite {
    /// The batch's prepared statements, prepared once per flush rather than once per row,
    /// and found by position: hashing the SQL text of every row was a tenth of the
    /// writer's time in a replay.
    ///
    /// Plain inserts (messages, group forwards, markers) are held back and written
    /// `rowsPerInsert` rows per statement: SQLite's work per statement (reset, step,
    /// opening the table) was about a fifth of an insert. Rows of one table keep their
    /// order, and every write to a table that does not go through its batch (the chat
    /// forwards of the outbox, a custom write) first writes what is held back.
    struct Statements {
        let db: Database
        private var prepared = [BulkStatement?](repeating: nil, count: StateStatement.allCases.count)
        private var multiRow = [BulkStatement?](repeating: nil, count: StateStatement.allCases.count)
        /// Values of the rows held back, per statement, row after row.
        private var held = [[BulkValue]](repeating: [], count: StateStatement.allCases.count)

        static let rowsPerInsert = 32

        init(_ db: Database) { self.db = db }

        mutating func run(_ statement: StateStatement, _ values: BulkValue...) throws {
            if statement.isMultiRow {
                held[statement.rawValue].append(contentsOf: values)
                if held[statement.rawValue].count == values.count * Self.rowsPerInsert { try writeHeld(statement, columns: values.count) }
                return
            }
            for other in StateStatement.allCases where other.isMultiRow && other.table == statement.table {
                try writeHeld(other, columns: nil)
            }
            try runOne(statement, values)
        }

        /// Writes every row held back (before a write that may touch their tables, and at
        /// the end of the batch).
        mutating func writeHeldRows() throws {
            for statement in StateStatement.allCases where !held[statement.rawValue].isEmpty { try writeHeld(statement, columns: nil) }
        }

        /// Writes the rows held for `statement`; `columns` is its number of values per row
        /// (nil: counted from its SQL).
        private mutating func writeHeld(_ statement: StateStatement, columns: Int?) throws {
            let values = held[statement.rawValue]
            guard !values.isEmpty else { return }
            held[statement.rawValue].removeAll(keepingCapacity: true)
            let columns = columns ?? statement.sql.filter { $0 == "?" }.count
            if values.count == columns * Self.rowsPerInsert {
                if multiRow[statement.rawValue] == nil {
                    multiRow[statement.rawValue] = try BulkStatement(db, sql: statement.sql(rows: Self.rowsPerInsert))
                }
                try multiRow[statement.rawValue]!.run(values)
            } else {
                // A part batch: row by row, rather than preparing a statement per size.
                var start = 0
                while start < values.count {
                    try runOne(statement, Array(values[start..<start + columns]))
                    start += columns
                }
            }
        }

        private mutating func runOne(_ statement: StateStatement, _ values: [BulkValue]) throws {
            if prepared[statement.rawValue] == nil { prepared[statement.rawValue] = try BulkStatement(db, sql: statement.sql) }
            try prepared[statement.rawValue]!.run(values)
        }
    }
}
