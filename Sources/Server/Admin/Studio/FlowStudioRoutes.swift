import Flows
import Foundation
import Hummingbird
import Storage

/// The flow studio's pages under `/admin/flows` (editors and admins): the list of flows,
/// the editor with its live check, saving, history with diffs, restore, delete and
/// undelete. Every change goes through `FlowStudio`; each one (and each refused save) is
/// in the audit log.
struct FlowStudioRoutes<Context: AdminRequestContext> {
    let studio: FlowStudio
    let reads: any PanelReads
    let versions: any FlowVersionStore
    let pages: AdminPages
    let auditor: AdminAuditor
    let timeZone: TimeZone
    let clock: @Sendable () -> Date

    func addRoutes(to editors: RouterGroup<Context>) {
        editors.get("flows") { request, context in try await list(request, context: context) }
        editors.post("flows") { request, context in try await create(request, context: context) }
        editors.get("flows/new") { request, context in try await newFlow(request, context: context) }
        editors.post("flows/try") { request, context in try await tryDraft(request, context: context) }
        editors.post("flows/try/save-test") { request, context in try await saveTest(request, context: context) }
        editors.post("flows/compare") { request, context in try await compareDraft(request, context: context) }
        editors.get("flows/tests") { request, context in try await tests(request, context: context) }
        editors.post("flows/tests") { request, context in try await tests(request, context: context) }
        editors.post("api/flows/check") { request, context in try await check(request, context: context) }
        editors.get("flows/:file") { request, context in try await edit(request, context: context) }
        editors.post("flows/:file") { request, context in try await save(request, context: context) }
        editors.get("flows/:file/history") { request, context in try await history(request, context: context) }
        editors.get("flows/:file/diff") { request, context in try await diff(request, context: context) }
        editors.post("flows/:file/restore") { request, context in try await restore(request, context: context) }
        editors.post("flows/:file/delete") { request, context in try await delete(request, context: context) }
        editors.post("flows/:file/undelete") { request, context in try await undelete(request, context: context) }
    }

    /// Fixed sentences for `?done=` after a change, so a link cannot put words on the page.
    static var notices: [String: String] {
        [
            "saved": "Saved. The server runs the new version now.", "restored": "Restored. The server runs this version now.",
            "undeleted": "Brought back. The server runs it again.", "deleted": "Deleted. Its history is kept: it can be brought back below.",
        ]
    }

    // MARK: The list

    func list(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        let time = DisplayTime(timeZone: timeZone, now: clock())
        let files = try studio.files()
        let loaded = FlowLoader.load(files: files.map { (studio.directory + "/" + $0.name, Optional(Data($0.content.utf8))) })
        let counts = try await reads.flowRunCounts(since: clock().addingTimeInterval(-7 * 86_400))
        let latest = try await versions.latestFlowVersions()
        let rows = files.map { file -> [String: Any] in
            let (flow, _) = FlowLoader.loadFlow(data: Data(file.content.utf8), file: file.name)
            let problems = loaded.diagnostics.filter { ($0.location.file as NSString).lastPathComponent == file.name }
            let errors = problems.filter { $0.severity == .error }.count
            var row: [String: Any] = [
                "file": file.name, "name": flow?.name ?? file.name, "description": flow?.description ?? "",
                "triggers": flow?.triggers.map(\.rawValue).joined(separator: ", ") ?? "", "priority": flow.map { String($0.priority) } ?? "",
                "enabled": flow?.enabled ?? false, "errors": errors, "warnings": problems.count - errors, "ok": problems.isEmpty,
                "ran": counts[flow?.name ?? ""]?.ran ?? 0, "skipped": counts[flow?.name ?? ""]?.skipped ?? 0,
            ]
            if let flow { row["tracesHref"] = TracesRequest.href(flow: flow.name) }
            if let version = latest[file.name] {
                row["changedBy"] = version.author
                row["changedAt"] = time.short(version.createdAt)
                row["changedAtFull"] = time.full(version.createdAt)
            }
            return row
        }
        let onDisk = Set(files.map(\.name))
        let deleted = latest.values.filter { $0.change == .delete && !onDisk.contains($0.file) }.sorted { $0.file < $1.file }
            .map { ["file": $0.file, "by": $0.author, "at": time.short($0.createdAt)] }
        var values: [String: Any] = [
            "flows": rows, "deleted": deleted, "hasDeleted": !deleted.isEmpty, "starters": FlowStarters.all.map { ["id": $0.id, "title": $0.title] },
            "setHasErrors": loaded.hasErrors,
        ]
        if let notice = request.uri.queryParameters.get("done").flatMap({ Self.notices[String($0)] }) { values["notice"] = notice }
        return try pages.render("flows", title: "Flows", context: values, session: session)
    }

