import Foundation

/// How far a delivery of several parts (a long text in pieces, an album and the text after
/// it) has got. Each part is noted as soon as the service accepts it, in memory for the
/// worker's next attempt and in the outbox row for a restart, so a retry after a later part
/// failed sends only what is left instead of repeating what staff already have.
// Used by one delivery at a time, from its own task, and read by the worker after the
// delivery returned or threw; hence unchecked.
final class DeliveryProgress: @unchecked Sendable {
    private(set) var partsSent: Int
    private let record: @Sendable (Int) -> Void

    /// `record` keeps the new count (the outbox row); `partsSent` is where the item stands.
    init(partsSent: Int, record: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.partsSent = partsSent
        self.record = record
    }

    /// Sends, in order, the parts not sent yet, noting each one that went out.
    func send<Part>(_ parts: [Part], _ sendPart: (Part) async throws -> Void) async throws {
        for part in parts.dropFirst(partsSent) {
            try await sendPart(part)
            partsSent += 1
            record(partsSent)
        }
    }
}
