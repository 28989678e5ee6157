/// What erasure and retention do with each table of the schema, so that no table is
/// overlooked: a migration that adds a table must add it here, or every erasure fails
/// (see `ReplyflowDatabase.eraseCustomer`) and `ErasureTests` fails with its name.
public enum CustomerTables {
    /// How a table is treated when a customer is erased.
    enum Handling: Equatable {
        /// Rows of the customer are deleted (the text says how they are found).
        case erased(String)
        /// Kept: the reason says why it holds nothing of the customer.
        case kept(String)
    }

    /// Every table of the schema, by name.
    static let considered: [String: Handling] = [
        "users": .erased("the row of the customer's id (name, counts); keyed by id alone, so it is shared by the id on every channel"),
        "chats": .erased("the chat's auto mode (source and id)"),
        "messages": .erased("every message of the chat, either way (source and id)"),
        "markers": .erased("greeted-today, once-per-user and similar markers of the id"),
        "group_forwards": .erased("links from staff-group messages back to the chat (source and id)"),
        "experiment_assignments": .erased("experiment variants of the id"),
        "experiment_exposures": .erased("experiment exposures of the id"),
        "experiment_conversions": .erased("experiment conversions of the id"),
        "run_traces": .erased("flow-run traces of the id"),
        "devices": .erased("FCM tokens registered by the app for the id (app customers only)"),
        "outbox": .erased("deliveries to or about the chat, whatever their state (lane, payload or message)"),
        "forum_topics": .erased("the customer's staff-group forum topic"),
        "conversations": .erased("the inbox's row of the chat (its read model); the chat count goes down by one"),
        "conversation_counts": .erased("not a row of the customer: the chat's source count is lowered"),
        "assistant_memory": .erased("the AI's memory of the chat"),
        "telegram_inbox": .erased("Telegram updates of the private chat not handled yet (Telegram customers only)"),
        "audit_log": .erased("kept, but entries naming the chat have its id replaced by [erased]"),
        "telegram_updates": .kept("Telegram update ids already handled: numbers with nothing of anyone"),
        "brevo_messages": .kept("Brevo message ids already handled or sent: ids with nothing of anyone"),
        "staff_accounts": .kept("staff, not customers"),
        "staff_sessions": .kept("staff, not customers"),
        "flow_versions": .kept("the flow files' history: flows, not customers"),
    ]

    /// Whether erasure knows what to do with the table.
    public static func isConsidered(_ name: String) -> Bool {
        considered[name] != nil
    }

    /// Tables of SQLite and GRDB themselves, not of the schema.
    static func isInternal(_ name: String) -> Bool {
        name.hasPrefix("sqlite_") || name == "grdb_migrations"
    }
}