    // MARK: The editor

    func newFlow(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        let starter = request.uri.queryParameters.get("starter").flatMap { FlowStarters.starter(id: String($0)) } ?? FlowStarters.all[0]
        var name = starter.fileName
        var counter = 2
        while try studio.file(named: name) != nil {
            name = FlowFileName.stem(of: starter.fileName)! + "-\(counter).yaml"
            counter += 1
        }
        let draft = EditorDraft(file: name, content: starter.content, baseHash: nil, comment: "new flow from “\(starter.title)”")
        return try await editor(draft, session: session, isNew: true)
    }

    func edit(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        let name = try fileName(context)
        guard let file = try studio.file(named: name) else { throw AdminError(.notFound, StudioError.noSuchFile(name).description) }
        var values: [String: Any] = [:]
        if let notice = request.uri.queryParameters.get("done").flatMap({ Self.notices[String($0)] }) { values["notice"] = notice }
        return try await editor(EditorDraft(file: name, content: file.content, baseHash: file.hash, comment: ""), session: session, extra: values)
    }

    /// The editor page for `draft`, with what the checker says of it.
    func editor(
        _ draft: EditorDraft, session: StaffSession, isNew: Bool = false, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let loaded = try studio.check(draft: draft.content, as: draft.file)
        var values = extra
        values["file"] = draft.file
        values["isNew"] = isNew
        values["content"] = draft.content
        values["baseHash"] = draft.baseHash ?? ""
        values["comment"] = draft.comment
        values["lineNumbers"] = (1...max(1, draft.content.split(separator: "\n", omittingEmptySubsequences: false).count)).map(String.init)
            .joined(separator: "\n")
        values["diagnostics"] = StudioView.diagnostics(loaded.diagnostics, file: draft.file)
        values["checkSummary"] = StudioView.summary(loaded.diagnostics)
        values["reference"] = StudioView.reference
        values["action"] = isNew ? "/admin/flows" : "/admin/flows/\(draft.file)"
        // The traces of the flow the server runs from this file, under the name it runs as.
        if !isNew, let running = studio.engine.flowSet.flows.first(where: { ($0.file as NSString).lastPathComponent == draft.file }) {
            values["tracesHref"] = TracesRequest.href(flow: running.name)
        }
        if values["try"] == nil { values["try"] = TryItForm().values(defaultZone: timeZone) }
        if values["compareDays"] == nil { values["compareDays"] = String(FlowComparisonRun.defaultDays) }
        if values["testFile"] == nil { values["testFile"] = draft.file }
        values["testFiles"] = FlowTestLoader.testFiles(in: studio.directory).map { ($0 as NSString).lastPathComponent }
        return try pages.render(
            "flowEditor", title: "\(draft.file) · Flows", context: values, session: session, status: status, scripts: ["studio.js"])
    }

    /// `POST /admin/api/flows/check` (`name`, `content`): the checker's findings as JSON,
    /// for the editor as the person types.
    func check(_ request: Request, context: Context) async throws -> Response {
        _ = try context.requireStaff(.editor)
        var request = request
        let form = try await AdminForm.read(&request, upTo: AdminForm.maxDraftBytes)
        let name = form.first("name") ?? ""
        let content = StudioView.normalisedNewlines(form.first("content") ?? "")
        let loaded = try checked(EditorDraft(file: name, content: content, baseHash: nil, comment: ""))
        return JSONBody.response(["diagnostics": StudioView.diagnostics(loaded.diagnostics, file: name), "summary": StudioView.summary(loaded.diagnostics)])
    }

    // MARK: Try it

    /// `POST /admin/flows/try`: one event through the draft (with the other files as they
    /// are), nothing sent, nothing stored; the editor again with the outcome.
    func tryDraft(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        var request = request
        let form = try await AdminForm.read(&request, upTo: AdminForm.maxDraftBytes)
        let (draft, isNew) = Self.draft(from: form)
        let tried = try await tryEvent(TryItForm(form), draft: draft)
        return try await editor(draft, session: session, isNew: isNew, extra: tried.values, status: tried.outcome == nil ? .unprocessableContent : .ok)
    }

    // MARK: Tests

