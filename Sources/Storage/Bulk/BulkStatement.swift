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

    /// The statement comes from the connection's cache: preparing an insert into
    /// `messages` also compiles its trigger, which costs more than running it.
    init(_ db: Database, sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        connection = db.sqliteConnection
    }

    /// Runs the statement once with the parameters `bind` gives, in order: values are bound
    /// straight from the caller's fields, with no array of values per row.
    func run(_ bind: (inout BulkBinder) -> Void) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        var binder = BulkBinder(handle: handle)
        bind(&binder)
        guard binder.code == SQLITE_OK else { throw failure(binder.code) }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw failure(code) }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "SQLite error \(code)"
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }
}

/// Binds a statement's parameters one after another; the first failure is kept.
struct BulkBinder {
    fileprivate let handle: OpaquePointer?
    private var index: Int32 = 0
    fileprivate private(set) var code = SQLITE_OK

    /// SQLite copies bound text before `bind` returns (SQLITE_TRANSIENT).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    fileprivate init(handle: OpaquePointer?) { self.handle = handle }

    mutating func text(_ text: String?) {
        index += 1
        guard code == SQLITE_OK else { return }
        guard let text else {
            code = sqlite3_bind_null(handle, index)
            return
        }
        code =
            text.utf8.withContiguousStorageIfAvailable { bytes in
                sqlite3_bind_text(
                    handle, index, bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, Int32(bytes.count), Self.transient)
            } ?? sqlite3_bind_text(handle, index, text, -1, Self.transient)
    }

    mutating func integer(_ number: Int64?) {
        index += 1
        guard code == SQLITE_OK else { return }
        code = number.map { sqlite3_bind_int64(handle, index, $0) } ?? sqlite3_bind_null(handle, index)
    }

    mutating func real(_ number: Double) {
        index += 1
        guard code == SQLITE_OK else { return }
        code = sqlite3_bind_double(handle, index, number)
    }

    mutating func date(_ date: Date) { real(date.timeIntervalSince1970) }
    mutating func bool(_ value: Bool) { integer(value ? 1 : 0) }
}
