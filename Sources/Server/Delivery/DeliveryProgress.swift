import Flows
import Foundation

/// How far a delivery of several parts (a long text in pieces, an album and the text after
/// it) has got. Each part is noted as soon as the service accepts it, in memory for the
/// worker's next attempt and in the outbox row for a restart, so a retry after a later part
/// failed sends only what is left instead of repeating what staff already have.
///
/// The count only means something for the same list of parts, so it is kept with the
/// list's fingerprint (`plan`): when a later attempt builds a different list (an upload
/// that went missing turns a photo into a link, a new version splits text differently),
/// every part is sent again. A repeat is better than skipping parts nobody received.
// Used by one delivery at a time, from its own task, and read by the worker after the
// delivery returned or threw; hence unchecked.
final class DeliveryProgress: @unchecked Sendable {
    private(set) var partsSent: Int
    /// The fingerprint of the parts `partsSent` counts, once a part went out.
    private(set) var plan: String?
    private let record: @Sendable (_ partsSent: Int, _ plan: String) async -> Void
    private let recordChannelID: @Sendable (String) async -> Void

    /// `record` keeps the new count and its plan (the outbox row); `recordChannelID` the
    /// channel's id for the message the item sends (on the stored message). Both are
    /// awaited before the next part goes out.
    init(
        partsSent: Int, plan: String?, record: @escaping @Sendable (Int, String) async -> Void = { _, _ in },
        recordChannelID: @escaping @Sendable (String) async -> Void = { _ in }
    ) {
        self.partsSent = partsSent
        self.plan = plan
        self.record = record
        self.recordChannelID = recordChannelID
    }

    /// The channel's id for the message this item sends, as soon as the part that carries
    /// it (the first) went out: noted then, so a retry of a later part does not lose it.
    func sent(channelID: String?) async {
        if let channelID { await recordChannelID(channelID) }
    }

    /// Sends, in order, the parts not sent yet, noting each one that went out. `plan`
    /// identifies the list of parts (see `fingerprint`).
    func send<Part>(_ parts: [Part], plan: String, _ sendPart: (Part) async throws -> Void) async throws {
        if self.plan != plan {
            partsSent = 0
            self.plan = plan
        }
        for (index, part) in parts.enumerated() where index >= partsSent {
            try await sendPart(part)
            partsSent = index + 1
            // The last part needs no note: the item is marked delivered right after it.
            if partsSent < parts.count { await record(partsSent, plan) }
        }
    }

    /// A fingerprint of a list of parts, from a description of each: their number and an
    /// FNV-1a hash, the same in every process (Swift's `Hasher` is seeded per process).
    static func fingerprint(_ descriptions: [String]) -> String {
        "\(descriptions.count)-\(String(GrowthBookBucketing.fnv1a32(descriptions.joined(separator: "\u{1F}")), radix: 16))"
    }
}
