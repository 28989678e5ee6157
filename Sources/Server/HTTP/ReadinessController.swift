import Hummingbird
import Storage

/// `GET /ready`: whether this server can do its work now, for load balancers and
/// orchestrators. `/health` (the seed's) says only that the process answers; `/ready`
/// answers 200 only when the database takes writes and flows are loaded, else 503 with
/// the reasons, so traffic goes elsewhere until they are fixed.
struct ReadinessController<Context: RequestContext> {
    let database: any ServerDatabaseStatus
    let engine: FlowEngine
    /// How long the database's answer is awaited; a lock held longer is "not ready".
    var probeTimeout: Duration = .seconds(2)

    func addRoutes(to router: Router<Context>) {
        router.get("/ready", use: ready)
    }

    @Sendable func ready(_ request: Request, context: Context) async throws -> Response {
        var reasons: [String] = []
        if let problem = await databaseProblem() { reasons.append(problem) }
        if engine.flowSet.flows.isEmpty { reasons.append("no flows are loaded: FLOWS_DIR holds no flow files") }
        guard reasons.isEmpty else {
            return JSONBody.response(["status": "not ready", "reasons": reasons], status: .serviceUnavailable)
        }
        return JSONBody.response(["status": "ready"])
    }

    /// The probe cannot be cancelled (it waits inside SQLite), so the answer is whichever
    /// comes first, the probe's or the timeout's; a slow probe finishes on its own.
    private func databaseProblem() async -> String? {
        let database = self.database, timeout = probeTimeout
        return await FirstAnswer.within(timeout, late: "the database did not take a write within \(timeout) (another process holds its lock?)") {
            do {
                try await database.probeWrites()
                return nil
            } catch {
                return "the database does not take writes: \(error)"
            }
        }
    }
}
