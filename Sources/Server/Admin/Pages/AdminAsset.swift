import Crypto
import Foundation

/// A stylesheet or script of the panel, embedded in the binary (one file to deploy) and
/// served by `AdminAssetRoutes` under `/admin/assets/NAME?v=HASH`.
public struct AdminAsset: Sendable {
    public let name: String
    public let contentType: String
    public let body: String
    /// The first 16 hex digits of the SHA-256 of `body`: the `?v=` of its URL and its ETag,
    /// so a changed file gets a new URL and browsers may cache each version for ever.
    public let hash: String

    public init(name: String, contentType: String, body: String) {
        self.name = name
        self.contentType = contentType
        self.body = body
        hash = String(SHA256.hash(data: Data(body.utf8)).hexadecimal.prefix(16))
    }

    public static func css(_ name: String, _ body: String) -> AdminAsset { AdminAsset(name: name, contentType: "text/css; charset=utf-8", body: body) }
    public static func javaScript(_ name: String, _ body: String) -> AdminAsset {
        AdminAsset(name: name, contentType: "text/javascript; charset=utf-8", body: body)
    }

    /// The strong validator of this version.
    var etag: String { "\"\(hash)\"" }
    /// Where pages link to it.
    var url: String { "/admin/assets/\(name)?v=\(hash)" }
}
