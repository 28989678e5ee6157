import Hummingbird

/// A refusal or mistake under `/admin`, shown to the person as a page (or, under
/// `/admin/api/`, as the JSON `{"success": false, "error": ...}`) by `AdminResponseMiddleware`.
public struct AdminError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    /// Seconds to wait, for 429.
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ message: String, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }
}
