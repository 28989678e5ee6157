import Flows
import Synchronization
import Foundation
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@testable import Server
import TestSupport

/// The inbox's pages and actions at the router: what a member of staff sees of each chat,
/// what their replies and switches do, and every bad input answered with a 4xx.
@Suite("Admin: the inbox", .machineShare)
struct InboxPanelTests {
    static let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    static func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    /// A customer's app message; returns the chat's id in the panel.
    static func appMessage(_ client: some TestClientProtocol, user: String, name: String? = nil, text: String, photoURL: String? = nil) async throws
        -> Int64
    {
        var body: [String: Any] = ["user_id": user, "message": text]
        if let name { body["user_name"] = name }
        if let photoURL { body["photo_url"] = photoURL }
        let sent = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(body))
        #expect(sent.status == .ok, "\(String(buffer: sent.body))")
        return 0
    }

    static func chatID(_ app: ReplyflowServer.ServerApp, user: String) async throws -> Int64 {
        try #require(try await SQLiteConversationQueries(database: app.database).conversation(source: .app, platformChatID: user)?.id)
    }

    @Test("the list shows each chat's name, channel, last message, mode badge, unread state and wait; opening it marks it read")
    func listAndOpen() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["sam": .agent], to: app.database)
        try await app.application.test(.router) { client in
            _ = try await Self.appMessage(client, user: "u1", name: "Olga", text: "Where is my order?")
            let chat = try await Self.chatID(app, user: "u1")
            let sam = PanelBrowser(client)
            try await sam.logIn("sam")
            let list = try await sam.get("/admin")
            #expect(list.status == .ok)
            #expect(list.text.contains(">Olga<"))
            #expect(list.text.contains("Where is my order?"))
            #expect(list.text.contains(#"data-unread="1""#))
            #expect(list.text.contains(#"class="chat unread""#))
            #expect(list.text.contains("AI answering"), "auto mode is on by default")
            #expect(list.text.contains("waiting "), "the customer waits for a person")
            #expect(list.text.contains(#"href="/admin/chats/\#(chat)""#))

            let open = try await sam.get("/admin/chats/\(chat)")
            #expect(open.status == .ok)
            #expect(open.text.contains(#"<p class="text">Where is my order?</p>"#))
            #expect(open.text.contains("Take over"))
            #expect(open.text.contains("→ forward_to_group"), "why the bot did what it did names each flow's actions")
            #expect(open.text.contains("Why did (or didn&#39;t) the bot answer?") || open.text.contains("Why did (or didn't) the bot answer?"))
            let again = try await sam.get("/admin")
            #expect(again.text.contains(#"data-unread="0""#), "opening the chat read it")
            #expect(!again.text.contains(#"class="chat unread""#))
        }
    }

    @Test("a reply goes out on the chat's channel with the staff member's name, ends the wait, and is audited")
    func reply() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["sam": .agent], to: app.database)
        try await app.application.test(.router) { client in
            _ = try await Self.appMessage(client, user: "u2", name: "Ivan", text: "Hello?")
            let chat = try await Self.chatID(app, user: "u2")
            let sam = PanelBrowser(client)
            try await sam.logIn("sam")
            let replied = try await sam.post("/admin/chats/\(chat)/reply", [("text", "Hi Ivan, how can I help?")])
            #expect(replied.status == .seeOther)
            #expect(replied.headers[.location] == "/admin/chats/\(chat)")
            let history = try await client.execute(uri: "/message_history/u2", method: .get)
            let messages = history.json["messages"] as? [[String: Any]] ?? []
            #expect(messages.contains { $0["message"] as? String == "Hi Ivan, how can I help?" && $0["direction"] as? String == "support" })
            let page = try await sam.get("/admin/chats/\(chat)")
            #expect(page.text.contains(#"<span class="author">sam</span>"#), "the reply names who wrote it")
            let list = try await sam.get("/admin?sort=waiting")
            #expect(!list.text.contains(">Ivan<"), "a staff reply ends the customer's wait")

            let scripted = try await sam.post(
                "/admin/chats/\(chat)/reply", [("text", "And one more thing")], headers: [.accept: "application/json"])
            #expect(scripted.status == .ok)
            #expect(scripted.json["success"] as? Bool == true)
            #expect(scripted.json["messageId"] is Int)
        }
        let audit = try await app.database.auditEntries(page: 1, limit: 50).map { "\($0.actor) \($0.action): \($0.detail)" }
        #expect(audit.contains { $0.hasPrefix("sam reply: message ") && $0.hasSuffix(" to app chat u2") })
    }

    @Test("take over and give back switch the chat's auto mode, and are audited")
    func autoMode() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["sam": .agent], to: app.database)
        try await app.application.test(.router) { client in
            _ = try await Self.appMessage(client, user: "u3", text: "hi")
            let chat = try await Self.chatID(app, user: "u3")
            let sam = PanelBrowser(client)
            try await sam.logIn("sam")
            #expect(try await sam.post("/admin/chats/\(chat)/auto-mode", [("on", "false")]).status == .seeOther)
            #expect(try await SQLiteConversationQueries(database: app.database).conversation(id: chat)?.autoMode == false)
            let page = try await sam.get("/admin/chats/\(chat)")
            #expect(page.text.contains("Give back to the AI"))
            #expect(try await sam.get("/admin?mode=staff").text.contains(#"data-chat-id="\#(chat)""#))
            #expect(!(try await sam.get("/admin?mode=ai").text.contains(#"data-chat-id="\#(chat)""#)))
            #expect(try await sam.post("/admin/chats/\(chat)/auto-mode", [("on", "true")]).status == .seeOther)
            #expect(try await SQLiteConversationQueries(database: app.database).conversation(id: chat)?.autoMode == true)
            let bad = try await sam.post("/admin/chats/\(chat)/auto-mode", [("on", "maybe")])
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("on must be true or false"))
        }
        let actions = try await app.database.auditEntries(page: 1, limit: 50).map(\.action)
        #expect(actions.contains("auto mode off") && actions.contains("auto mode on"))
    }

    @Test("bad input gets a 4xx page (or JSON when a script asks), never a 500")
    func badInput() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["sam": .agent], to: app.database)
        try await app.application.test(.router) { client in
            _ = try await Self.appMessage(client, user: "u4", text: "hi")
            let chat = try await Self.chatID(app, user: "u4")
            let sam = PanelBrowser(client)
            try await sam.logIn("sam")
            #expect(try await sam.get("/admin/chats/999999").status == .notFound)
            #expect(try await sam.get("/admin/chats/abc").status == .notFound)
            #expect(try await sam.get("/admin?source=fax").status == .badRequest)
            #expect(try await sam.get("/admin?sort=random").status == .badRequest)
            #expect(try await sam.get("/admin?after=garbage").status == .badRequest)
            #expect(try await sam.get("/admin/chats/\(chat)?before=-1").status == .badRequest)
            let empty = try await sam.post("/admin/chats/\(chat)/reply", [("text", "   ")])
            #expect(empty.status == .badRequest)
            #expect(empty.text.contains("empty"))
            let emptyJSON = try await sam.post("/admin/chats/\(chat)/reply", [("text", "")], headers: [.accept: "application/json"])
            #expect(emptyJSON.status == .badRequest)
            #expect((emptyJSON.json["error"] as? String)?.contains("empty") == true, "a script gets the reason as JSON")
            #expect(try await sam.post("/admin/chats/999999/reply", [("text", "hi")]).status == .notFound)
            let noToken = try await sam.post("/admin/chats/\(chat)/reply", [("text", "forged")], csrf: "wrong")
            #expect(noToken.status == .forbidden)
            let retryUnknown = try await sam.post("/admin/chats/\(chat)/retry", [("item", "424242")])
            #expect(retryUnknown.status == .notFound)
            let retryBad = try await sam.post("/admin/chats/\(chat)/retry", [("item", "x")])
            #expect(retryBad.status == .badRequest)
            let history = try await client.execute(uri: "/message_history/u4", method: .get)
            #expect(!(history.json["messages"] as? [[String: Any]] ?? []).contains { $0["message"] as? String == "forged" })

            let anonymous = PanelBrowser(client)
            let redirected = try await anonymous.get("/admin/chats/\(chat)")
            #expect(redirected.status == .seeOther)
            #expect(redirected.headers[.location]?.hasPrefix("/admin/login") == true)
            #expect(try await anonymous.get("/admin/api/stream").status == .unauthorized)
        }
    }

    @Test("what customers write is shown as text, and links only to our uploads or https")
    func hostileContentStaysText() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["sam": .agent], to: app.database)
        try await app.application.test(.router) { client in
            let hostile = "<img src=x onerror=alert(1)>"
            _ = try await Self.appMessage(client, user: "x1", name: hostile, text: "<script>alert(2)</script>", photoURL: "http://evil.example/p.png")
            let chat = try await Self.chatID(app, user: "x1")
            let sam = PanelBrowser(client)
            try await sam.logIn("sam")
            for page in [try await sam.get("/admin"), try await sam.get("/admin/chats/\(chat)")] {
                #expect(!page.text.contains(hostile))
                #expect(page.text.contains("&lt;img src=x onerror=alert(1)&gt;"))
                #expect(!page.text.contains("<script>alert(2)"))
                #expect(!page.text.contains("evil.example"), "a plain-http link elsewhere is not shown as a link or image")
                #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            }
        }
    }

    @Test("search finds chats by name, platform id and message text; filters narrow the list")
    func searchAndFilters() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["sam": .agent], to: app.database)
        try await app.application.test(.router) { client in
            _ = try await Self.appMessage(client, user: "s-100", name: "Maria Lopez", text: "refund please")
            _ = try await Self.appMessage(client, user: "s-200", name: "Petr", text: "order 55 late")
            let sam = PanelBrowser(client)
            try await sam.logIn("sam")
            let byName = try await sam.get("/admin?q=maria+lopez")
            #expect(byName.text.contains("Maria Lopez") && !byName.text.contains(">Petr<"), "+ is a space in the search form")
            let byID = try await sam.get("/admin?q=s-200")
            #expect(byID.text.contains(">Petr<") && !byID.text.contains("Maria Lopez"))
            let byText = try await sam.get("/admin?q=refund")
            #expect(byText.text.contains("Maria Lopez") && !byText.text.contains(">Petr<"))
            let none = try await sam.get("/admin?q=nothing-like-this")
            #expect(none.text.contains("No conversations match these filters."))
            let telegramOnly = try await sam.get("/admin?source=telegram")
            #expect(!telegramOnly.text.contains("Maria Lopez"))
            let kept = try await sam.get("/admin?source=app&unread=1")
            #expect(kept.text.contains("?source=app&amp;unread=1") || kept.text.contains("?source=app&unread=1"), "chat links keep the filters")
        }
    }

    @Test("a transcribed voice message shows its transcript and plays through the panel; a voice file at an https address plays from there")
    func voiceWithTranscript() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["sam": .agent], to: app.database)
        var voice = StoredMessage(userID: "555", source: .telegram, direction: .user, text: "", media: .voice, at: Date())
        voice.transcript = "Is my parcel on its way?"
        voice.audioLocation = "telegram-file:AwACAgIAAx0"
        let audio = StoredMessage(
            userID: "555", source: .telegram, direction: .user, text: "", media: .audio, at: Date(), photoURL: "https://cdn.example/a.ogg")
        let silent = StoredMessage(userID: "555", source: .telegram, direction: .user, text: "", media: .voice, at: Date())
        var record = RunRecord()
        record.messages = [voice, audio, silent]
        let receipt = try #require(try await app.database.commit(record))
        let voiceID = receipt.messageIDs[0], silentID = receipt.messageIDs[2]
        let chat = try #require(try await SQLiteConversationQueries(database: app.database).conversation(source: .telegram, platformChatID: "555")?.id)
        try await app.application.test(.router) { client in
            let sam = PanelBrowser(client)
            try await sam.logIn("sam")
            let page = try await sam.get("/admin/chats/\(chat)")
            #expect(page.text.contains("🎤 Is my parcel on its way?"))
            #expect(page.text.contains(#"<audio controls preload="none" src="/admin/chats/\#(chat)/voice/\#(voiceID)">"#))
            #expect(page.text.contains(#"<audio controls preload="none" src="https://cdn.example/a.ogg">"#))
            #expect(page.text.contains("Voice message"), "a voice message with no file to play is named")
            // This server has no Telegram: the file cannot be fetched, and the page says so.
            let unreachable = try await sam.get("/admin/chats/\(chat)/voice/\(voiceID)")
            #expect(unreachable.status == .badGateway)
            #expect(unreachable.text.contains("could not be fetched from Telegram"))
            #expect(try await sam.get("/admin/chats/\(chat)/voice/\(silentID)").status == .notFound)
            #expect(try await sam.get("/admin/chats/\(chat)/voice/abc").status == .notFound)
        }
    }
}

