import GRDB

/// Migration v14: who wrote each message, and the inbox's state per conversation.
///
/// - `messages.author`: `customer`, `assistant`, `flow` or `staff` (`StoredMessage.Author`),
///   written with the message. Messages stored before are classified from what they say:
///   incoming ones are the customer's, a flow's are the flow's (an AI answer stored before
///   cannot be told from a canned one: it stays `flow`), the rest were staff's.
/// - `conversations` gains, kept by the trigger every writer of messages goes through
///   (so the run's own commit keeps them, and replay's bulk writer leaves the same rows):
///   `last_message_id` (the preview), `last_customer_message_id` (unread state),
///   `waiting_since` (the customer's first message not yet answered by a person: set by a
///   customer message when empty, cleared only by a staff message, never by the AI's or a
///   flow's), and `read_message_id` (the newest message staff have seen in the panel,
///   team-wide; moved only by `InboxQueries.markRead`).
///
/// Indexes: only those the inbox's reads need. On `conversations` two partial ones: Waiting chats by how long
/// they waited (the longest-waiting sort and the waiting filter read only waiting chats);
/// unread chats by activity (an unread-only page and the unread count read only unread
/// chats). On `run_traces`, by user, for a chat's recent runs. No index on `messages`.
/// The commit cost was measured (`docs/benchmarks.md`).
enum InboxSchema {
    static func migrate(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE messages ADD COLUMN author TEXT NOT NULL DEFAULT 'customer';
                UPDATE messages SET author = CASE WHEN flow IS NULL THEN 'staff' ELSE 'flow' END WHERE direction = 'support';

                ALTER TABLE conversations ADD COLUMN last_message_id INTEGER;
                ALTER TABLE conversations ADD COLUMN last_customer_message_id INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE conversations ADD COLUMN waiting_since REAL;
                ALTER TABLE conversations ADD COLUMN read_message_id INTEGER NOT NULL DEFAULT 0;

                UPDATE conversations SET
                    last_message_id = b.last_id,
                    last_customer_message_id = b.last_customer,
                    waiting_since = CASE WHEN b.last_customer > b.last_staff THEN (
                        SELECT min(m.created_at) FROM messages m
                        WHERE m.user_id = b.user_id AND m.source = b.source AND m.author = 'customer' AND m.id > b.last_staff) END
                FROM (
                    SELECT source, user_id, max(id) AS last_id,
                        coalesce(max(CASE WHEN author = 'customer' THEN id END), 0) AS last_customer,
                        coalesce(max(CASE WHEN author = 'staff' THEN id END), 0) AS last_staff
                    FROM messages GROUP BY source, user_id
                ) AS b
                WHERE b.source = conversations.source AND b.user_id = conversations.platform_chat_id;
                -- The panel has shown nothing yet: what came before it counts as seen, so an
                -- upgrade does not open on every chat unread. Waiting chats stay findable by
                -- the waiting filter and sort.
                UPDATE conversations SET read_message_id = coalesce(last_message_id, 0);

                DROP TRIGGER conversations_follow_messages;
                \(followMessagesTrigger)

                CREATE INDEX conversations_waiting ON conversations (waiting_since, id) WHERE waiting_since IS NOT NULL;
                CREATE INDEX conversations_unread ON conversations (updated_at DESC, id DESC)
                    WHERE last_customer_message_id > read_message_id;
                -- "Why did the bot answer?" reads a chat's latest traces; without this it
                -- scanned every trace. One more index entry per trace row of a commit.
                CREATE INDEX run_traces_by_user ON run_traces (user_id, id);
                """)
    }

    /// v3's trigger (one row per chat, moved to the top on every message), now also keeping
    /// the inbox's columns. Message ids only grow, but `max` keeps a row right if a bulk
    /// writer ever inserts out of order.
    ///
    /// `waiting_since` is set and cleared by statements of their own that write only on a
    /// transition (a customer writing to a chat nobody waited in, staff answering one that
    /// waited): SQLite rewrites a partial index's entry whenever an UPDATE assigns a column
    /// it reads, so assigning it in the upsert moved the waiting chat's entry, an extra page
    /// in every commit of a customer message.
    static let followMessagesTrigger = """
        CREATE TRIGGER conversations_follow_messages AFTER INSERT ON messages BEGIN
            INSERT INTO conversations (source, platform_chat_id, created_at, updated_at, last_message_id, last_customer_message_id, waiting_since)
            VALUES (
                NEW.source, NEW.user_id, NEW.created_at, NEW.created_at, NEW.id,
                CASE WHEN NEW.author = 'customer' THEN NEW.id ELSE 0 END,
                CASE WHEN NEW.author = 'customer' THEN NEW.created_at END)
            ON CONFLICT (source, platform_chat_id) DO UPDATE SET
                updated_at = max(updated_at, excluded.updated_at),
                last_message_id = max(coalesce(last_message_id, 0), excluded.last_message_id),
                last_customer_message_id = max(last_customer_message_id, excluded.last_customer_message_id);
            UPDATE conversations SET waiting_since = NEW.created_at
                WHERE NEW.author = 'customer' AND source = NEW.source AND platform_chat_id = NEW.user_id AND waiting_since IS NULL;
            UPDATE conversations SET waiting_since = NULL
                WHERE NEW.author = 'staff' AND source = NEW.source AND platform_chat_id = NEW.user_id AND waiting_since IS NOT NULL;
        END;
        """
}
