import Flows
import Foundation
import Hummingbird
import Storage

/// `GET /admin/traces` (editors and admins): "why didn't it fire?". The run traces, newest
/// first, filtered by flow, user, result, trigger and time, through the same
/// `ReplyflowDatabase.traces` as `replyflow traces`; each row links to its chat and to its
/// flow's editor. Bad filter values are a 400 page saying what would do.
struct TracesRoutes<Context: AdminRequestContext>: Sendable {
    let reads: any PanelReads
    let engine: FlowEngine
    let pages: AdminPages
    let timeZone: TimeZone
    let clock: @Sendable () -> Date

    func addRoutes(to editors: RouterGroup<Context>) {
        editors.get("traces") { request, context in try await page(request, context: context) }
    }

    func page(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        let now = clock()
        let filters = try TracesRequest(request, now: now, timeZone: timeZone)
        let page = try await reads.traces(filters.query)
        let running = engine.flowSet.flows
        let view = TracesView(time: DisplayTime(timeZone: timeZone, now: now), flowFiles: FlowFileName.files(of: running))
        var values: [String: Any] = [
            "form": TracesView.form(filters, flows: running.map(\.name)), "rows": page.rows.map(view.row), "zone": timeZone.identifier,
            "empty": filters.isFiltered ? "No traces match these filters." : "No traces yet: they appear as the server handles events.",
            "stopped": page.stoppedScanning, "scanLimit": TraceQuery.scanLimit.formatted(),
        ]
        if let older = page.older { values["olderHref"] = filters.href(before: older) }
        if filters.query.before != nil { values["newestHref"] = filters.href() }
        return try pages.render("traces", title: "Traces", context: values, session: session)
    }
}
