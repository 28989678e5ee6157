import Foundation
import OpenAPIKit
import SocketIO

/// `openapi/openapi.json` as OpenAPIKit reads it, with every `$ref` resolved, and the
/// check of one answer against it: is its status documented for the operation, its
/// content type, and does its body fit the schema.
struct OpenAPISpec {
    static var path: String { ServerHarness.repositoryRoot + "/openapi/openapi.json" }

    let document: OpenAPI.Document
    let resolved: DereferencedDocument

    init() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.path))
        document = try JSONDecoder().decode(OpenAPI.Document.self, from: data)
        resolved = try document.locallyDereferenced()
    }

    /// One documented operation: `GET /message_history/{user_id}`.
    struct Route: Hashable, Comparable, Sendable, CustomStringConvertible {
        var method: String
        var path: String

        var description: String { "\(method) \(path)" }
        static func < (lhs: Route, rhs: Route) -> Bool { lhs.description < rhs.description }
    }

    /// Every operation the document describes.
    var routes: [Route] {
        resolved.paths.flatMap { path, item in
            item.endpoints.map { Route(method: $0.method.rawValue.uppercased(), path: path.rawValue) }
        }
    }

    func operation(_ route: Route) -> DereferencedOperation? {
        resolved.paths[OpenAPI.Path(rawValue: route.path)]?.endpoints.first { $0.method.rawValue.uppercased() == route.method }?.operation
    }

    /// Every way an answer breaks the document; empty when it conforms.
    func problems(_ route: Route, status: Int, contentType: String?, body: [UInt8]) -> [String] {
        guard let operation = operation(route) else { return ["\(route) is not documented"] }
        let responses = operation.responses
        let range = OpenAPI.Response.StatusCode.Range(rawValue: "\(status / 100)XX")
        guard
            let response = responses[.status(code: status)] ?? range.flatMap({ responses[.range($0)] }) ?? responses[.default]
        else {
            return ["\(route): status \(status) is not documented (documented: \(responses.keys.map(\.rawValue).joined(separator: ", ")))"]
        }
        if response.content.isEmpty {
            return body.isEmpty || contentType == nil ? [] : ["\(route) \(status): a body (\(contentType ?? "no type")) where none is documented"]
        }
        let mediaType = (contentType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard let content = response.content.first(where: { $0.key.typeAndSubtype.lowercased() == mediaType })?.value else {
            return [
                "\(route) \(status): content type \(contentType ?? "none") is not documented (documented: \(response.content.keys.map(\.typeAndSubtype).joined(separator: ", ")))"
            ]
        }
        guard mediaType == "application/json", let schema = content.schema else { return [] }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(body))
        } catch {
            return ["\(route) \(status): the body is not JSON: \(String(decoding: body, as: UTF8.self).prefix(200))"]
        }
        return SchemaCheck.problems(value, against: schema).map { "\(route) \(status): \($0)" }
    }
}
