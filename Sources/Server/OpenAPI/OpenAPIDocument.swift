import Hummingbird
import NIOCore

/// The OpenAPI 3.1 description of the server's public HTTP routes (`openapi/openapi.json`,
/// embedded by `openapi/embed.sh` so an installed binary needs no checkout), served at
/// `GET /openapi.json`. Tests hold the running server to it (see docs/api.md).
enum OpenAPIDocument {
    /// The document as served: the file's bytes, its final line break included.
    static let body = ByteBuffer(string: json + "\n")

    /// Adds `GET /openapi.json`.
    static func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/openapi.json") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
        }
    }
}
