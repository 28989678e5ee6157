import Flows
import Foundation
import Hummingbird
import Storage

/// `GET /admin/experiments` and `/admin/experiments/:key` (editors and admins): each
/// experiment's numbers as `replyflow experiments report` computes them (`ExperimentResult`),
/// the difference with its interval drawn as a bar, the sample-ratio check as a banner,
/// exposures per day as a chart, the goal, and the flow versions that ran meanwhile.
struct ExperimentRoutes<Context: AdminRequestContext>: Sendable {
    let reads: any PanelReads
    let versions: any FlowVersionStore
    let engine: FlowEngine
    let pages: AdminPages
    let timeZone: TimeZone
    let clock: @Sendable () -> Date

    func addRoutes(to editors: RouterGroup<Context>) {
        editors.get("experiments") { request, context in try await list(request, context: context) }
        editors.get("experiments/:key") { request, context in try await experiment(request, context: context) }
    }

    /// Every experiment of the running flows, then those only the database remembers.
    private func results() async throws -> [ExperimentResult] {
        let stored = try await reads.experimentCounts()
        return ExperimentResult.all(flows: engine.flowSet, storedKeys: stored.keys) { stored.counts[$0] ?? [:] }
    }

    func list(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        let view = ExperimentView(time: DisplayTime(timeZone: timeZone, now: clock()))
        let files = FlowFileName.files(of: engine.flowSet.flows)
        let rows = try await results().map { view.listRow($0, files: files) }
        return try pages.render("experiments", title: "Experiments", context: ["experiments": rows, "none": rows.isEmpty], session: session)
    }

    func experiment(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.editor)
        let key = context.parameters.get("key") ?? ""
        guard key.count <= 200, let result = try await results().first(where: { $0.key == key }) else {
            throw AdminError(.notFound, "There is no experiment '\(key.prefix(80))': no flow declares it and no exposures are stored.")
        }
        let files = FlowFileName.files(of: engine.flowSet.flows)
        let daily = try await reads.dailyExposures(experiment: key, timeZone: timeZone)
        var versions: [FlowVersion]?
        var file: String?
        if case .flow(let name) = result.flow, let flowFile = files[name] {
            file = flowFile
            if let daily {
                versions = ExperimentView.versionsLive(try await self.versions.flowVersions(of: flowFile), from: daily.first, to: daily.last)
            }
        }
        let view = ExperimentView(time: DisplayTime(timeZone: timeZone, now: clock()))
        let values = view.page(result, files: files, daily: daily, versions: versions, file: file)
        return try pages.render("experiment", title: "\(key) · Experiments", context: values, session: session)
    }
}
