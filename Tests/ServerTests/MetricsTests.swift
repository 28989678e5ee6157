import AsyncHTTPClient
import Channels
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Server
import TestSupport

@Suite("GET /metrics: Prometheus text through swift-metrics, behind the API key or on its own address", .machineShare)
struct MetricsTests {
    let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    func scrape(_ client: some TestClientProtocol) async throws -> PrometheusText {
        let response = try await client.execute(uri: "/metrics", method: .get, headers: TestPorts().authorized)
        #expect(response.status == .ok)
        #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
        return PrometheusText(String(buffer: response.body))
    }

    @Test("after requests and an app message: requests by route pattern and status, the event's trigger, flow runs, deliveries and the outbox gauges")
    func recordsWhatHappened() async throws {
        let ports = TestPorts()
        try await ports.withServer { app, client in
            let sent = try await client.execute(
                uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "4242", "message": "Здравствуйте"]))
            #expect(sent.status == .ok)
            await app.waitForDeliveries()
            _ = try await client.execute(uri: "/api/chats/4242/messages", method: .get, headers: ports.authorized)
            _ = try await client.execute(uri: "/api/chats/4242/messages", method: .get, headers: ports.authorized)
            _ = try await client.execute(uri: "/no/such/path/4242", method: .get)

            let metrics = try await scrape(client)
            #expect(metrics.value("replyflow_http_requests_total", ["route": "/send_message", "method": "POST", "status": "200"]) == 1)
            // The route's pattern, never the raw path: no series carries the chat id.
            let messagesRoute = try #require(
                metrics.all("replyflow_http_requests_total").first { $0.labels["route"]?.hasPrefix("/api/chats/") == true }?.labels["route"])
            #expect(messagesRoute.contains("chatId"), "\(messagesRoute)")
            let messagesRequests = metrics.all("replyflow_http_requests_total").filter { $0.labels["route"] == messagesRoute && $0.labels["method"] == "GET" }
            #expect(messagesRequests.reduce(0) { $0 + $1.value } == 2, "\(messagesRequests)")
            #expect(metrics.value("replyflow_http_requests_total", ["route": "NotFound", "method": "GET", "status": "404"]) == 1)
            #expect(!metrics.samples.contains { $0.labels.values.contains { $0.contains("4242") } })
            #expect(metrics.types["replyflow_http_request_duration_seconds"] == "histogram")
            #expect(metrics.value("replyflow_http_request_duration_seconds_count", ["route": "/send_message", "method": "POST"]) == 1)

            #expect(metrics.value("replyflow_events_total", ["trigger": "app_message"]) == 1)
            #expect(metrics.value("replyflow_events_total", ["trigger": "telegram_reply"]) == 0)
            let ran = metrics.all("replyflow_flow_runs_total").filter { $0.labels["result"] == "ran" }
            #expect(ran.reduce(0) { $0 + $1.value } >= 1, "\(ran)")
            #expect((metrics.value("replyflow_actions_total", ["type": "forward_to_group"]) ?? 0) >= 1)
            #expect((metrics.value("replyflow_delivery_attempts_total", ["service": "telegram"]) ?? 0) >= 1)
            #expect(metrics.value("replyflow_delivery_failures_total", ["service": "telegram", "outcome": "gave_up"]) == 0)
            #expect((metrics.value("replyflow_db_commit_duration_seconds_count") ?? 0) >= 1)
            // Read from the database at the scrape: everything was delivered.
            #expect(metrics.types["replyflow_outbox_items"] == "gauge")
            #expect(metrics.value("replyflow_outbox_items", ["kind": "telegram.forward", "state": "pending"]) == 0)
            #expect(metrics.value("replyflow_outbox_items", ["kind": "telegram.forward", "state": "failed"]) == 0)
            #expect(metrics.value("replyflow_outbox_oldest_pending_age_seconds") == 0)
            #expect(metrics.value("replyflow_socketio_connections") == 0)
            #expect(metrics.value("replyflow_stream_subscribers") == 0)
        }
        #expect(ports.violations.isEmpty)
    }

    @Test("a delivery the service refuses counts as a failure given up on, and the outbox gauge shows the failed item")
    func failedDelivery() async throws {
        let ports = TestPorts()
        ports.staffGroup.failNext(1, .text, with: badRequest("chat not found"))
        try await ports.withServer { app, client in
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "7", "message": "hello"]))
            await app.waitForDeliveries()
            let metrics = try await scrape(client)
            #expect(metrics.value("replyflow_delivery_failures_total", ["service": "telegram", "outcome": "gave_up"]) == 1)
            #expect(metrics.value("replyflow_outbox_items", ["kind": "telegram.forward", "state": "failed"]) == 1)
            #expect(metrics.value("replyflow_delivery_failures_total", ["service": "fcm", "outcome": "gave_up"]) == 0)
        }
    }

    @Test("each app has its own registry: a second app's metrics start from zero")
    func appsDoNotShareARegistry() async throws {
        for _ in 0..<2 {
            try await TestPorts().withServer { _, client in
                _ = try await client.execute(uri: "/health", method: .get)
                let metrics = try await scrape(client)
                #expect(metrics.value("replyflow_http_requests_total", ["route": "/health", "method": "GET", "status": "200"]) == 1)
            }
        }
    }

    @Test("without the key, or with a wrong one, /metrics is 401 like the /api")
    func needsTheKey() async throws {
        try await TestPorts().withServer { _, client in
            let none = try await client.execute(uri: "/metrics", method: .get)
            #expect(none.status == .unauthorized)
            let wrong = try await client.execute(uri: "/metrics", method: .get, headers: [.init("X-API-Key")!: "wrong"])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.json["success"] as? Bool == false)
        }
    }

    @Test("with no API_KEY and no METRICS_PORT, /metrics is 404 with a JSON message saying how to turn it on")
    func offUnlessConfigured() async throws {
        try await TestPorts().withServer(configure: { $0.apiKey = nil }) { _, client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .notFound)
            let message = response.json["error"] as? String ?? ""
            #expect(message.contains("API_KEY") && message.contains("METRICS_PORT"), "\(message)")
        }
    }

    @Test("with METRICS_PORT, /metrics is served on that address without the key, and not on the main port")
    func ownAddress() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let metricsPort = try ServerProcess.freePort()
        harness.configuration.apiKey = TestPorts.apiKey
        harness.configuration.metricsPort = metricsPort
        harness.configuration.metricsHost = "127.0.0.1"
        let app = try harness.build(ports: TestPorts())
        try await app.application.test(.live) { client in
            let main = try await client.execute(uri: "/metrics", method: .get, headers: TestPorts().authorized)
            #expect(main.status == .notFound)
            _ = try await client.execute(uri: "/health", method: .get)
            // The metrics application starts with the server's other services.
            let text = try await waitFor { () async throws -> String? in
                guard let response = try? await HTTPClient.shared.get(url: "http://127.0.0.1:\(metricsPort)/metrics").get(), response.status == .ok,
                    let body = response.body
                else { return nil }
                return String(buffer: body)
            }
            let metrics = PrometheusText(text)
            #expect(metrics.value("replyflow_http_requests_total", ["route": "/health", "method": "GET", "status": "200"]) == 1)
            let other = try await HTTPClient.shared.get(url: "http://127.0.0.1:\(metricsPort)/api/chats").get()
            #expect(other.status == .notFound)
        }
    }

    @Test("METRICS_PORT and METRICS_HOST are read and checked with one-line errors")
    func settings() throws {
        let defaults = try ServerConfiguration.load(environment: [:])
        #expect(defaults.metricsPort == nil)
        #expect(defaults.metricsHost == "127.0.0.1")
        let set = try ServerConfiguration.load(environment: ["METRICS_PORT": "9464", "METRICS_HOST": "0.0.0.0"])
        #expect(set.metricsPort == 9464)
        #expect(set.metricsHost == "0.0.0.0")
        for (environment, start) in [
            (["METRICS_PORT": "abc"], "METRICS_PORT=abc is not a whole number"), (["METRICS_PORT": "0"], "METRICS_PORT=0 is not a whole number"),
            (["METRICS_HOST": "0.0.0.0"], "METRICS_HOST is set but METRICS_PORT is not"),
            (["METRICS_PORT": "5000"], "METRICS_PORT=5000 is SERVER_PORT's port"),
        ] {
            let error = #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.load(environment: environment) }
            #expect(error?.description.hasPrefix(start) == true, "\(error?.description ?? "")")
            #expect(error?.description.contains("\n") == false)
        }
    }
}
