/// Migration 3: an index of the pending outbox by lane, for instances that claim lanes
/// (`PostgresOutboxLanes`): the lanes with work due and each lane's head are range reads
/// on it, however many delivered items the table keeps.
///
/// Shipped: never edit it; add a migration.
enum SchemaV3 {
    static let migration = PostgresMigration(
        version: 3, name: "pending outbox by lane",
        statements: [
            "CREATE INDEX outbox_pending_lanes ON outbox (lane, id) WHERE status = 'pending'"
        ])
}
