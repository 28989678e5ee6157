import Foundation
import Synchronization

/// Encoded history pages, reused while the user has no newer message. A page is stored
/// under the newest message id it actually holds (read from SQLite after the commit), and
/// served only while the engine's newest id for that user is that same id, so a page can
/// never be older than what the user has.
final class HistoryPageCache: Sendable {
    struct Key: Hashable {
        var userID: String
        var limit: Int
    }

    private struct Entry {
        var newestMessageID: Int64
        var messagesJSON: Data
    }

    private let entries = Mutex<[Key: Entry]>([:])
    private let capacity: Int

    init(capacity: Int = 20_000) {
        self.capacity = capacity
    }

    /// The cached `messages` array (JSON) when it is still current.
    func messagesJSON(userID: String, limit: Int, newestMessageID: Int64?) -> Data? {
        guard let newestMessageID else { return nil }
        return entries.withLock { entries in
            guard let entry = entries[Key(userID: userID, limit: limit)], entry.newestMessageID == newestMessageID else { return nil }
            return entry.messagesJSON
        }
    }

    func store(_ messagesJSON: Data, userID: String, limit: Int, newestMessageID: Int64) {
        entries.withLock { entries in
            // Simple bound: start over when full; the busy users' pages come back at once.
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[Key(userID: userID, limit: limit)] = Entry(newestMessageID: newestMessageID, messagesJSON: messagesJSON)
        }
    }
}
