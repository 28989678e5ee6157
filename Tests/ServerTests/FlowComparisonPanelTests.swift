import Flows
import Foundation
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@testable import Server
import TestSupport

/// The editor's "what would change" and "save as test" at the router: the stored events
/// through the live flows and the draft, nothing saved or sent; a tried event written as
/// a flow test step that the flow tests then check.
@Suite("Admin: the flow studio's comparison and save as test", .machineShare)
struct FlowComparisonPanelTests {
    static let greeting = FlowStudioTests.greeting

    static func draft(_ admin: AdminHarness) throws -> (original: String, draft: String) {
        let original = try #require(FlowStudioTests.fileText(admin, greeting))
        return (original, original.replacingOccurrences(of: "Здравствуйте", with: "Добрый день"))
    }

    @Test("compare runs the last days' stored events through the live flows and the draft and shows the greetings that change")
    func compareShowsChangedGreetings() async throws {
        try await FlowStudioTests.run { app, erin, admin in
            let (original, draft) = try Self.draft(admin)
            let now = Date()
            for (user, name) in [("1", "Анна"), ("2", nil)] {
                _ = try await app.engine.handle(InboundEvent(kind: .historyFetch, at: now.addingTimeInterval(-3600), userID: user, userName: name))
            }
            // The customer's name is stored with their messages; the export gives it to every event of theirs.
            _ = try await app.engine.handle(
                InboundEvent(kind: .appMessage, at: now.addingTimeInterval(-1800), userID: "1", userName: "Анна", text: "Не приходит код"))
            // Older than the window: not compared.
            _ = try await app.engine.handle(InboundEvent(kind: .historyFetch, at: now.addingTimeInterval(-10 * 86_400), userID: "3"))
            let outboxBefore = try await app.database.outboxStatistics().counts

            let page = try await erin.post("/admin/flows/compare", [("name", Self.greeting), ("content", draft), ("compare_days", "7")])
            #expect(page.status == .ok, "\(page.text.prefix(1500))")
            let text = page.text
            #expect(text.contains("3 events of the last 7 days run through both: 2 would come out differently. Nothing was sent."), "\(text)")
            #expect(text.contains(#"<tr data-action="greet"><td>Greetings</td><td>2</td><td>2</td>"#))
            #expect(text.contains(#"<tr data-action="forward_to_group"><td>Forwards to the staff group</td><td>1</td><td>1</td>"#))
            #expect(text.contains("Daily greeting: 2 event(s) would come out differently"))
            #expect(text.contains("<div>greet: Здравствуйте, Анна!</div>"))
            #expect(text.contains("<div>greet: Добрый день, Анна!</div>"))
            #expect(text.contains("Добрый день{{#user.name}}"), "the draft stays in the editor")
            #expect(FlowStudioTests.fileText(admin, Self.greeting) == original, "nothing saved")
            #expect(try await app.database.outboxStatistics().counts == outboxBefore, "nothing sent")

            // The live set against itself changes nothing.
            let same = try await erin.post("/admin/flows/compare", [("name", Self.greeting), ("content", original), ("compare_days", "30")])
            #expect(same.text.contains("the draft does exactly what the live flows did"), "\(same.text.prefix(2000))")
            #expect(same.text.contains("4 events of the last 30 days"))
        }
    }

