import Foundation
import Hummingbird
import HummingbirdTesting
import OpenAPIKit
import Testing

@testable import Server
import TestSupport

/// `openapi/openapi.json` is a valid OpenAPI 3.1 document, the server carries it byte for
/// byte, and serves it at `GET /openapi.json`.
@Suite("OpenAPI document", .machineShare)
struct OpenAPIDocumentTests {
    @Test func theFileIsAValidOpenAPI31Document() throws {
        let spec = try OpenAPISpec()
        #expect(spec.document.openAPIVersion.rawValue.hasPrefix("3.1"))
        // OpenAPIKit's own checks: references resolve, operation ids are unique, every
        // operation has a response, path parameters are declared.
        try spec.document.validate()
        #expect(spec.document.warnings.isEmpty, "\(spec.document.warnings)")
        #expect(!spec.routes.contains { $0.path.hasPrefix("/admin") }, "the admin panel is not part of the API")
        for route in spec.routes {
            let operation = try #require(spec.operation(route))
            #expect(operation.operationId != nil, "\(route) has no operationId")
            #expect(operation.summary != nil, "\(route) has no summary")
        }
        // The seed's error shape, for every error.
        let error = try #require(spec.document.components.schemas["Error"])
        #expect(error.objectContext?.requiredProperties.sorted() == ["error", "success"])
        // The /api and /metrics need the key.
        let keyed = spec.routes.filter { $0.path.hasPrefix("/api/") && $0.path != "/api/stream" || $0.path == "/metrics" }
        #expect(keyed.count == 6)
        let raw = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: OpenAPISpec.path))) as? [String: Any])
        let paths = try #require(raw["paths"] as? [String: [String: Any]])
        for route in keyed {
            let operation = paths[route.path]?[route.method.lowercased()] as? [String: Any]
            let security = operation?["security"] as? [[String: Any]] ?? []
            #expect(security.contains { $0["ApiKey"] != nil }, "\(route) does not name the ApiKey scheme")
        }
    }

    @Test func theServerCarriesTheFileByteForByte() throws {
        // openapi/embed.sh copies the file into the source; run it after changing the file.
        let file = try String(contentsOfFile: OpenAPISpec.path, encoding: .utf8)
        #expect(OpenAPIDocument.json + "\n" == file, "Sources/Server/OpenAPI/OpenAPIDocument+JSON.swift is out of date: run openapi/embed.sh")
    }

    @Test func servedAtOpenAPIJSON() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let file = try Data(contentsOf: URL(fileURLWithPath: OpenAPISpec.path))
        try await harness.build().application.test(.router) { client in
            let response = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(Data(response.body.readableBytesView) == file)
        }
    }
}
