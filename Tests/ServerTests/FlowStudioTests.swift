import Flows
import Foundation
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@testable import Server
import TestSupport

/// The flow studio at the router: who may use it, the live check, saving (refused on
/// errors, failing flow tests and a file changed since it was opened), history, restore,
/// delete and undelete; every change audited and taken up by the running server at once.
@Suite("Admin: the flow studio", .machineShare)
struct FlowStudioTests {
    static let greeting = "daily-greeting.yaml"

    /// A harness whose flows folder also holds the shipped flow tests.
    static func harness() throws -> AdminHarness {
        let admin = try AdminHarness()
        let tests = admin.harness.configuration.flowsDirectory + "/tests"
        try FileManager.default.copyItem(atPath: ServerHarness.repositoryRoot + "/flows/tests", toPath: tests)
        return admin
    }

    static func run(_ body: @escaping @Sendable (ReplyflowServer.ServerApp, PanelBrowser, AdminHarness) async throws -> Void) async throws {
        let admin = try harness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["erin": .editor, "sam": .agent], to: app.database)
        try await app.application.test(.router) { client in
            let erin = PanelBrowser(client)
            try await erin.logIn("erin")
            try await body(app, erin, admin)
        }
    }

    static func fileText(_ admin: AdminHarness, _ name: String) -> String? {
        FileManager.default.contents(atPath: admin.harness.configuration.flowsDirectory + "/" + name).map { String(decoding: $0, as: UTF8.self) }
    }

    static func hash(in html: String) -> String? {
        guard let range = html.range(of: #"name="base_hash" value=""#) else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    @Test("agents are refused; editors see every flow with its trigger, check status and runs")
    func rolesAndList() async throws {
        try await Self.run { app, erin, _ in
            let sam = PanelBrowser(erin.client)
            try await sam.logIn("sam")
            #expect(try await sam.get("/admin/flows").status == .forbidden)
            #expect(try await sam.get("/admin/flows/\(Self.greeting)").status == .forbidden)
            #expect(try await sam.post("/admin/api/flows/check", [("name", "x.yaml"), ("content", "name: x")]).status == .forbidden)
            #expect(!(try await sam.get("/admin")).text.contains(#"href="/admin/flows""#), "no Flows link for an agent")

            let list = try await erin.get("/admin/flows")
            #expect(list.status == .ok)
            for flow in app.engine.flowSet.flows {
                #expect(list.text.contains(">\(flow.name)<"), "the list shows \(flow.name)")
            }
            #expect(list.text.contains("history_first_fetch_today"))
            #expect(list.text.contains("✓ valid"))
            #expect(list.text.contains(#"href="/admin/flows""#), "the nav links the flows for an editor")
        }
    }

    @Test("the live check is the checker's: a misspelt action is an error at its line with the did-you-mean")
    func liveCheck() async throws {
        try await Self.run { _, erin, _ in
            let draft = "name: Hello\non: app_message\ndo:\n  - replly: \"Hi\"\n"
            let checked = try await erin.post("/admin/api/flows/check", [("name", "hello.yaml"), ("content", draft)])
            #expect(checked.status == .ok)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(checked.text.utf8)) as? [String: Any])
            let diagnostics = try #require(json["diagnostics"] as? [[String: Any]])
            let first = try #require(diagnostics.first)
            #expect(first["line"] as? Int == 4)
            #expect(first["file"] as? String == "hello.yaml")
            #expect(first["severity"] as? String == "error")
            #expect((first["hint"] as? String ?? "").contains("reply"), "did you mean 'reply'?: \(first)")
            // The same words as `replyflow check` for the same text.
            let loaded = FlowLoader.load(files: [("hello.yaml", Data(draft.utf8))])
            #expect(loaded.diagnostics.first?.message == first["message"] as? String)

            let notYAML = try await erin.post("/admin/api/flows/check", [("name", "hello.yaml"), ("content", "name: [unclosed\n\t- {")])
            #expect(notYAML.status == .ok)
            #expect(notYAML.text.contains("\"severity\":\"error\""))
            let badName = try await erin.post("/admin/api/flows/check", [("name", "../etc/passwd"), ("content", "name: x")])
            #expect(badName.status == .badRequest)
            #expect(badName.text.contains("not a flow file name"))
            let huge = try await erin.post("/admin/api/flows/check", [("name", "big.yaml"), ("content", String(repeating: "# padding\n", count: 110_000))])
            #expect(huge.status == .contentTooLarge)
        }
    }

    @Test("a valid save writes the file, records the old and new versions, is audited, and runs at once")
    func save() async throws {
        try await Self.run { app, erin, admin in
            let before = try #require(Self.fileText(admin, Self.greeting))
            let editor = try await erin.get("/admin/flows/\(Self.greeting)")
            #expect(editor.status == .ok)
            let hash = try #require(Self.hash(in: editor.text))
            let changed = before.replacingOccurrences(of: "description: Greet the user", with: "description: Say hello to the user")
            let saved = try await erin.post(
                "/admin/flows/\(Self.greeting)",
                [("content", changed.replacingOccurrences(of: "\n", with: "\r\n")), ("base_hash", hash), ("comment", "friendlier")])
            #expect(saved.status == .seeOther, "\(saved.text.prefix(2000))")
            #expect(Self.fileText(admin, Self.greeting) == changed, "CRLF from the browser is stored as LF")
            #expect(app.engine.flowSet.flows.contains { $0.description == "Say hello to the user on the first history fetch of the day." })
            let versions = try await app.database.flowVersions(of: Self.greeting)
            #expect(versions.map(\.change) == [.save, .outside])
            #expect(versions[0].author == "erin" && versions[0].comment == "friendlier")
            #expect(versions[1].content == before, "the file as it was before the panel first changed it")
            let audit = try await app.database.auditEntries(page: 1, limit: 5)
            #expect(audit.contains { $0.action == "flow saved" && $0.actor == "erin" && $0.detail.hasPrefix(Self.greeting) })
            let list = try await erin.get("/admin/flows")
            #expect(list.text.contains("by erin"))
        }
    }

    @Test("a draft with an error, or one that breaks a flow test, is refused with why; nothing is written")
    func refusedSaves() async throws {
        try await Self.run { app, erin, admin in
            let before = try #require(Self.fileText(admin, Self.greeting))
            let hash = try #require(Self.hash(in: try await erin.get("/admin/flows/\(Self.greeting)").text))
            let broken = before.replacingOccurrences(of: "  - greet:", with: "  - greeet:")
            let refused = try await erin.post("/admin/flows/\(Self.greeting)", [("content", broken), ("base_hash", hash)])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("not saved: 1 error"))
            #expect(refused.text.contains("greeet"), "the draft is shown again with the error")
            #expect(Self.fileText(admin, Self.greeting) == before)

            let differentGreeting = before.replacingOccurrences(of: "Здравствуйте", with: "Добрый день")
            let failing = try await erin.post("/admin/flows/\(Self.greeting)", [("content", differentGreeting), ("base_hash", hash)])
            #expect(failing.status == .unprocessableContent)
            #expect(failing.text.contains("would fail"))
            #expect(failing.text.contains("greeting.yaml:"), "the failing test's file and line")
            #expect(failing.text.contains("Добрый день, Анна!"), "what the draft would do")
            #expect(Self.fileText(admin, Self.greeting) == before)
            #expect(try await app.database.flowVersions(of: Self.greeting).isEmpty)
            let audit = try await app.database.auditEntries(page: 1, limit: 5)
            #expect(audit.filter { $0.action == "flow save refused" }.count == 2)
        }
    }

    @Test("a file changed on disk since the editor opened it is shown beside the draft; saving again is deliberate")
    func conflict() async throws {
        try await Self.run { _, erin, admin in
            let path = admin.harness.configuration.flowsDirectory + "/" + Self.greeting
            let before = try #require(Self.fileText(admin, Self.greeting))
            let hash = try #require(Self.hash(in: try await erin.get("/admin/flows/\(Self.greeting)").text))
            let byHand = before.replacingOccurrences(of: "priority: 10", with: "priority: 11")
            try byHand.write(toFile: path, atomically: true, encoding: .utf8)
            let mine = before.replacingOccurrences(of: "priority: 10", with: "priority: 12")
            let conflict = try await erin.post("/admin/flows/\(Self.greeting)", [("content", mine), ("base_hash", hash)])
            #expect(conflict.status == .conflict)
            #expect(conflict.text.contains("changed by someone else"))
            #expect(conflict.text.contains("priority: 11"), "theirs is shown")
            #expect(Self.fileText(admin, Self.greeting) == byHand)
            let newHash = try #require(Self.hash(in: conflict.text))
            #expect(newHash == FlowFile.hash(byHand))
            let again = try await erin.post("/admin/flows/\(Self.greeting)", [("content", mine), ("base_hash", newHash)])
            #expect(again.status == .seeOther)
            #expect(Self.fileText(admin, Self.greeting) == mine)
        }
    }

    @Test("history lists versions with diffs; restore puts one back after keeping the current file; bad versions are 404")
    func historyAndRestore() async throws {
        try await Self.run { app, erin, admin in
            let original = try #require(Self.fileText(admin, Self.greeting))
            let hash = try #require(Self.hash(in: try await erin.get("/admin/flows/\(Self.greeting)").text))
            let changed = original.replacingOccurrences(of: "priority: 10", with: "priority: 3")
            #expect(try await erin.post("/admin/flows/\(Self.greeting)", [("content", changed), ("base_hash", hash)]).status == .seeOther)
            let versions = try await app.database.flowVersions(of: Self.greeting)
            let originalVersion = try #require(versions.first { $0.change == .outside })

            let history = try await erin.get("/admin/flows/\(Self.greeting)/history")
            #expect(history.status == .ok)
            #expect(history.text.contains("erin") && history.text.contains("outside the panel"))
            let diff = try await erin.get("/admin/flows/\(Self.greeting)/diff?from=\(originalVersion.id)&to=current")
            #expect(diff.status == .ok)
            #expect(diff.text.contains("1 line(s) added, 1 removed"))
            #expect(diff.text.contains(#"<tr class="diff-removed">"#) && diff.text.contains("priority: 10"))
            #expect(try await erin.get("/admin/flows/\(Self.greeting)/diff?from=999999&to=current").status == .notFound)
            #expect(try await erin.get("/admin/flows/\(Self.greeting)/diff").status == .badRequest)

            let restored = try await erin.post("/admin/flows/\(Self.greeting)/restore", [("version", String(originalVersion.id))])
            #expect(restored.status == .seeOther)
            #expect(Self.fileText(admin, Self.greeting) == original)
            #expect(app.engine.flowSet.flows.contains { $0.file.hasSuffix(Self.greeting) && $0.priority == 10 })
            #expect(try await app.database.flowVersions(of: Self.greeting).first?.change == .restore)
            #expect(try await erin.post("/admin/flows/\(Self.greeting)/restore", [("version", "424242")]).status == .notFound)
            #expect(try await erin.post("/admin/flows/\(Self.greeting)/restore", [("version", "x")]).status == .badRequest)
            #expect(try await app.database.auditEntries(page: 1, limit: 10).contains { $0.action == "flow restored" })
        }
    }

    @Test("delete keeps the history and can be undone; the last flow cannot be deleted")
    func deleteAndUndelete() async throws {
        try await Self.run { app, erin, admin in
            // The greeting has a flow test: deleting it would make the test fail.
            let refused = try await erin.post("/admin/flows/\(Self.greeting)/delete")
            #expect(refused.status == .unprocessableContent)
            #expect(Self.fileText(admin, Self.greeting) != nil)
            #expect(
                refused.text.contains("greeting.yaml:3: step 1 would do nothing, the test expects greet: "),
                "the failing test is named: \(refused.text.prefix(3000))")

            let extra = "extra.yaml", content = "name: Extra\non: app_message\nenabled: false\ndo:\n  - push: { title: Hi, text: \"{{message.text}}\" }\n"
            try content.write(toFile: admin.harness.configuration.flowsDirectory + "/" + extra, atomically: true, encoding: .utf8)
            let deleted = try await erin.post("/admin/flows/\(extra)/delete")
            #expect(deleted.status == .seeOther, "\(deleted.text.prefix(1500))")
            #expect(Self.fileText(admin, extra) == nil)
            #expect(!app.engine.flowSet.flows.contains { $0.name == "Extra" }, "the running set has it no more")
            let list = try await erin.get("/admin/flows")
            #expect(list.text.contains("Deleted flows") && list.text.contains("/admin/flows/\(extra)/undelete"))
            #expect(try await erin.get("/admin/flows/\(extra)").status == .notFound)
            #expect(try await erin.get("/admin/flows/\(extra)/history").text.contains("This flow is deleted."))

            let undeleted = try await erin.post("/admin/flows/\(extra)/undelete")
            #expect(undeleted.status == .seeOther)
            #expect(Self.fileText(admin, extra) == content)
            #expect(app.engine.flowSet.flows.contains { $0.name == "Extra" })
            #expect(try await erin.post("/admin/flows/\(extra)/undelete").status == .conflict)
            #expect(try await erin.post("/admin/flows/nothing-here.yaml/delete").status == .notFound)
            #expect(try await app.database.auditEntries(page: 1, limit: 10).contains { $0.action == "flow deleted" && $0.detail == extra })
        }

        // One flow left: deleting it would leave the server nothing to run.
        let admin = try AdminHarness(flows: ["only.yaml": "name: Only\non: app_message\ndo:\n  - forward_to_group: {}\n"])
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["erin": .editor], to: app.database)
        try await app.application.test(.router) { client in
            let erin = PanelBrowser(client)
            try await erin.logIn("erin")
            let refused = try await erin.post("/admin/flows/only.yaml/delete")
            #expect(refused.status == .conflict)
            #expect(refused.text.contains("last flow"))
            #expect(Self.fileText(admin, "only.yaml") != nil)
        }
    }

    @Test("every starter is a valid flow beside the shipped ones, and a new flow is created from one")
    func newFlows() async throws {
        try await Self.run { app, erin, admin in
            for starter in FlowStarters.all {
                let page = try await erin.get("/admin/flows/new?starter=\(starter.id)")
                #expect(page.status == .ok)
                #expect(page.text.contains("No problems found."), "\(starter.id) checks clean")
            }
            let starter = try #require(FlowStarters.starter(id: "keyword"))
            let created = try await erin.post("/admin/flows", [("name", starter.fileName), ("content", starter.content), ("comment", "new")])
            #expect(created.status == .seeOther, "\(created.text.prefix(1500))")
            #expect(Self.fileText(admin, starter.fileName) == starter.content)
            #expect(app.engine.flowSet.flows.contains { $0.name == "Delivery question" })
            let again = try await erin.post("/admin/flows", [("name", starter.fileName), ("content", starter.content)])
            #expect(again.status == .conflict)
            #expect(again.text.contains("already exists"))
            let bad = try await erin.post("/admin/flows", [("name", "../x.yaml"), ("content", starter.content)])
            #expect(bad.status == .badRequest)
            // The next new flow from the same starter gets a name of its own.
            #expect(try await erin.get("/admin/flows/new?starter=keyword").text.contains("keyword-reply-2.yaml"))
        }
    }

    @Test("two saves from the same opened file: one wins, the other is told; the file is always whole")
    func racingSaves() async throws {
        try await Self.run { _, erin, admin in
            let original = try #require(Self.fileText(admin, Self.greeting))
            let hash = try #require(Self.hash(in: try await erin.get("/admin/flows/\(Self.greeting)").text))
            let drafts = (1...4).map { original.replacingOccurrences(of: "priority: 10", with: "priority: \(20 + $0)") }
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for draft in drafts {
                    let browser = erin.copy()
                    group.addTask { try await browser.post("/admin/flows/\(Self.greeting)", [("content", draft), ("base_hash", hash)]).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .seeOther }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == .conflict }.count == 3, "\(statuses)")
            #expect(drafts.contains(Self.fileText(admin, Self.greeting) ?? ""))
        }
    }

    @Test("try it runs one event through the draft as dry-run does, sends and stores nothing, and explains a bad event")
    func tryTheDraft() async throws {
        try await Self.run { app, erin, admin in
            let original = try #require(Self.fileText(admin, Self.greeting))
            let draft = original.replacingOccurrences(of: "Здравствуйте", with: "Добрый день")
            let fields: [(String, String)] = [
                ("name", Self.greeting), ("content", draft), ("try_kind", "history_fetch"), ("try_user_id", "42"), ("try_user_name", "Анна"),
                ("try_at", "2026-11-21T09:00"), ("try_timezone", "Europe/Moscow"),
            ]
            let tried = try await erin.post("/admin/flows/try", fields)
            #expect(tried.status == .ok, "\(tried.text.prefix(1500))")
            #expect(tried.text.contains("history_first_fetch_today"))
            #expect(tried.text.contains("<code>greet</code>: Добрый день, Анна!"), "the draft's greeting, rendered")
            #expect(tried.text.contains("Добрый день{{#user.name}}"), "the draft stays in the editor")
            #expect(Self.fileText(admin, Self.greeting) == original, "nothing saved")
            #expect(try await app.database.flowVersions(of: Self.greeting).isEmpty)

            // The same outcome as `replyflow dry-run --json` computes for the same event.
            let loaded = FlowLoader.load(files: [(Self.greeting, Data(draft.utf8))])
            let event = #"{"kind": "history_fetch", "at": "2026-11-21T09:00:00+03:00", "user": {"id": "42", "name": "Анна"}}"#
            let (outcome, _) = try await TryIt.run(event, flows: try #require(loaded.flowSet), timeZone: TimeZone(identifier: "UTC")!, autoModeDefault: true)
            #expect(outcome?.json.actions.map(\.text) == ["Добрый день, Анна!"])

            let pasted = try await erin.post(
                "/admin/flows/try",
                [
                    ("name", Self.greeting), ("content", original),
                    ("try_event", "kind: history_first_fetch_today\nat: 2026-11-21T09:00:00+03:00\nuser: { id: \"1\" }\n"),
                ])
            #expect(pasted.status == .unprocessableContent)
            #expect(
                pasted.text.contains("did you mean &#39;history_fetch&#39;") || pasted.text.contains("did you mean 'history_fetch'"),
                "\(pasted.text.prefix(3000))")

            let broken = try await erin.post("/admin/flows/try", [("name", Self.greeting), ("content", "name: [")])
            #expect(broken.status == .unprocessableContent)
            #expect(broken.text.contains("Fix the errors in the flows first"))
        }
    }

    @Test("the tests page runs the flow tests on the files or on a draft, failures with file, line, expected and actual")
    func testsPage() async throws {
        try await Self.run { _, erin, admin in
            let all = try await erin.get("/admin/flows/tests")
            #expect(all.status == .ok)
            #expect(all.text.contains("5 passed, 0 failed"))
            let original = try #require(Self.fileText(admin, Self.greeting))
            let draft = original.replacingOccurrences(of: "Здравствуйте", with: "Добрый день")
            let failing = try await erin.post("/admin/flows/tests", [("name", Self.greeting), ("content", draft)])
            #expect(failing.status == .unprocessableContent)
            #expect(failing.text.contains("4 passed, 1 failed"))
            #expect(failing.text.contains("<code>greeting.yaml:"), "the failing step's file and line")
            #expect(failing.text.contains("- greet: &quot;Добрый день, Анна!&quot;") || failing.text.contains("Добрый день, Анна!"))
            #expect(!failing.text.contains("()"), "no empty hint or note")
            let broken = try await erin.post("/admin/flows/tests", [("name", Self.greeting), ("content", "name: [")])
            #expect(broken.status == .unprocessableContent)
            #expect(broken.text.contains("daily-greeting.yaml:1:"))
        }
    }

    @Test func lineDiffMarksWhatChanged() {
        let diff = LineDiff(from: "a\nb\nc\n", to: "a\nB\nc\nd\n")
        #expect(diff.lines.map(\.kind) == [.kept, .removed, .added, .kept, .added])
        #expect(diff.lines.map(\.text) == ["a", "b", "B", "c", "d"])
        #expect(diff.lines[1].oldNumber == 2 && diff.lines[2].newNumber == 2)
        #expect(LineDiff(from: "x\n", to: "x\n").lines.allSatisfy { $0.kind == .kept })
    }

    @Test func fileNames() {
        for good in ["greeting.yaml", "after-hours.yml", "a_1.yaml"] { #expect(FlowFileName.isValid(good), "\(good)") }
        for bad in ["../x.yaml", ".hidden.yaml", "Greeting.yaml", "x.txt", "a/b.yaml", "", ".yaml", String(repeating: "a", count: 70) + ".yaml"] {
            #expect(!FlowFileName.isValid(bad), "\(bad)")
        }
        #expect(FlowFileName.suggested(from: "After hours!") == "after-hours.yaml")
    }

    @Test("the side panel lists every trigger, condition, action and template variable the checker knows")
    func referenceCoversTheVocabulary() {
        let names = Set(LanguageReference.sections.flatMap { $0.entries.map(\.name) })
        for name in Vocabulary.triggerNames + Vocabulary.conditionKeys + Vocabulary.actionNames.filter({ $0 != "if" }) + TemplateCatalogue.allNames {
            #expect(names.contains(name), "\(name) is missing from the side panel")
        }
        #expect(LanguageReference.sections.allSatisfy { $0.entries.allSatisfy { !$0.meaning.isEmpty && !$0.example.isEmpty } })
    }
}