    /// The flow tests, against the files as they are (GET) or with the editor's draft in
    /// place of its file (POST `name`, `content`): every test file, passed or not, and each
    /// failure with its file and line, expected against actual.
    func tests(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        var draft: (name: String, content: String)?
        if request.method == .post {
            var request = request
            let form = try await AdminForm.read(&request, upTo: AdminForm.maxDraftBytes)
            draft = (form.first("name") ?? "", StudioView.normalisedNewlines(form.first("content") ?? ""))
        }
        let (loaded, suite): (FlowLoadResult, FlowTestSuiteResult?)
        do {
            (loaded, suite) = try await studio.runTests(draft: draft)
        } catch let error as StudioError {
            throw AdminError(StudioView.status(of: error), error.description)
        }
        var values: [String: Any] = ["draftFile": draft?.name ?? ""]
        if let suite {
            values["files"] = suite.files.map { file -> [String: Any] in
                let name = (file.path as NSString).lastPathComponent
                return [
                    "file": name, "test": file.test?.name ?? name, "passed": file.result?.passed == true,
                    "failures": StudioView.testFailures(FlowTestSuiteResult(files: [file])),
                ]
            }
            values["summary"] = "\(suite.passed) passed, \(suite.failed) failed" + (suite.invalid > 0 ? ", \(suite.invalid) invalid" : "")
            values["noTests"] = suite.files.isEmpty
        } else {
            values["flowErrors"] = StudioView.diagnostics(loaded.diagnostics.filter { $0.severity == .error }, file: draft?.name ?? "")
        }
        let status: HTTPResponse.Status = suite?.allPassed == false || suite == nil ? .unprocessableContent : .ok
        return try pages.render("flowTests", title: "Flow tests · Flows", context: values, session: session, status: status)
    }

    // MARK: Changes

    func create(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        var request = request
        let form = try await AdminForm.read(&request, upTo: AdminForm.maxDraftBytes)
        let name = (form.first("name") ?? "").trimmingCharacters(in: .whitespaces)
        let draft = EditorDraft(
            file: name, content: StudioView.normalisedNewlines(form.first("content") ?? ""), baseHash: nil, comment: form.first("comment") ?? "")
        guard FlowFileName.isValid(name) else {
            throw AdminError(.badRequest, StudioError.badName(name).description)
        }
        return try await apply(draft, session: session, request: request, context: context, isNew: true)
    }

    func save(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        let name = try fileName(context)
        var request = request
        let form = try await AdminForm.read(&request, upTo: AdminForm.maxDraftBytes)
        let base = form.first("base_hash") ?? ""
        let draft = EditorDraft(
            file: name, content: StudioView.normalisedNewlines(form.first("content") ?? ""), baseHash: base.isEmpty ? nil : base,
            comment: form.first("comment") ?? "")
        return try await apply(draft, session: session, request: request, context: context, isNew: false)
    }

    /// Saves `draft`, or shows the editor again with why not (and audits the refusal).
    private func apply(_ draft: EditorDraft, session: StaffSession, request: Request, context: Context, isNew: Bool) async throws -> Response {
        do {
            let version = try await studio.save(
                name: draft.file, draft: draft.content, expectedHash: draft.baseHash, comment: draft.comment, author: session.account.username)
            try await auditor.record("flow saved", detail: "\(draft.file) (version \(version.id))", by: session, request: request, context: context)
            return redirect(to: "/admin/flows/\(draft.file)?done=saved")
        } catch let error as StudioError {
            try await auditor.record("flow save refused", detail: "\(draft.file): \(error)", by: session, request: request, context: context)
            var values: [String: Any] = ["error": error.description]
            var shown = draft
            switch error {
            case .changedOnDisk(let theirs):
                values["conflict"] = [
                    "theirs": theirs.content, "diff": StudioView.diffLines(LineDiff(from: theirs.content, to: draft.content)),
                ]
                // Saving again from this page means "mine over theirs", knowingly.
                shown.baseHash = theirs.hash
            case .testsFail(let suite):
                values["testFailures"] = StudioView.testFailures(suite)
                values["hasTestFailures"] = true
            case .badName, .tooLarge, .exists, .deletedOnDisk:
                if case .badName = error { throw AdminError(.badRequest, error.description) }
                if case .tooLarge = error { throw AdminError(.contentTooLarge, error.description) }
            case .invalid, .noSuchFile, .notDeleted, .noSuchVersion, .lastFlow, .cannotWrite, .testNotAppendable:
                break
            }
            return try await editor(shown, session: session, isNew: isNew, extra: values, status: StudioView.status(of: error))
        }
    }

    func restore(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        let name = try fileName(context)
        var request = request
        let form = try await AdminForm.read(&request, upTo: AdminForm.maxDraftBytes)
        guard let id = form.first("version").flatMap(Int64.init) else { throw AdminError(.badRequest, "say which version to restore") }
        let version = try await audited("flow restore refused", name: name, session: session, request: request, context: context) {
            try await studio.restore(name: name, versionID: id, author: session.account.username)
        }
        try await auditor.record("flow restored", detail: "\(name) (version \(id), now version \(version.id))", by: session, request: request, context: context)
        return redirect(to: "/admin/flows/\(name)?done=restored")
    }

