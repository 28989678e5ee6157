import Flows
import Foundation

/// What `BufferedStateStore` knows of one user: a run asks about the same user several
/// times per event (notes, auto mode, markers), so the facts live in one
/// object found with one lookup, and the last one found answers without hashing at all.
/// A nil fact means "not known here": the store then asks SQLite.
final class UserFacts {
    let id: String
    /// Inbound messages counted so far, stored or queued.
    var inboundCount: Int?
    /// Notes merged since the user's row was last queued.
    var note: BufferedStateStore.UserNote?
    /// Per chat source (`ChatSource.index`): nil unknown, `.some(nil)` none stored.
    var autoModes = [Bool??](repeating: nil, count: ChatSource.allCases.count)
    /// The latest period marked per key: markers are asked about the current period, so
    /// one entry per key answers almost every question.
    var markers: [(key: String, period: String)] = []

    init(id: String) { self.id = id }

    func latestMarker(_ key: String) -> String? {
        markers.first { $0.key == key }?.period
    }
}

/// The users a store knows, by id, with the last one asked about kept at hand.
struct UserCache {
    private var users: [String: UserFacts] = [:]
    private var last: UserFacts?
    /// Facts known, for the store's cache limit: counted as separate entries, as before
    /// they shared one object.
    private(set) var factCount = 0

    /// The user's facts, made empty when none are known.
    mutating func facts(_ id: String) -> UserFacts {
        if let last, last.id == id { return last }
        let facts: UserFacts
        if let known = users[id] {
            facts = known
        } else {
            facts = UserFacts(id: id)
            users[id] = facts
        }
        last = facts
        return facts
    }

    /// The user's facts if any are known, without making them.
    func existing(_ id: String) -> UserFacts? {
        if let last, last.id == id { return last }
        return users[id]
    }

    /// Counts a fact that was not known before.
    mutating func learned() { factCount += 1 }

    mutating func removeAll() {
        users = [:]
        last = nil
        factCount = 0
    }
}

extension ChatSource {
    /// Position in `UserFacts.autoModes`.
    var index: Int {
        switch self {
        case .app: 0
        case .telegram: 1
        case .instagram: 2
        }
    }
}
