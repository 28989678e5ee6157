/// The statements that write the runtime's state, shared by per-run commits and the bulk writer.
enum StateSQL {
    /// A user's row after one or more notes: first seen `?3` (kept if the row exists), last
    /// seen `?4`, `?5` more inbound messages. One note passes its time as both.
    static let upsertUser = """
        INSERT INTO users (id, name, first_seen_at, last_seen_at, inbound_count) VALUES (?1, ?2, ?3, ?4, ?5)
        ON CONFLICT (id) DO UPDATE SET name = coalesce(?2, name), last_seen_at = ?4, inbound_count = inbound_count + ?5
        """
    static let upsertChat = """
        INSERT INTO chats (source, user_id, auto_mode, updated_at) VALUES (?1, ?2, ?3, ?4)
        ON CONFLICT (source, user_id) DO UPDATE SET auto_mode = ?3, updated_at = ?4
        """
    static let insertMarker = "INSERT OR IGNORE INTO markers (user_id, key, period, created_at) VALUES (?, ?, ?, ?)"
    static let insertMessage =
        "INSERT INTO messages (id, user_id, source, direction, text, media, created_at, flow, photo_url, platform_message_id, sender_name, author, transcript, audio_location) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    static let insertOutbox =
        "INSERT INTO outbox (kind, lane, payload, status, attempts, next_attempt_at, created_at, updated_at, message_id) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5, ?5, ?6)"
    static let updateOutboxStatus = "UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?"
    static let insertChatForward = "INSERT OR REPLACE INTO group_forwards (group_message_id, user_id, created_at, source) VALUES (?, ?, ?, ?)"
    static let insertForward = "INSERT OR REPLACE INTO group_forwards (group_message_id, user_id, created_at) VALUES (?, ?, ?)"
    static let insertAssignment = "INSERT OR REPLACE INTO experiment_assignments (experiment, user_id, variant, assigned_at) VALUES (?, ?, ?, ?)"
    static let upsertExposure = """
        INSERT INTO experiment_exposures (experiment, user_id, variant, first_at, exposure_count) VALUES (?1, ?2, ?3, ?4, 1)
        ON CONFLICT (experiment, user_id) DO UPDATE SET exposure_count = exposure_count + 1
        """
    static let insertConversion = "INSERT OR IGNORE INTO experiment_conversions (experiment, user_id, variant, converted_at) VALUES (?, ?, ?, ?)"
    static let insertTrace =
        "INSERT INTO run_traces (at, event_kind, trigger, user_id, note, flow, result, reason, variant, actions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

    static let selectInboundCount = "SELECT inbound_count FROM users WHERE id = ?"
    static let selectAutoMode = "SELECT auto_mode FROM chats WHERE source = ? AND user_id = ?"
    static let selectMarker = "SELECT 1 FROM markers WHERE user_id = ? AND key = ? AND period = ?"
    static let selectForward = "SELECT user_id FROM group_forwards WHERE group_message_id = ?"
    static let selectAssignment = "SELECT variant FROM experiment_assignments WHERE experiment = ? AND user_id = ?"
    static let selectExposure = "SELECT variant, first_at FROM experiment_exposures WHERE experiment = ? AND user_id = ?"
    static let selectConversion = "SELECT 1 FROM experiment_conversions WHERE experiment = ? AND user_id = ?"
}

/// The statements `BufferedStateStore` writes with, by number.
enum StateStatement: Int, CaseIterable {
    case upsertUser, upsertChat, insertMarker, insertMessage, updateOutboxStatus
    case insertChatForward, insertForward, insertAssignment, upsertExposure, insertConversion, insertTrace

    var sql: String {
        switch self {
        case .upsertUser: StateSQL.upsertUser
        case .upsertChat: StateSQL.upsertChat
        case .insertMarker: StateSQL.insertMarker
        case .insertMessage: StateSQL.insertMessage
        case .updateOutboxStatus: StateSQL.updateOutboxStatus
        case .insertChatForward: StateSQL.insertChatForward
        case .insertForward: StateSQL.insertForward
        case .insertAssignment: StateSQL.insertAssignment
        case .upsertExposure: StateSQL.upsertExposure
        case .insertConversion: StateSQL.insertConversion
        case .insertTrace: StateSQL.insertTrace
        }
    }

    /// The table the statement writes.
    var table: String {
        switch self {
        case .upsertUser: "users"
        case .upsertChat: "chats"
        case .insertMarker: "markers"
        case .insertMessage: "messages"
        case .updateOutboxStatus: "outbox"
        case .insertChatForward, .insertForward: "group_forwards"
        case .insertAssignment: "experiment_assignments"
        case .upsertExposure: "experiment_exposures"
        case .insertConversion: "experiment_conversions"
        case .insertTrace: "run_traces"
        }
    }

    /// Plain inserts that a batch writes several rows per statement (see
    /// `PendingWrite.Statements`): the bulk of a replay's rows.
    var isMultiRow: Bool {
        switch self {
        case .insertMessage, .insertForward, .insertMarker: true
        default: false
        }
    }

    /// The statement with `rows` rows of values, for a statement ending in one `VALUES (...)`.
    func sql(rows: Int) -> String {
        let sql = self.sql
        guard let values = sql.range(of: "VALUES ", options: .backwards) else { return sql }
        let row = sql[values.upperBound...]
        return sql + String(repeating: ", " + row, count: rows - 1)
    }
}
