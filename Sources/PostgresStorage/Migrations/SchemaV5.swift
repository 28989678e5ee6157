/// Migration 5: live events numbered in commit order after their commit, not under a lock
/// held through it. A run's commit writes its entries without a `position`; a numbering
/// pass (one at a time, `PostgresLiveFeed.number`) gives every committed entry without
/// one the next positions, in id order, from `live_events_numbering.top`. A reader follows
/// positions: an entry committed later is numbered later, so a reader that has read up to
/// a position never sees a smaller one appear. `top` only grows (entries are trimmed, the
/// positions they had are never given again).
///
/// Shipped: never edit it; add a migration.
enum SchemaV5 {
    static let migration = PostgresMigration(
        version: 5, name: "live events numbered after commit",
        statements: [
            "ALTER TABLE live_events ADD COLUMN position bigint",
            "CREATE UNIQUE INDEX live_events_by_position ON live_events (position)",
            "CREATE INDEX live_events_unnumbered ON live_events (id) WHERE position IS NULL",
            "CREATE TABLE live_events_numbering (top bigint NOT NULL)",
            // Entries of migration 4's scheme were numbered by id, in commit order already.
            "UPDATE live_events SET position = id",
            "INSERT INTO live_events_numbering (top) SELECT coalesce(max(id), 0) FROM live_events",
        ])
}
