/// Migration 4: `live_events`, what the runs of every instance show live (`RunRecord.live`),
/// for each instance to read back in commit order and show its own `/api/stream` clients
/// and socket.io rooms (`PostgresLiveFeed`). The stream's event ids are positions given
/// after the commit (migration 5). A `message` entry names its message; a `chat` entry its
/// chat; a `room` entry carries the socket.io payload. The housekeeping leader trims old
/// entries by `created_at`.
///
/// Shipped: never edit it; add a migration.
enum SchemaV4 {
    static let migration = PostgresMigration(
        version: 4, name: "live events",
        statements: [
            """
            CREATE TABLE live_events (
                id bigserial PRIMARY KEY,
                kind text NOT NULL CHECK (kind IN ('message', 'chat', 'room')),
                source text,
                chat_id text NOT NULL,
                message_id bigint,
                payload text,
                created_at double precision NOT NULL DEFAULT extract(epoch FROM now())
            )
            """,
            "CREATE INDEX live_events_created ON live_events (created_at)",
        ])
}
