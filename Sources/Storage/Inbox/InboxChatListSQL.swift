/// The chat list's query (`InboxReading.chats`), written once for both databases: the same
/// filters, search, keyset page and columns on SQLite (`InboxQueries`) and PostgreSQL
/// (`PostgresInboxQueries`), which differ only in how values are bound and in what each
/// planner needs to pick the right index.
///
/// Columns: conversation id, source, platform chat id, the user's name, updated at, auto
/// mode, unread, waiting since, then the newest message's id, text (cut to
/// `InboxPreview.maxTextLength`), media, author and time.
public struct InboxChatListSQL: Sendable {
    /// Which database the text is for.
    public enum Dialect: Sendable {
        /// `?` placeholders, `LIKE` (folds ASCII letters only).
        case sqlite
        /// `$1…` placeholders, `ILIKE` (folds every alphabet).
        case postgres
    }

    /// A bound value, in placeholder order.
    public enum Argument: Sendable, Equatable {
        case text(String)
        case integer(Int64)
        case real(Double)
    }

    public private(set) var sql = ""
    public private(set) var arguments: [Argument] = []
    /// The page's size (the query asks for one chat more, to know whether a next page exists).
    public let limit: Int

    /// Throws `InboxCursorError` for a cursor of another sort.
    public init(_ query: InboxQuery, searchScanLimit: Int, dialect: Dialect) throws {
        if let after = query.after, after.sort != query.sort { throw InboxCursorError(text: after.encoded, expectedSort: query.sort) }
        limit = min(max(query.limit, 1), InboxQuery.maxLimit)
        // PostgreSQL's LIKE escapes with `\` by default; SQLite's has no escape unless told.
        let like = dialect == .sqlite ? "LIKE" : "ILIKE"
        let escape = dialect == .sqlite ? " ESCAPE '\\'" : ""
        // Placeholders are taken in the order they appear in the text (SQLite's `?` are
        // positional): the search's set first, then the conditions, then the limit.
        var matching = ""
        var conditions: [String] = []
        let search = query.search?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if !search.isEmpty {
            // The matching chats are found first, once, as a set: by the customer's name, by
            // platform chat id, and by the text of the newest `searchScanLimit` messages.
            let pattern = "%" + Self.escapeLike(search) + "%"
            matching = """
                WITH matching(id) AS (
                    SELECT c.id FROM users u JOIN conversations c ON c.platform_chat_id = u.id WHERE u.name \(like) \(bind(.text(pattern), dialect))\(escape)
                    UNION SELECT id FROM conversations WHERE platform_chat_id \(like) \(bind(.text(pattern), dialect))\(escape)
                    UNION SELECT c.id FROM (
                        SELECT DISTINCT source, user_id FROM (
                            SELECT source, user_id, text FROM messages ORDER BY id DESC LIMIT \(bind(.integer(Int64(searchScanLimit)), dialect))
                        ) recent
                        WHERE text \(like) \(bind(.text(pattern), dialect))\(escape)
                    ) t JOIN conversations c ON c.source = t.source AND c.platform_chat_id = t.user_id
                )
                """
            conditions.append("c.id IN (SELECT id FROM matching)")
        }
        if let source = query.source {
            // With unread only, the partial index of unread chats (a few) beats the index of
            // the source's chats (a third of all): SQLite's `+` keeps it from picking the
            // latter (14 ms for a filtered page of 100,000 chats, against under 1 ms).
            let column = dialect == .sqlite && query.unreadOnly && query.sort == .newestActivity ? "+c.source" : "c.source"
            conditions.append("\(column) = \(bind(.text(source.rawValue), dialect))")
        }
        if let autoMode = query.autoMode {
            let fallback = bind(.integer(query.autoModeDefault ? 1 : 0), dialect)
            conditions.append("coalesce(ch.auto_mode, \(fallback)) = \(bind(.integer(autoMode ? 1 : 0), dialect))")
        }
        if query.waitingOnly || query.sort == .longestWaiting { conditions.append("c.waiting_since IS NOT NULL") }
        // Written as the partial index's own condition, so the planner reads that index.
        if query.unreadOnly { conditions.append("c.last_customer_message_id > c.read_message_id") }
        let order: String
        switch query.sort {
        case .newestActivity:
            if let after = query.after {
                conditions.append("(c.updated_at, c.id) < (\(bind(.real(after.key), dialect)), \(bind(.integer(after.id), dialect)))")
            }
            order = "c.updated_at DESC, c.id DESC"
        case .longestWaiting:
            if let after = query.after {
                conditions.append("(c.waiting_since, c.id) > (\(bind(.real(after.key), dialect)), \(bind(.integer(after.id), dialect)))")
            }
            order = "c.waiting_since ASC, c.id ASC"
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        sql = """
            \(matching)
            SELECT c.id, c.source, c.platform_chat_id, u.name, c.updated_at, ch.auto_mode,
                c.last_customer_message_id > c.read_message_id, c.waiting_since,
                m.id, substr(m.text, 1, \(InboxPreview.maxTextLength)), m.media, m.author, m.created_at
            FROM conversations c
            LEFT JOIN users u ON u.id = c.platform_chat_id
            LEFT JOIN chats ch ON ch.source = c.source AND ch.user_id = c.platform_chat_id
            LEFT JOIN messages m ON m.id = c.last_message_id
            \(filter)
            ORDER BY \(order)
            LIMIT \(bind(.integer(Int64(limit + 1)), dialect))
            """
    }

    /// Adds `argument` and returns its placeholder.
    private mutating func bind(_ argument: Argument, _ dialect: Dialect) -> String {
        arguments.append(argument)
        return dialect == .sqlite ? "?" : "$\(arguments.count)"
    }

    /// `text` for a LIKE pattern that matches it literally (`%`, `_` and `\` escaped).
    public static func escapeLike(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
