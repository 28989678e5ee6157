import Foundation
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@testable import Server
import TestSupport

/// Erasing a customer from the admin panel: admins only, confirmed, audited without the
/// customer's data, through the same erasure as `replyflow customers erase`.
@Suite("Admin panel: erasing a customer", .machineShare)
struct CustomerErasurePanelTests {
    @Test("an admin confirms on a page of its own; the chat, its history and upload go, another chat stays, and the audit names no one")
    func adminErases() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["ann": .admin, "sam": .agent], to: app.database)
        let uploads = admin.harness.configuration.uploadsDirectory
        try FileManager.default.createDirectory(atPath: uploads, withIntermediateDirectories: true)
        try Data("jpeg".utf8).write(to: URL(fileURLWithPath: uploads + "/erasedphoto1.jpg"))
        try await app.application.test(.router) { client in
            _ = try await InboxPanelTests.appMessage(client, user: "erase-me-7", name: "Olga Secretova", text: "my secret order")
            // A photo she uploaded (multipart), as the server stores it.
            try await app.database.writer.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO messages (user_id, source, direction, text, media, created_at, photo_url, author)
                        VALUES ('erase-me-7', 'app', 'user', '', 'photo', 1767261700, '/uploads/erasedphoto1.jpg', 'customer')
                        """)
            }
            _ = try await InboxPanelTests.appMessage(client, user: "keep-me-8", name: "Ivan", text: "still here")
            let chat = try await InboxPanelTests.chatID(app, user: "erase-me-7")

            // An agent sees no way to erase, and is refused if they find one.
            let sam = PanelBrowser(client)
            try await sam.logIn("sam")
            #expect(!(try await sam.get("/admin/chats/\(chat)")).text.contains("erase-customer"))
            #expect(try await sam.get("/admin/chats/\(chat)/erase").status == .forbidden)
            #expect(try await sam.post("/admin/chats/\(chat)/erase", [("confirm", "erase")]).status == .forbidden)

            let ann = PanelBrowser(client)
            try await ann.logIn("ann")
            #expect((try await ann.get("/admin/chats/\(chat)")).text.contains(#"href="/admin/chats/\#(chat)/erase""#))
            let confirm = try await ann.get("/admin/chats/\(chat)/erase")
            #expect(confirm.status == .ok)
            #expect(confirm.text.contains(#"name="confirm""#))

            // Not confirmed, or without the CSRF token: nothing happens.
            let unconfirmed = try await ann.post("/admin/chats/\(chat)/erase", [("confirm", "yes")])
            #expect(unconfirmed.status == .badRequest)
            #expect(unconfirmed.text.contains("Type erase to confirm"))
            #expect(try await ann.post("/admin/chats/\(chat)/erase", [("confirm", "erase")], csrf: "wrong").status == .forbidden)
            #expect(try await InboxPanelTests.chatID(app, user: "erase-me-7") == chat)

            let erased = try await ann.post("/admin/chats/\(chat)/erase", [("confirm", "erase")])
            #expect(erased.status == .ok)
            #expect(erased.text.contains("Customer erased"))
            #expect(erased.text.contains("<td>messages</td><td>"))
            #expect(!erased.text.contains("<td>messages</td><td>0</td>"))
            #expect(erased.text.contains("<td>uploads</td><td>1</td>"))
            #expect(!FileManager.default.fileExists(atPath: uploads + "/erasedphoto1.jpg"))

            let history = try await client.execute(uri: "/message_history/erase-me-7", method: .get)
            // (Fetching the history greets her again, as anyone new: the greeted-today marker went too.)
            let messages = history.json["messages"] as? [[String: Any]] ?? []
            #expect(!messages.contains { $0["message"] as? String == "my secret order" || $0["photo_url"] is String })
            let kept = try await client.execute(uri: "/message_history/keep-me-8", method: .get)
            #expect((kept.json["messages"] as? [[String: Any]])?.contains { $0["message"] as? String == "still here" } == true)
            #expect(try await ann.get("/admin/chats/\(chat)").status == .notFound)
            #expect(try await ann.post("/admin/chats/\(chat)/erase", [("confirm", "erase")]).status == .notFound)

            let entries = try await app.database.auditEntries(page: 1, limit: 50)
            let entry = try #require(entries.first { $0.action == "customer erased" })
            #expect(entry.actor == "ann")
            #expect(entry.detail.hasPrefix("app customer: messages "))
            for personal in ["erase-me-7", "Olga", "my secret order", "erasedphoto1"] {
                #expect(!entries.contains { $0.detail.contains(personal) }, "the audit log still holds \(personal)")
            }
        }
    }
}
