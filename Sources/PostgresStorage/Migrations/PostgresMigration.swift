/// One step of the PostgreSQL schema: SQL statements applied together, in one transaction,
/// and recorded in `schema_migrations` under `version`.
///
/// Statements are separate strings because the extended query protocol (bound parameters,
/// which every other query uses) runs one statement per query.
public struct PostgresMigration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var statements: [String]

    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// The PostgreSQL schema's migrations, oldest first.
///
/// Append-only: once a migration has shipped it is never edited (a database that applied
/// it would silently differ from a new one); a change is a new migration with the next
/// version. `PostgresMigrator` refuses a database whose recorded name for a version differs.
public enum PostgresMigrations {
    public static let all: [PostgresMigration] = [
        SchemaV1.migration,
        SchemaV2.migration,
        SchemaV3.migration,
        SchemaV4.migration,
        SchemaV5.migration,
        SchemaV6.migration,
    ]
}