    func delete(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        let name = try fileName(context)
        try await audited("flow delete refused", name: name, session: session, request: request, context: context) {
            try await studio.delete(name: name, author: session.account.username)
        }
        try await auditor.record("flow deleted", detail: name, by: session, request: request, context: context)
        return redirect(to: "/admin/flows?done=deleted")
    }

    func undelete(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        let name = try fileName(context)
        try await audited("flow undelete refused", name: name, session: session, request: request, context: context) {
            try await studio.undelete(name: name, author: session.account.username)
        }
        try await auditor.record("flow undeleted", detail: name, by: session, request: request, context: context)
        return redirect(to: "/admin/flows/\(name)?done=undeleted")
    }

    /// Runs a studio change; a refusal is audited as `refusal` and shown as an error page
    /// that says why, with the errors or failing tests behind it.
    @discardableResult
    private func audited<T>(
        _ refusal: String, name: String, session: StaffSession, request: Request, context: Context, _ change: () async throws -> T
    ) async throws -> T {
        do {
            return try await change()
        } catch let error as StudioError {
            try await auditor.record(refusal, detail: "\(name): \(error)", by: session, request: request, context: context)
            throw AdminError(StudioView.status(of: error), ([error.description] + error.details).joined(separator: "\n"))
        }
    }

    // MARK: History

    func history(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        let name = try fileName(context)
        let versions = try await versions.flowVersions(of: name)
        let current = try studio.file(named: name)
        guard current != nil || !versions.isEmpty else { throw AdminError(.notFound, StudioError.noSuchFile(name).description) }
        let time = DisplayTime(timeZone: timeZone, now: clock())
        let rows = versions.enumerated().map { index, version -> [String: Any] in
            var row: [String: Any] = [
                "id": String(version.id), "change": version.change.rawValue, "author": version.author, "comment": version.comment,
                "at": time.short(version.createdAt), "atFull": time.full(version.createdAt), "hasContent": version.content != nil,
                "isCurrent": version.contentHash != nil && version.contentHash == current?.hash,
            ]
            // Against the version before it, when there is one with content.
            if let previous = versions[(index + 1)...].first(where: { $0.content != nil }), version.content != nil {
                row["diffHref"] = "/admin/flows/\(name)/diff?from=\(previous.id)&to=\(version.id)"
            }
            if current != nil, version.content != nil { row["currentDiffHref"] = "/admin/flows/\(name)/diff?from=\(version.id)&to=current" }
            return row
        }
        let values: [String: Any] = [
            "file": name, "versions": rows, "exists": current != nil, "isDeleted": current == nil && versions.first?.change == .delete,
        ]
        return try pages.render("flowHistory", title: "History of \(name) · Flows", context: values, session: session)
    }

    func diff(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        let name = try fileName(context)
        func text(_ which: String?) async throws -> (label: String, content: String) {
            guard let which, !which.isEmpty else { throw AdminError(.badRequest, "say which versions to compare: ?from=ID&to=ID (or to=current)") }
            if which == "current" {
                guard let file = try studio.file(named: name) else { throw AdminError(.notFound, StudioError.noSuchFile(name).description) }
                return ("the file now", file.content)
            }
            guard let id = Int64(which), let version = try await versions.flowVersion(id: id, of: name), let content = version.content else {
                throw AdminError(.notFound, "\(name) has no version \(which.prefix(20)) with content")
            }
            return ("version \(id)", content)
        }
        let from = try await text(request.uri.queryParameters.get("from").map { String($0) })
        let to = try await text(request.uri.queryParameters.get("to").map { String($0) })
        let difference = LineDiff(from: from.content, to: to.content)
        let values: [String: Any] = [
            "file": name, "from": from.label, "to": to.label, "lines": StudioView.diffLines(difference), "added": difference.added,
            "removed": difference.removed, "same": difference.added == 0 && difference.removed == 0,
        ]
        return try pages.render("flowDiff", title: "\(name): \(from.label) → \(to.label)", context: values, session: session)
    }

    private func fileName(_ context: Context) throws -> String {
        let name = context.parameters.get("file") ?? ""
        guard FlowFileName.isValid(name) else { throw AdminError(.notFound, StudioError.badName(name).description) }
        return name
    }
}

/// What the editor shows: a file's draft and what it was opened from.
struct EditorDraft {
    var file: String
    var content: String
    /// The hash of the file as the editor opened it; nil for a new file.
    var baseHash: String?
    var comment: String
}
