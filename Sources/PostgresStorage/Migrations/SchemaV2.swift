/// Migration 2: SQLite's two triggers as PL/pgSQL, so every inserted message keeps its
/// conversation (activity, last message, unread and waiting state: `InboxSchema`'s
/// `conversations_follow_messages`) and every new conversation its source's count
/// (`conversation_counts_follow`), whichever instance wrote the message.
///
/// The waiting state is one upsert here, not SQLite's three statements: PostgreSQL has no
/// reason to avoid assigning the column (SQLite rewrote a partial index entry on every
/// assignment). A customer's message starts a wait nobody answered yet, staff's ends it,
/// the bot's leaves it.
///
/// `replyflow migrate-to-postgres` copies `conversations` and `conversation_counts` as
/// they are: it sets `replyflow.importing` for its transaction, and the triggers stand aside.
///
/// Shipped: never edit it; add a migration.
enum SchemaV2 {
    static let migration = PostgresMigration(
        version: 2, name: "conversations follow messages",
        statements: [
            """
            CREATE FUNCTION conversations_follow_messages() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF current_setting('replyflow.importing', true) = 'on' THEN
                    RETURN NULL;
                END IF;
                INSERT INTO conversations AS c (source, platform_chat_id, created_at, updated_at, last_message_id, last_customer_message_id, waiting_since)
                VALUES (
                    NEW.source, NEW.user_id, NEW.created_at, NEW.created_at, NEW.id,
                    CASE WHEN NEW.author = 'customer' THEN NEW.id ELSE 0 END,
                    CASE WHEN NEW.author = 'customer' THEN NEW.created_at END)
                ON CONFLICT (source, platform_chat_id) DO UPDATE SET
                    updated_at = greatest(c.updated_at, EXCLUDED.updated_at),
                    last_message_id = greatest(coalesce(c.last_message_id, 0), EXCLUDED.last_message_id),
                    last_customer_message_id = greatest(c.last_customer_message_id, EXCLUDED.last_customer_message_id),
                    waiting_since = CASE NEW.author
                        WHEN 'customer' THEN coalesce(c.waiting_since, NEW.created_at)
                        WHEN 'staff' THEN NULL
                        ELSE c.waiting_since END;
                RETURN NULL;
            END
            $$
            """,
            """
            CREATE TRIGGER conversations_follow_messages AFTER INSERT ON messages
                FOR EACH ROW EXECUTE FUNCTION conversations_follow_messages()
            """,
            """
            CREATE FUNCTION conversation_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF current_setting('replyflow.importing', true) = 'on' THEN
                    RETURN NULL;
                END IF;
                INSERT INTO conversation_counts AS n (source, total) VALUES (NEW.source, 1)
                ON CONFLICT (source) DO UPDATE SET total = n.total + 1;
                RETURN NULL;
            END
            $$
            """,
            """
            CREATE TRIGGER conversation_counts_follow AFTER INSERT ON conversations
                FOR EACH ROW EXECUTE FUNCTION conversation_counts_follow()
            """,
        ])
}
