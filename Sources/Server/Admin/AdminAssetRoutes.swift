import Hummingbird

/// `GET /admin/assets/:name`: the embedded stylesheets and scripts, no session needed.
/// With the current `?v=` they are cached for a year (a new version has a new URL);
/// otherwise revalidated each time. Either way a matching `If-None-Match` gets a 304.
struct AdminAssetRoutes<Context: RequestContext> {
    let pages: AdminPages

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("assets/:name") { request, context in try serve(request, context: context) }
    }

    func serve(_ request: Request, context: Context) throws -> Response {
        let name = context.parameters.get("name") ?? ""
        guard let asset = pages.assets[name] else { throw AdminError(.notFound, "there is no asset \(name)") }
        var headers: HTTPFields = [.contentType: asset.contentType, .eTag: asset.etag]
        let current = request.uri.queryParameters.get("v") == asset.hash
        headers[.cacheControl] = current ? "public, max-age=31536000, immutable" : "no-cache"
        if let tags = request.headers[.ifNoneMatch],
            tags.split(separator: ",").contains(where: { tag in
                let tag = tag.trimmingCharacters(in: .whitespaces)
                return tag == asset.etag || tag == "W/" + asset.etag || tag == "*"
            })
        {
            return Response(status: .notModified, headers: headers)
        }
        // HEAD is the router's: this answer with its body left off, Content-Length kept.
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: asset.body)))
    }
}
