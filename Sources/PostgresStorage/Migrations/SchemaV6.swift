/// Migration 6: the Telegram inbox by chat. Each pending update names its chat, so that
/// every instance can work one chat's updates as a lane (`PostgresTelegramChatLanes`):
/// claimed by one instance at a time, read in update order. In webhook mode two updates of
/// a chat may reach two instances; whichever holds the chat's lane handles both, in order.
///
/// `replyflow_update_chat(body)` reads `message.chat.id` from an update's JSON, 0 for an
/// update without one (or a body that is not JSON): the same chat the dispatcher queues it
/// under. It fills the rows kept before this migration (and those `migrate-to-postgres`
/// copies); rows added after it come with their chat.
///
/// Shipped: never edit it; add a migration.
enum SchemaV6 {
    static let migration = PostgresMigration(
        version: 6, name: "telegram inbox by chat",
        statements: [
            """
            CREATE FUNCTION replyflow_update_chat(body text) RETURNS bigint
            LANGUAGE plpgsql IMMUTABLE AS $$
            BEGIN
                RETURN coalesce((body::jsonb #>> '{message,chat,id}')::bigint, 0);
            EXCEPTION WHEN others THEN
                RETURN 0;
            END
            $$
            """,
            "ALTER TABLE telegram_inbox ADD COLUMN chat_id bigint NOT NULL DEFAULT 0",
            "UPDATE telegram_inbox SET chat_id = replyflow_update_chat(body)",
            "CREATE INDEX telegram_inbox_pending_by_chat ON telegram_inbox (chat_id, update_id) WHERE status = 'pending'",
        ])
}
