import Flows
import Foundation
import Hummingbird
import Storage

/// The traces page's filters as they arrive in its query string (`flow`, `user`, `result`,
/// `trigger`, `last`, `since`, `until`, `before`, `limit`), checked by the same
/// `TraceQuery(_:now:timeZone:)` as `replyflow traces`, and written back into the page's
/// links so that paging keeps them.
struct TracesRequest: Sendable {
    /// The filters as given (blank ones left out), for the form and the links.
    var text = TraceFilterText()
    /// One of `periods`: the last hour, day, ... (instead of `since`).
    var last: String?
    var query = TraceQuery()

    /// The form's choices of a recent period.
    static let periods = [("", "Any time"), ("1h", "Last hour"), ("1d", "Last day"), ("7d", "Last 7 days"), ("30d", "Last 30 days")]

    init(_ request: Request, now: Date, timeZone: TimeZone) throws(AdminError) {
        // Read as a form (`+` is a space): that is how the browser sends the filter form.
        let form = FormQuery(request.uri.query)
        func field(_ name: String) -> String? {
            guard let value = form.first(name)?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        text = TraceFilterText(
            flow: field("flow"), user: field("user"), result: field("result"), trigger: field("trigger"), since: field("since"),
            until: field("until"), before: field("before"), limit: field("limit"))
        if let last = field("last") {
            guard Self.periods.contains(where: { $0.0 == last }) else {
                throw AdminError(.badRequest, "last must be 1h, 1d, 7d or 30d (got \(last.prefix(40)))")
            }
            guard text.since == nil else { throw AdminError(.badRequest, "choose a period (last) or a time to start from (since), not both") }
            self.last = last
        }
        var filters = text
        if let last { filters.since = last }
        do throws(TraceFilterError) {
            query = try TraceQuery(filters, now: now, timeZone: timeZone)
        } catch {
            throw AdminError(.badRequest, error.description)
        }
    }

    /// Whether anything narrows the rows (the empty table then says so).
    var isFiltered: Bool {
        query.flow != nil || query.userID != nil || query.result != nil || query.trigger != nil || query.since != nil || query.until != nil
    }

    /// The page's URL with these filters, from row `before` on (the newest rows without).
    func href(before: Int64? = nil) -> String {
        var items: [(String, String?)] = [
            ("flow", text.flow), ("user", text.user), ("result", text.result), ("trigger", text.trigger), ("last", last), ("since", text.since),
            ("until", text.until), ("limit", text.limit),
        ]
        items.append(("before", before.map(String.init)))
        return Self.href(items)
    }

    /// The page filtered by one flow over the last `last`, for links from the flow studio.
    static func href(flow: String, last: String = "7d") -> String {
        href([("flow", flow), ("last", last)])
    }

    private static func href(_ items: [(String, String?)]) -> String {
        let present = items.compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
        guard !present.isEmpty else { return "/admin/traces" }
        var components = URLComponents()
        components.queryItems = present
        // `+` is a space to form decoders: keep a plus sign in a user id or flow name a plus.
        return "/admin/traces?" + (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
    }
}
