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
    /// forwards of the outbox, a custom write) first writes what is held back. Values are
    /// bound straight from the writes: copying them into arrays per row was a fifth of
    /// the writer's time.
    struct Statements {
        let db: Database
        private var prepared = [BulkStatement?](repeating: nil, count: StateStatement.allCases.count)
        private var multiRow = [BulkStatement?](repeating: nil, count: StateStatement.allCases.count)
        /// The writes held back, per statement.
        private var held = [[PendingWrite]](repeating: [], count: StateStatement.allCases.count)

        static let rowsPerInsert = 32

        init(_ db: Database) { self.db = db }

        /// Runs (or holds back) a write that is one row of its statement.
        mutating func run(_ write: PendingWrite) throws {
            guard let statement = write.statement else { return try write.execute(&self) }
            if statement.isMultiRow {
                held[statement.rawValue].append(write)
                if held[statement.rawValue].count == Self.rowsPerInsert { try writeHeld(statement) }
                return
            }
            try writeHeld(sharingTableWith: statement)
            try prepare(statement).run { write.bind(&$0) }
        }

        /// Runs `statement` once with the values `bind` gives.
        mutating func run(_ statement: StateStatement, _ bind: (inout BulkBinder) -> Void) throws {
            try writeHeld(sharingTableWith: statement)
            try prepare(statement).run(bind)
        }

        /// Writes every row held back (before a write that may touch their tables, and at
        /// the end of the batch).
        mutating func writeHeldRows() throws {
            for statement in StateStatement.allCases where !held[statement.rawValue].isEmpty { try writeHeld(statement) }
        }

        private mutating func writeHeld(sharingTableWith statement: StateStatement) throws {
            for other in StateStatement.allCases where other.isMultiRow && other.table == statement.table {
                try writeHeld(other)
            }
        }

        private mutating func writeHeld(_ statement: StateStatement) throws {
            let writes = held[statement.rawValue]
            guard !writes.isEmpty else { return }
            held[statement.rawValue] = []
            held[statement.rawValue].reserveCapacity(Self.rowsPerInsert)
            if writes.count == Self.rowsPerInsert {
                if multiRow[statement.rawValue] == nil {
                    multiRow[statement.rawValue] = try BulkStatement(db, sql: statement.sql(rows: Self.rowsPerInsert))
                }
                try multiRow[statement.rawValue]!.run { row in
                    for write in writes { write.bind(&row) }
                }
            } else {
                // A part batch: row by row, rather than preparing a statement per size.
                let single = try prepare(statement)
                for write in writes { try single.run { write.bind(&$0) } }
            }
        }

        /// The statement's one-row form, prepared once per batch. `BulkStatement` is a
        /// handle: the copy returned runs the same prepared statement.
        private mutating func prepare(_ statement: StateStatement) throws -> BulkStatement {
            if let ready = prepared[statement.rawValue] { return ready }
            let made = try BulkStatement(db, sql: statement.sql)
            prepared[statement.rawValue] = made
            return made
        }
    }
}
