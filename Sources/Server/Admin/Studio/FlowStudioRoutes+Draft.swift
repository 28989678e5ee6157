import Flows
import Foundation
import Hummingbird
import Storage

/// The editor's actions on a draft that change no flow: "what would change" on the last
/// days' stored events, and "save as test" for a tried event.
extension FlowStudioRoutes {
    /// The draft the editor sent with a form.
    static func draft(from form: FormQuery) -> (draft: EditorDraft, isNew: Bool) {
        let base = form.first("base_hash") ?? ""
        let draft = EditorDraft(
            file: form.first("name") ?? "", content: StudioView.normalisedNewlines(form.first("content") ?? ""),
            baseHash: base.isEmpty ? nil : base, comment: form.first("comment") ?? "")
        return (draft, form.first("is_new") == "1")
    }

    /// The checker's findings on the set with `draft` in place; a bad name or size as a 4xx.
    func checked(_ draft: EditorDraft) throws -> FlowLoadResult {
        do {
            return try studio.check(draft: draft.content, as: draft.file)
        } catch let error as StudioError {
            throw AdminError(StudioView.status(of: error), error.description)
        }
    }

    /// `POST /admin/flows/compare` (the editor's form and `compare_days`): the stored
    /// inbound events of the last days through the live flows and through the draft, on
    /// scratch state, nothing sent; the editor again with the difference.
    func compareDraft(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        var request = request
        let form = try await AdminForm.read(&request, upTo: AdminForm.maxDraftBytes)
        let (draft, isNew) = Self.draft(from: form)
        let daysText = form.first("compare_days") ?? String(FlowComparisonRun.defaultDays)
        guard let days = Int(daysText.trimmingCharacters(in: .whitespaces)), FlowComparisonRun.days.contains(days) else {
            throw AdminError(
                .badRequest,
                "'\(daysText.prefix(20))' is not a number of days from \(FlowComparisonRun.days.lowerBound) to \(FlowComparisonRun.days.upperBound)")
        }
        var values: [String: Any] = ["compareOpen": true, "compareDays": String(days)]
        guard let flows = try checked(draft).flowSet else {
            values["compareError"] = "Fix the errors in the flows first: a draft with errors cannot run."
            return try await editor(draft, session: session, isNew: isNew, extra: values, status: .unprocessableContent)
        }
        let now = clock()
        let run = FlowComparisonRun(reads: reads, timeZone: timeZone, autoModeDefault: studio.autoModeDefault)
        let outcome = try await run.run(live: studio.engine.flowSet, draft: flows, days: days, now: now)
        values["compared"] = ComparisonView.values(outcome, days: days, time: DisplayTime(timeZone: timeZone, now: now))
        return try await editor(draft, session: session, isNew: isNew, extra: values)
    }

    /// `POST /admin/flows/try/save-test` (the editor's form with the try-it event,
    /// `test_file` and `test_name`): the event through the draft, as "Try the draft" runs
    /// it, then written with what the draft did as a new step of `flows/tests/TEST_FILE`.
    func saveTest(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        var request = request
        let form = try await AdminForm.read(&request, upTo: AdminForm.maxDraftBytes)
        let (draft, isNew) = Self.draft(from: form)
        let testFile = (form.first("test_file") ?? "").trimmingCharacters(in: .whitespaces)
        let testName = String((form.first("test_name") ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))
        guard FlowFileName.isValid(testFile) else { throw AdminError(.badRequest, StudioError.badName(testFile).description) }
        let tried = try await tryEvent(TryItForm(form), draft: draft)
        var values = tried.values
        values["testFile"] = testFile
        if !testName.isEmpty { values["testName"] = testName }
        guard let outcome = tried.outcome, let eventYAML = tried.eventYAML else {
            return try await editor(draft, session: session, isNew: isNew, extra: values, status: .unprocessableContent)
        }
        let step = FlowTestWriter.step(eventYAML: eventYAML, actions: outcome.result.actions)
        do {
            let steps = try await studio.addTestStep(step, toTest: testFile, title: testName, author: session.account.username)
            try await auditor.record(
                "flow test step saved", detail: "tests/\(testFile) (step \(steps))", by: session, request: request, context: context)
            values["notice"] = "Saved as step \(steps) of tests/\(testFile). Saving a flow now checks it."
        } catch let error as StudioError {
            try await auditor.record("flow test step refused", detail: "tests/\(testFile): \(error)", by: session, request: request, context: context)
            values["tryError"] = error.description
            return try await editor(draft, session: session, isNew: isNew, extra: values, status: StudioView.status(of: error))
        }
        return try await editor(draft, session: session, isNew: isNew, extra: values)
    }

    /// What "try it" shows for the form's event through the draft: the page's values, and
    /// the outcome and the event's YAML when the draft and the event are valid.
    func tryEvent(_ tryForm: TryItForm, draft: EditorDraft) async throws -> (values: [String: Any], outcome: TryIt.Outcome?, eventYAML: String?) {
        var values: [String: Any] = ["try": tryForm.values(defaultZone: timeZone), "tryOpen": true]
        guard let flows = try checked(draft).flowSet else {
            values["tryError"] = "Fix the errors in the flows first: a draft with errors cannot run."
            return (values, nil, nil)
        }
        let eventYAML = tryForm.eventYAML(defaultZone: timeZone, now: clock())
        let (outcome, problems) = try await TryIt.run(eventYAML, flows: flows, timeZone: timeZone, autoModeDefault: studio.autoModeDefault)
        values["tryProblems"] = problems.map { problem -> [String: Any] in
            var values: [String: Any] = [
                "where": "\(problem.location.line):\(problem.location.column)", "severity": problem.severity.rawValue, "message": problem.message,
            ]
            if let hint = problem.hint, !hint.isEmpty { values["hint"] = hint }
            return values
        }
        guard let outcome else {
            values["tryError"] = "The event is not valid: see below."
            return (values, nil, nil)
        }
        values["tried"] = StudioView.outcome(outcome.json)
        return (values, outcome, eventYAML)
    }
}
