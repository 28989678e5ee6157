import GRDB

/// The flow studio's history (migration v17): every save, restore and delete of a flow
/// file made in the admin panel, and each change made to a file outside it, with who, when,
/// a comment, the content and its hash.
enum FlowVersionSchema {
    static func create(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE flow_versions (
                    id INTEGER PRIMARY KEY,
                    file TEXT NOT NULL,
                    change TEXT NOT NULL,
                    content TEXT,
                    content_hash TEXT,
                    comment TEXT NOT NULL DEFAULT '',
                    author TEXT NOT NULL,
                    created_at REAL NOT NULL
                );
                CREATE INDEX flow_versions_by_file ON flow_versions (file, id);
                """)
    }
}
