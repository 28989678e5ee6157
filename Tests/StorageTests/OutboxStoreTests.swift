import Foundation
import GRDB
import Testing

@testable import Storage

@Suite("OutboxStore: what a restart finds")
struct OutboxStoreTests {
    @Test("the parts a delivery already sent are kept with its row: after a restart it resumes after them")
    func partsSentSurviveARestart() async throws {
        let path = temporaryDatabasePath()
        defer { try? FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent()) }
        let id: Int64
        do {
            let database = try ReplyflowDatabase(path: path)
            var record = RunRecord()
            record.outbox = [
                OutboxDraft(kind: .telegramForward, lane: "group", payload: "{}", status: .pending, at: Date(timeIntervalSince1970: 1_795_600_000))
            ]
            id = try #require(try await database.commit(record)?.outbox.first?.id)
            let outbox = OutboxStore(database: database)
            #expect(try await outbox.pending().first?.partsSent == 0)
            #expect(try await outbox.pending().first?.partsPlan == nil)
            outbox.recordPartsSent(id: id, count: 2, plan: "3-abc")
            await outbox.written()
        }
        let reopened = OutboxStore(database: try ReplyflowDatabase(path: path))
        let pending = try await reopened.pending()
        #expect(pending.map(\.id) == [id])
        #expect(pending.first?.partsSent == 2)
        #expect(pending.first?.partsPlan == "3-abc")
    }
}
