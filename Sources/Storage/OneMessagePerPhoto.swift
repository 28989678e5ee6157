import Foundation
import GRDB

/// Migration v11: messages stored with several photos become one message per photo.
///
/// Until v11 a message with several photos was one row carrying only the first photo's
/// address, so the history, socket.io and the `/api` showed one photo and the rest sat in
/// the uploads folder unseen. Since then the runtime stores each further photo as a
/// message of its own right after the first, with no text (as the seed server did). This
/// gives the messages stored before the same shape.
///
/// The other photos' addresses were kept only in the staff-group forward the message
/// queued (`outbox`, kind `telegram.forward`: `user_id`, `source` for a chat that is not
/// the app's, `photos`), and outbox rows are never deleted, so they are read from there;
/// the message is the one of that chat stored at the forward's time with its first photo.
/// A message no forward was queued for (a flow that did not forward it) keeps its one photo.
///
/// Histories are read in id order, so the new messages need ids right after their
/// message's: the messages after it move up to make room (ids are SQLite's, and nothing
/// stored refers to a message by its id). Ids the `/api` showed before the upgrade change;
/// its live stream tells clients to reload after a restart anyway.
///
/// It is a shipped migration: never edit it, add another.
enum OneMessagePerPhoto {
    /// A message stored with several photos, and the addresses of all but the first.
    private struct Split {
        var messageID: Int64
        var morePhotos: [String]
    }

    static func migrate(_ db: Database) throws {
        let splits = try find(db)
        guard !splits.isEmpty else { return }
        try makeRoom(for: splits, db)
        try insertPhotos(of: splits, db)
    }

    /// The messages to split, oldest first, each once (a message forwarded twice is split once).
    private static func find(_ db: Database) throws -> [Split] {
        // Forwards with photos (most have none); the payload says how many.
        let forwards = try Row.fetchCursor(
            db, sql: #"SELECT payload, created_at FROM outbox WHERE kind = 'telegram.forward' AND payload LIKE '%"photos":["%' ORDER BY id"#)
        let message = try db.makeStatement(
            sql: """
                SELECT id FROM messages
                WHERE user_id = ? AND source = ? AND direction = 'user' AND created_at = ? AND photo_url = ?
                ORDER BY id LIMIT 1
                """)
        var splits: [Int64: [String]] = [:]
        while let row = try forwards.next() {
            let payload: String = row[0]
            let at: Double = row[1]
            guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
                let userID = object["user_id"] as? String, let photos = object["photos"] as? [String], photos.count > 1
            else { continue }
            let source = object["source"] as? String ?? "app"
            guard let id = try Int64.fetchOne(message, arguments: [userID, source, at, photos[0]]), splits[id] == nil else { continue }
            splits[id] = Array(photos.dropFirst())
        }
        return splits.sorted { $0.key < $1.key }.map { Split(messageID: $0.key, morePhotos: $0.value) }
    }

    /// Moves every message after a split one up by the number of photos added before it.
    /// Ids are first made negative, so no moved id ever lands on one not yet moved.
    private static func makeRoom(for splits: [Split], _ db: Database) throws {
        try db.execute(sql: "UPDATE messages SET id = -id WHERE id > ?", arguments: [splits[0].messageID])
        var added = 0
        for (index, split) in splits.enumerated() {
            added += split.morePhotos.count
            // The messages after this split, up to and including the next split's message.
            if index + 1 < splits.count {
                try db.execute(
                    sql: "UPDATE messages SET id = ? - id WHERE id < ? AND id >= ?",
                    arguments: [added, -split.messageID, -splits[index + 1].messageID])
            } else {
                try db.execute(sql: "UPDATE messages SET id = ? - id WHERE id < ?", arguments: [added, -split.messageID])
            }
        }
    }

    /// Each further photo as a message right after its message's (new) id: same chat,
    /// direction, time and channel id, no text.
    private static func insertPhotos(of splits: [Split], _ db: Database) throws {
        let insert = try db.makeStatement(
            sql: """
                INSERT INTO messages (id, user_id, source, direction, text, media, created_at, flow, photo_url, platform_message_id, sender_name)
                SELECT ?, user_id, source, direction, '', 'photo', created_at, NULL, ?, platform_message_id, NULL FROM messages WHERE id = ?
                """)
        var addedBefore = 0
        for split in splits {
            let id = split.messageID + Int64(addedBefore)
            for (offset, photo) in split.morePhotos.enumerated() {
                try insert.execute(arguments: [id + Int64(offset) + 1, photo, id])
            }
            addedBefore += split.morePhotos.count
        }
    }
}
