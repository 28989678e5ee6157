import Foundation
import Testing

@testable import Server
import TestSupport

@Suite("DeliveryProgress: resuming a delivery of several parts", .machineShare)
struct DeliveryProgressTests {
    /// Records what a delivery noted, for the checks.
    final class Notes: @unchecked Sendable {
        private let lock = NSLock()
        private var notes: [(Int, String)] = []
        func add(_ count: Int, _ plan: String) { lock.withLock { notes.append((count, plan)) } }
        var all: [(Int, String)] { lock.withLock { notes } }
    }

    struct Refused: Error {}

    @Test("a retry sends only the parts after those already sent, and the last part is not noted (the item is marked delivered next)")
    func resumesAfterSentParts() async throws {
        let notes = Notes()
        let progress = DeliveryProgress(partsSent: 0, plan: nil) { notes.add($0, $1) }
        var sent: [String] = []
        let parts = ["a", "b", "c"]
        await #expect(throws: Refused.self) {
            try await progress.send(parts, plan: "p") { part in
                if part == "b" { throw Refused() }
                sent.append(part)
            }
        }
        #expect(progress.partsSent == 1)
        try await progress.send(parts, plan: "p") { sent.append($0) }
        #expect(sent == ["a", "b", "c"])
        #expect(notes.all.map(\.0) == [1, 2])
        #expect(notes.all.allSatisfy { $0.1 == "p" })
    }

    @Test("parts counted for another list of parts are all sent again: a repeat, never a part skipped")
    func anotherPlanStartsOver() async throws {
        let progress = DeliveryProgress(partsSent: 2, plan: "old")
        var sent: [String] = []
        try await progress.send(["header and text", "rest"], plan: "new") { sent.append($0) }
        #expect(sent == ["header and text", "rest"])
        #expect(progress.plan == "new")
    }

    @Test("a fingerprint is the same in every process and tells different lists apart")
    func fingerprints() {
        #expect(DeliveryProgress.fingerprint(["a", "b"]) == DeliveryProgress.fingerprint(["a", "b"]))
        #expect(DeliveryProgress.fingerprint(["a", "b"]) != DeliveryProgress.fingerprint(["ab"]))
        #expect(DeliveryProgress.fingerprint(["a", "b"]) != DeliveryProgress.fingerprint(["a", "c"]))
        // The count and FNV-1a of "a\u{1F}b", written out: a fingerprint stored by one
        // process must match the one the next process computes.
        #expect(DeliveryProgress.fingerprint(["a", "b"]) == "2-1b0504b1")
    }
}