    @Test("compare refuses bad days (400), a draft with errors (422) and agents (403); so does save as test for agents")
    func compareBadInput() async throws {
        try await FlowStudioTests.run { _, erin, admin in
            let (_, draft) = try Self.draft(admin)
            for days in ["0", "31", "seven", ""] {
                let response = try await erin.post("/admin/flows/compare", [("name", Self.greeting), ("content", draft), ("compare_days", days)])
                #expect(response.status == .badRequest, "days '\(days)'")
            }
            let broken = try await erin.post(
                "/admin/flows/compare", [("name", Self.greeting), ("content", draft.replacingOccurrences(of: "greet:", with: "gret:"))])
            #expect(broken.status == .unprocessableContent)
            #expect(broken.text.contains("Fix the errors in the flows first"))
            let badName = try await erin.post("/admin/flows/compare", [("name", "../etc.yaml"), ("content", draft)])
            #expect(badName.status == .badRequest)
            let sam = PanelBrowser(erin.client)
            try await sam.logIn("sam")
            #expect(try await sam.post("/admin/flows/compare", [("name", Self.greeting), ("content", draft)]).status == .forbidden)
            #expect(
                try await sam.post("/admin/flows/try/save-test", [("name", Self.greeting), ("content", draft), ("test_file", "x.yaml")]).status
                    == .forbidden)
        }
    }

    @Test("save as test writes the tried event and the draft's actions as a step that the flow tests then check")
    func saveAsTest() async throws {
        try await FlowStudioTests.run { app, erin, admin in
            let (original, draft) = try Self.draft(admin)
            let fields: [(String, String)] = [
                ("name", Self.greeting), ("content", draft), ("try_kind", "history_fetch"), ("try_user_id", "42"), ("try_user_name", "Анна"),
                ("try_at", "2026-11-21T09:00"), ("try_timezone", "Europe/Moscow"), ("test_file", "panel-greeting.yaml"),
                ("test_name", "the new greeting"),
            ]
            let saved = try await erin.post("/admin/flows/try/save-test", fields)
            #expect(saved.status == .ok, "\(saved.text.prefix(1500))")
            #expect(saved.text.contains("Saved as step 1 of tests/panel-greeting.yaml"))
            let path = admin.harness.configuration.flowsDirectory + "/tests/panel-greeting.yaml"
            let file = try #require(FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) })
            #expect(file.hasPrefix("name: \"the new greeting\"\nsteps:\n"), "\(file)")
            #expect(file.contains(#"      - greet: "Добрый день, Анна!""#), "\(file)")
            let (test, problems) = FlowTestLoader.load(data: Data(file.utf8), file: "panel-greeting.yaml")
            #expect(problems.isEmpty, "\(problems)")
            #expect(test?.steps.count == 1)

            // A second step goes after the first.
            let again = try await erin.post("/admin/flows/try/save-test", fields.map { $0.0 == "try_user_id" ? ($0.0, "43") : $0 })
            #expect(again.text.contains("Saved as step 2 of tests/panel-greeting.yaml"))

            // The test now guards the change: the live greeting fails it, the draft passes it.
            let live = try await erin.get("/admin/flows/tests")
            #expect(live.status == .unprocessableContent)
            #expect(live.text.contains("panel-greeting.yaml"))
            let withDraft = try await erin.post("/admin/flows/tests", [("name", Self.greeting), ("content", draft)])
            #expect(withDraft.text.contains("the new greeting"))
            #expect(FlowStudioTests.fileText(admin, Self.greeting) == original, "the flow itself is not saved")

            let audit = try await app.database.auditEntries(page: 1, limit: 5)
            #expect(audit.contains { $0.action == "flow test step saved" && $0.detail == "tests/panel-greeting.yaml (step 2)" })

            // A bad file name is a 400; an invalid event shows why, and writes nothing.
            let badName = try await erin.post("/admin/flows/try/save-test", fields.map { $0.0 == "test_file" ? ($0.0, "../x.yaml") : $0 })
            #expect(badName.status == .badRequest)
            let badEvent = try await erin.post("/admin/flows/try/save-test", fields + [("try_event", "kind: nonsense\n")])
            #expect(badEvent.status == .unprocessableContent)
            let (after, _) = FlowTestLoader.load(data: try #require(FileManager.default.contents(atPath: path)), file: "panel-greeting.yaml")
            #expect(after?.steps.count == 2)
        }
    }

    @Test("save as test refuses to add to a test file whose steps are not its last part")
    func saveAsTestRefusesOddFile() async throws {
        try await FlowStudioTests.run { _, erin, admin in
            let (_, draft) = try Self.draft(admin)
            let path = admin.harness.configuration.flowsDirectory + "/tests/odd.yaml"
            let odd = "steps:\n  - event: { kind: history_fetch, at: 2026-11-21T09:00:00Z, user: { id: \"1\" } }\nname: odd order\n"
            try Data(odd.utf8).write(to: URL(fileURLWithPath: path))
            let response = try await erin.post(
                "/admin/flows/try/save-test",
                [("name", Self.greeting), ("content", draft), ("try_kind", "history_fetch"), ("try_user_id", "1"), ("test_file", "odd.yaml")])
            #expect(response.status == .unprocessableContent)
            #expect(response.text.contains("could not add the step to tests/odd.yaml"), "\(response.text.prefix(2000))")
            #expect(FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } == odd, "untouched")
        }
    }
}