/// The panel's voice player against the fake Telegram: the file is fetched through the Bot
/// API (`getFile`, then the download) when it is played.
@Suite("Admin: voice from Telegram", .machineShare)
struct InboxVoiceTests {
    @Test func aTelegramVoiceNotePlaysInThePanel() async throws {
        let databasePath = Mutex("")
        try await ChannelFakes.withServer(configure: { configuration in
            configuration.staffBcryptCost = 4
            databasePath.withLock { $0 = configuration.databasePath }
        }) { fakes, client in
            let database = try ReplyflowDatabase(path: databasePath.withLock { $0 })
            try await AdminHarness.addAccounts(["sam": .agent], to: database)
            let sound = Data("OggS voice bytes".utf8)
            let voice = await fakes.telegram.registerFile(data: sound, path: "voice/file_7.oga")
            try await fakes.telegram.enqueueUpdate(TelegramPrivateChatTests().privateMessage(voice: voice))
            let customer = String(TelegramPrivateChatTests.customer)
            let chat = try await waitFor(timeout: .seconds(15)) {
                try await SQLiteConversationQueries(database: database).conversation(source: .telegram, platformChatID: customer)?.id
            }
            let inbox = InboxQueries(database: database)
            let message = try await waitFor(timeout: .seconds(15)) {
                try await inbox.messages(of: chat, before: nil, limit: 10).first { $0.media == .voice && $0.transcript != nil }
            }
            #expect(message.audioLocation?.hasPrefix("telegram-file:") == true)
            let sam = PanelBrowser(client)
            try await sam.logIn("sam")
            let page = try await sam.get("/admin/chats/\(chat)")
            #expect(page.text.contains("/admin/chats/\(chat)/voice/\(message.id)"))
            #expect(page.text.contains("🎤 " + (message.transcript ?? "")))
            let played = try await sam.get("/admin/chats/\(chat)/voice/\(message.id)")
            #expect(played.status == .ok)
            #expect(played.headers[.contentType] == "audio/ogg")
            #expect(Array(played.body.readableBytesView) == Array(sound))
        }
    }
}
