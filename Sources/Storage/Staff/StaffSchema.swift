import GRDB

/// The admin panel's tables (migration v13): accounts, the sessions of signed-in browsers,
/// and the audit log.
enum StaffSchema {
    static func create(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE staff_accounts (
                    id INTEGER PRIMARY KEY,
                    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    role TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    disabled INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );
                -- A session is found by the SHA-256 of its cookie: a copy of the database
                -- (a backup) does not hand out working cookies.
                CREATE TABLE staff_sessions (
                    id_hash TEXT PRIMARY KEY NOT NULL,
                    account_id INTEGER NOT NULL REFERENCES staff_accounts (id) ON DELETE CASCADE,
                    csrf_token TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    last_seen_at REAL NOT NULL,
                    address TEXT,
                    user_agent TEXT
                ) WITHOUT ROWID;
                CREATE INDEX staff_sessions_by_account ON staff_sessions (account_id);
                CREATE TABLE audit_log (
                    id INTEGER PRIMARY KEY,
                    at REAL NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    address TEXT
                );
                """)
    }
}
