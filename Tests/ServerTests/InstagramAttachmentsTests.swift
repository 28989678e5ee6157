import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import TestServers
import Testing
import TestSupport

/// Nothing an Instagram customer sends is lost on the way to staff, on the router with
/// recording fakes: files the server does not keep reach the group by their link, and what
/// the AI cannot read goes to staff without turning auto mode off. Messages carry Brevo's
/// id as `platformMessageId`. Photos are fetched from a fake Brevo file server on loopback,
/// as the server fetches them over HTTP. (Telegram's attachments need Telegram's updates:
/// `CustomerAttachmentsTests`.)
@Suite("Instagram attachments reach staff", .machineShare)
struct InstagramAttachmentsTests {
    /// Runs `body` with a fake Brevo serving files on loopback (nothing else is asked of it).
    func withFileServer(_ body: (FakeBrevoServer) async throws -> Void) async throws {
        let files = FakeBrevoServer()
        _ = try await files.start()
        do {
            try await body(files)
        } catch {
            await files.stop()
            throw error
        }
        await files.stop()
    }

    @Test func instagramFilesTheServerDoesNotKeepReachStaffByTheirLinks() async throws {
        try await withFileServer { files in
            let voiceURL = try await files.addFile(name: "voice.ogg", data: Data("voice".utf8), contentType: "audio/ogg")
            let documentURL = try await files.addFile(name: "invoice.pdf", data: Data("%PDF-1.4".utf8), contentType: "application/pdf")
            // A photo that cannot be fetched (the fake has no such file: 404).
            let missingPhotoURL = voiceURL.replacingOccurrences(of: "voice.ogg", with: "gone.jpg")
            let ports = TestPorts()
            try await ports.withServer(configure: { $0.autoModeDefault = false }) { app, client in
                let message = FakeBrevoServer.visitorMessage(
                    id: "brevo-msg-1", visitorID: "v-files", text: "",
                    files: [
                        ["fileName": "voice.ogg", "url": .string(voiceURL), "isImage": false],
                        ["fileName": "invoice.pdf", "url": .string(documentURL), "isImage": false],
                        ["fileName": "gone.jpg", "url": .string(missingPhotoURL), "isImage": true],
                    ])
                let response = try await ports.postWebhook(client, FakeBrevoServer.webhookEvent(visitorID: "v-files", visitorName: "Olga", messages: [message]))
                #expect(response.status == .ok)
                #expect(response.json["handled"] as? Int == 1)

                await app.waitForDeliveries()
                let forward = try #require(ports.staffGroup.messages.first)
                #expect(forward.kind == .text)
                let text = try #require(forward.plainText)
                #expect(text.contains("📎 voice.ogg: \(voiceURL)"))
                #expect(text.contains("📎 invoice.pdf: \(documentURL)"))
                #expect(text.contains("📎 gone.jpg: \(missingPhotoURL)"))

                let chat = try #require(try await ports.chats(client, source: "instagram").first)
                let stored = try await ports.messages(client, chatID: try #require(chat["id"] as? String))
                #expect(stored.count == 1)
                #expect(stored.first?["platformMessageId"] as? String == "brevo-msg-1")
                // A file the AI cannot read makes the whole message a document for the flows.
                #expect(stored.first?["type"] as? String == "document")
                #expect(stored.first?["media"] as? String == voiceURL, "the first file not kept is shown where it can be fetched")
            }
            #expect(ports.violations.isEmpty)
        }
    }

    @Test func aFileTheAICannotReadGoesToStaffAndAutoModeStaysOn() async throws {
        // A document is never fetched: staff get its link.
        let documentURL = "https://files.brevo.example/contract.pdf"
        let ports = TestPorts()
        try await ports.withServer { app, client in
            let message = FakeBrevoServer.visitorMessage(
                id: "brevo-msg-2", visitorID: "v-doc", text: "Please sign this",
                files: [
                    ["fileName": "contract.pdf", "url": .string(documentURL), "isImage": false]
                ])
            _ = try await ports.postWebhook(client, FakeBrevoServer.webhookEvent(visitorID: "v-doc", messages: [message]))
            await app.waitForDeliveries()
            let forward = try #require(ports.staffGroup.messages.first)
            #expect(forward.plainText?.contains("Please sign this") == true)
            #expect(forward.plainText?.contains("📎 contract.pdf: \(documentURL)") == true)
            #expect(ports.assistant.questions.isEmpty)
            #expect(try await ports.chats(client, source: "instagram").first?["autoMode"] as? Bool == true)
            #expect(ports.instagramChats.calls.isEmpty)
        }
        #expect(ports.violations.isEmpty)
    }

    @Test func aPhotoWithADocumentGoesToStaffWholeInsteadOfBeingAnsweredInPart() async throws {
        try await withFileServer { files in
            let photoURL = try await files.addFile(name: "photo.png", data: Data(tinyPNG), contentType: "image/png")
            let documentURL = try await files.addFile(name: "receipt.pdf", data: Data("%PDF-1.4".utf8), contentType: "application/pdf")
            let ports = TestPorts()
            try await ports.withServer { app, client in
                let message = FakeBrevoServer.visitorMessage(
                    id: "brevo-msg-3", visitorID: "v-mixed", text: "The item and my receipt",
                    files: [
                        ["fileName": "photo.png", "url": .string(photoURL), "isImage": true],
                        ["fileName": "receipt.pdf", "url": .string(documentURL), "isImage": false],
                    ])
                _ = try await ports.postWebhook(client, FakeBrevoServer.webhookEvent(visitorID: "v-mixed", messages: [message]))
                await app.waitForDeliveries()
                let photo = try #require(ports.staffGroup.messages.first)
                #expect(photo.kind == .photo)
                #expect(photo.photos.map(\.data) == [Data(tinyPNG)])
                #expect(photo.plainText?.contains("The item and my receipt") == true)
                #expect(photo.plainText?.contains("📎 receipt.pdf: \(documentURL)") == true)
                #expect(ports.assistant.questions.isEmpty, "the AI would have answered the photo and left the receipt unseen")
                #expect(try await ports.chats(client, source: "instagram").first?["autoMode"] as? Bool == true)
            }
            #expect(ports.violations.isEmpty)
        }
    }

    @Test func aChatStartedByStaffInBrevoKeepsTheDefaultOfWhenItStarted() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        harness.configuration.apiKey = TestPorts.apiKey
        harness.configuration.brevoWebhookSecret = TestPorts.webhookSecret
        harness.configuration.autoModeDefault = false
        let ports = TestPorts()
        try await harness.build(ports: ports).application.test(.router) { client in
            let staff: FakeJSON = ["id": "staff-first", "type": "agent", "text": "Hello from the shop", "visitorId": "v-staff", "agentId": "agent-2"]
            let stored = try await ports.postWebhook(client, FakeBrevoServer.webhookEvent(visitorID: "v-staff", messages: [staff]))
            #expect(stored.json["handled"] as? Int == 1)
            #expect(try await ports.chats(client, source: "instagram").first?["autoMode"] as? Bool == false)
            let chatID = try #require(try await ports.chats(client, source: "instagram").first?["id"] as? String)
            let messages = try await ports.messages(client, chatID: chatID)
            #expect(messages.first?["platformMessageId"] as? String == "staff-first")
        }
        // The default changes; the chat already under way keeps its own.
        harness.configuration.autoModeDefault = true
        try await harness.build(ports: ports).application.test(.router) { client in
            let autoMode = try await ports.chats(client, source: "instagram").first?["autoMode"] as? Bool
            #expect(autoMode == false)
        }
        #expect(ports.violations.isEmpty)
    }
}
