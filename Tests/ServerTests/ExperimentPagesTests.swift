import Flows
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@testable import Server
import TestSupport

/// The experiment pages at the router: the same numbers as `replyflow experiments report`
/// (one `ExperimentResult`), the interval bar and the daily chart drawn where the numbers
/// say, the sample-ratio banner only on a skewed split, the flow versions that ran, roles
/// and bad keys.
@Suite("Admin: the experiment pages", .machineShare)
struct ExperimentPagesTests {
    static let key = "greeting-panel"

    static let flows = [
        "greeting.yaml": """
            name: Daily greeting
            on: history_first_fetch_today
            experiment:
              key: greeting-panel
              goal: { on: app_message, within: 24h }
              variants:
                - name: formal
                  weight: 50
                  do:
                    - greet: "Здравствуйте!"
                - name: warm
                  weight: 50
                  do:
                    - greet: "Привет!"

            """,
        "skewed.yaml": """
            name: Skewed
            on: app_message
            experiment:
              key: skewed-split
              variants:
                - name: a
                  weight: 50
                  do:
                    - reply: "A"
                - name: b
                  weight: 50
                  do:
                    - reply: "B"

            """,
    ]

    static func run(_ body: @escaping @Sendable (ReplyflowServer.ServerApp, PanelBrowser) async throws -> Void) async throws {
        let admin = try AdminHarness(flows: flows)
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["erin": .editor, "sam": .agent], to: app.database)
        try await app.application.test(.router) { client in
            let erin = PanelBrowser(client)
            try await erin.logIn("erin")
            try await body(app, erin)
        }
    }

    /// 80 users see the greeting over two days; every third converts within the hour.
    static func seed(_ app: ReplyflowServer.ServerApp, start: Date) async throws {
        for index in 0..<80 {
            let at = start.addingTimeInterval(Double(index / 40) * 86_400 + Double(index) * 60)
            _ = try await app.engine.handle(InboundEvent(kind: .historyFetch, at: at, userID: "u\(index)"))
            if index % 3 == 0 {
                _ = try await app.engine.handle(InboundEvent(kind: .appMessage, at: at.addingTimeInterval(600), userID: "u\(index)", text: "hi"))
            }
        }
    }

    @Test("the list and the page show the report's numbers, the interval bar, the daily chart and the versions that ran")
    func pageShowsTheReport() async throws {
        try await Self.run { app, erin in
            let start = Date().addingTimeInterval(-3 * 86_400)
            try await Self.seed(app, start: start)
            _ = try await app.database.recordFlowVersions(
                [.init(file: "greeting.yaml", change: .save, content: "x", contentHash: "h", comment: "warmer words", author: "erin")],
                at: start.addingTimeInterval(86_400))

            let list = try await erin.get("/admin/experiments")
            #expect(list.status == .ok)
            #expect(list.text.contains(#"<a href="/admin/experiments/greeting-panel">greeting-panel</a>"#))
            #expect(list.text.contains(#"<a href="/admin/flows/greeting.yaml">Daily greeting</a>"#))
            #expect(list.text.contains(#"href="/admin/experiments""#), "the Experiments link in the navigation")

            let page = try await erin.get("/admin/experiments/greeting-panel")
            #expect(page.status == .ok, "\(page.text.prefix(1000))")
            let text = page.text
            // The same computation as `replyflow experiments report`, from the same tables.
            let queries = StateQueries(database: app.database)
            let result = try #require(
                try ExperimentResult.all(flows: app.engine.flowSet, storedKeys: try queries.experimentKeys()) {
                    try queries.experimentCounts(experiment: $0)
                }.first { $0.key == Self.key })
            #expect(result.variants.map(\.exposures).reduce(0, +) == 80)
            for (index, row) in result.rows.enumerated() {
                let comparison = row.comparison
                #expect(text.contains("<td>\(comparison.name)</td><td>50%</td><td>\(comparison.exposures)</td><td>\(comparison.conversions)</td><td>\(ExperimentView.percent(comparison.rate))</td>"), "row \(index)")
            }
            let second = result.rows[1]
            if let interval = second.interval95, let difference = second.comparison.difference {
                #expect(text.contains("[\(ExperimentView.points(interval.lowerBound)), \(ExperimentView.points(interval.upperBound))]"))
                #expect(text.contains(#"<svg class="interval-bar""#))
                let bar = ExperimentCharts.intervalBar(
                    difference: difference, interval: interval, direction: second.direction,
                    halfWidth: ExperimentCharts.axisHalfWidth([(difference, interval)]))
                #expect(text.contains(#"<circle class="point \#(bar.tone)" cx="\#(bar.pointX)""#), "the point where the difference is")
            } else {
                Issue.record("80 users with 27 conversions should be enough for an interval: \(second)")
            }
            #expect(text.contains("not significant yet") || text.contains("significantly"))
            #expect(!text.contains("Sample ratio mismatch"), "a fair split has no banner")
            #expect(text.contains("Sample ratio OK"))
            #expect(text.contains("a user converts when app_message happens within 1 day of their first exposure"))
            // Two days of exposures, one line per variant.
            #expect(text.components(separatedBy: #"<polyline class="series"#).count - 1 == 2)
            #expect(text.contains("<h2>Users first exposed per day</h2>"))
            #expect(text.contains("by erin") && text.contains("warmer words"), "the version saved during the experiment")
        }
    }

    @Test("a split that does not follow the weights shows the sample-ratio banner")
    func mismatchBanner() async throws {
        try await Self.run { app, erin in
            let now = Date().timeIntervalSince1970
            try await app.database.writer.write { db in
                for index in 0..<300 {
                    try db.execute(
                        sql: "INSERT INTO experiment_exposures (experiment, user_id, variant, first_at, exposure_count) VALUES (?, ?, ?, ?, 1)",
                        arguments: ["skewed-split", "s\(index)", index < 240 ? "a" : "b", now - Double(index)])
                }
            }
            let page = try await erin.get("/admin/experiments/skewed-split")
            #expect(page.status == .ok)
            #expect(page.text.contains(#"<p class="banner-warning" role="alert"><strong>Sample ratio mismatch</strong>"#))
            let list = try await erin.get("/admin/experiments")
            #expect(list.text.contains("Sample ratio mismatch: check the assignment before trusting the numbers."))
        }
    }

    @Test("agents are refused; an unknown or odd key is a 404 page, never a 500")
    func rolesAndBadKeys() async throws {
        try await Self.run { _, erin in
            let sam = PanelBrowser(erin.client)
            try await sam.logIn("sam")
            #expect(try await sam.get("/admin/experiments").status == .forbidden)
            #expect(try await sam.get("/admin/experiments/greeting-panel").status == .forbidden)
            for key in ["nope", "%3Cscript%3E", String(repeating: "k", count: 500), "a%2Fb"] {
                let response = try await erin.get("/admin/experiments/\(key)")
                #expect(response.status == .notFound, "key \(key.prefix(20))")
                #expect(!response.text.contains("<script>"))
            }
            // Declared but with no exposures yet: a page that says so.
            let empty = try await erin.get("/admin/experiments/greeting-panel")
            #expect(empty.status == .ok)
            #expect(empty.text.contains("No exposures yet."))
        }
    }

    @Test("the interval bar sits where the numbers say on a shared axis, coloured only when clear")
    func intervalBarGeometry() {
        let halfWidth = ExperimentCharts.axisHalfWidth([(0.05, 0.0...0.1)])
        #expect(abs(halfWidth - 0.11) < 1e-9)
        let bar = ExperimentCharts.intervalBar(difference: 0.05, interval: 0.0...0.1, direction: 1, halfWidth: 0.1)
        #expect(bar == ExperimentCharts.IntervalBar(zeroX: 130, fromX: 130, toX: 250, pointX: 190, tone: "better"))
        #expect(ExperimentCharts.intervalBar(difference: -0.2, interval: -0.3 ... -0.1, direction: -1, halfWidth: 0.1).fromX == 10, "clamped to the axis")
        #expect(ExperimentCharts.intervalBar(difference: 0.01, interval: -0.02...0.04, direction: 0, halfWidth: 0.1).tone == "unclear")
        let lines = ExperimentCharts.dailyLines(days: ["2026-11-20", "2026-11-21"], counts: ["a": [2, 4]], variants: ["a", "b"])
        #expect(lines.maximum == 4)
        #expect(lines.series.map(\.points) == ["40.0,83.0 630.0,10.0", "40.0,156.0 630.0,156.0"], "plot 146 high from y 10: 2 of 4 is halfway, a missing variant lies on the axis")
    }
}
