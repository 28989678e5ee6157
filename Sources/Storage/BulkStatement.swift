import Foundation
import GRDB
import GRDBSQLite

/// A prepared statement for bulk writes, bound through the SQLite C API.
///
/// `BufferedStateStore` writes tens of thousands of rows per flush; GRDB's
/// `execute(arguments:)` builds a `StatementArguments` array of `DatabaseValue`s for each
/// row, which costs more than SQLite's own work. Statements are still prepared by GRDB
/// and used only inside a GRDB database access, so GRDB's threading rules hold.
struct BulkStatement {
    private let statement: Statement
    private let connection: OpaquePointer?
    private var index: Int32 = 0

    /// SQLite copies bound text before `bind` returns (SQLITE_TRANSIENT).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// The statement comes from the connection's cache: preparing an insert into
    /// `messages` also compiles its trigger, which costs more than running it.
    init(_ db: Database, sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        connection = db.sqliteConnection
    }

    /// Binds the values in order and runs the statement once.
    mutating func run(_ values: [BulkValue]) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        index = 0
        for value in values {
            index += 1
            let code: Int32
            switch value {
            case .text(let text):
                if let text {
                    code = text.utf8.withContiguousStorageIfAvailable { bytes in
                        sqlite3_bind_text(handle, index, bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, Int32(bytes.count), Self.transient)
                    } ?? sqlite3_bind_text(handle, index, text, -1, Self.transient)
                } else {
                    code = sqlite3_bind_null(handle, index)
                }
            case .integer(let number):
                code = number.map { sqlite3_bind_int64(handle, index, $0) } ?? sqlite3_bind_null(handle, index)
            case .real(let number):
                code = sqlite3_bind_double(handle, index, number)
            }
            guard code == SQLITE_OK else { throw failure(code) }
        }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw failure(code) }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "SQLite error \(code)"
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }
}

/// A value bound by `BulkStatement`.
enum BulkValue {
    case text(String?)
    case integer(Int64?)
    case real(Double)

    static func bool(_ value: Bool) -> BulkValue { .integer(value ? 1 : 0) }
    static func date(_ value: Date) -> BulkValue { .real(value.timeIntervalSince1970) }
}
