import PostgresStorage
import Storage

/// What the admin panel reads and writes, on the server's database: SQLite's file, or the
/// PostgreSQL database several instances share (the same pages either way).
struct AdminStores: Sendable {
    var staff: any StaffStore
    var versions: any FlowVersionStore
    var inbox: any InboxReading
    var reads: any PanelReads
    var erasing: any CustomerErasing

    static func sqlite(_ database: ReplyflowDatabase) -> AdminStores {
        AdminStores(staff: database, versions: database, inbox: InboxQueries(database: database), reads: database, erasing: database)
    }

    static func postgres(_ database: ReplyflowPostgres) -> AdminStores {
        AdminStores(
            staff: PostgresStaffStore(database), versions: PostgresFlowVersions(database), inbox: PostgresInboxQueries(database), reads: database,
            erasing: PostgresCustomerErasure(database))
    }
}
