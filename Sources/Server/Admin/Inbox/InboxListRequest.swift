import Flows
import Foundation
import Hummingbird
import Storage

/// The inbox list's filters as they arrive in the page's query string (`q`, `source`, `mode`,
/// `sort`, `waiting`, `unread`, `after`), checked, and written back into links so that
/// opening a chat or the next page keeps them.
struct InboxListRequest: Sendable {
    var search: String?
    var source: ChatSource?
    /// `true`: the AI answers; `false`: staff do.
    var autoMode: Bool?
    var sort: InboxSort = .newestActivity
    var waitingOnly = false
    var unreadOnly = false
    var after: InboxCursor?

    static let maxSearchLength = 200

    init(_ request: Request) throws(AdminError) {
        // Read as a form (`+` is a space): that is how the browser sends the filter form.
        let form = FormQuery(request.uri.query)
        var parameters: [String: String] = [:]
        for name in ["q", "source", "mode", "sort", "waiting", "unread", "after"] { parameters[name] = form.first(name) }
        try self.init(parameters)
    }

    init(_ parameters: [String: String]) throws(AdminError) {
        if let q = parameters["q"]?.trimmingCharacters(in: .whitespacesAndNewlines), !q.isEmpty {
            guard q.count <= Self.maxSearchLength else { throw AdminError(.badRequest, "a search is at most \(Self.maxSearchLength) characters") }
            search = q
        }
        switch parameters["source"] ?? "" {
        case "": source = nil
        case let raw:
            guard let source = ChatSource(rawValue: raw) else {
                throw AdminError(.badRequest, "source must be app, telegram or instagram (got \(raw))")
            }
            self.source = source
        }
        switch parameters["mode"] ?? "" {
        case "": autoMode = nil
        case "ai": autoMode = true
        case "staff": autoMode = false
        case let raw: throw AdminError(.badRequest, "mode must be ai or staff (got \(raw))")
        }
        switch parameters["sort"] ?? "" {
        case "", "newest": sort = .newestActivity
        case "waiting": sort = .longestWaiting
        case let raw: throw AdminError(.badRequest, "sort must be newest or waiting (got \(raw))")
        }
        waitingOnly = try Self.flag(parameters, "waiting")
        unreadOnly = try Self.flag(parameters, "unread")
        if let after = parameters["after"], !after.isEmpty {
            do {
                let cursor = try InboxCursor(encoded: after)
                guard cursor.sort == sort else { throw AdminError(.badRequest, "this page link belongs to another sort order; start from the first page") }
                self.after = cursor
            } catch let error as AdminError {
                throw error
            } catch {
                throw AdminError(.badRequest, "the page link is broken (\(error)); start from the first page")
            }
        }
    }

    private static func flag(_ parameters: [String: String], _ name: String) throws(AdminError) -> Bool {
        switch parameters[name] ?? "" {
        case "", "0", "false": return false
        case "1", "true", "on": return true
        case let raw: throw AdminError(.badRequest, "\(name) must be 1 or left out (got \(raw))")
        }
    }

    func query(autoModeDefault: Bool, limit: Int = InboxQuery.defaultLimit) -> InboxQuery {
        InboxQuery(
            sort: sort, source: source, autoMode: autoMode, autoModeDefault: autoModeDefault, waitingOnly: waitingOnly, unreadOnly: unreadOnly,
            search: search, after: after, limit: limit)
    }

    /// Whether anything narrows the list (the empty list then says so).
    var isFiltered: Bool { search != nil || source != nil || autoMode != nil || waitingOnly || unreadOnly }

    /// The filters as a query string (`?q=...&source=...`, or "" when none), without the page.
    var filterQuery: String { Self.queryString(filterItems) }

    /// The next page's query string.
    func pageQuery(after cursor: InboxCursor) -> String {
        Self.queryString(filterItems + [URLQueryItem(name: "after", value: cursor.encoded)])
    }

    private var filterItems: [URLQueryItem] {
        var items: [URLQueryItem] = []
        if let search { items.append(URLQueryItem(name: "q", value: search)) }
        if let source { items.append(URLQueryItem(name: "source", value: source.rawValue)) }
        if let autoMode { items.append(URLQueryItem(name: "mode", value: autoMode ? "ai" : "staff")) }
        if sort == .longestWaiting { items.append(URLQueryItem(name: "sort", value: "waiting")) }
        if waitingOnly { items.append(URLQueryItem(name: "waiting", value: "1")) }
        if unreadOnly { items.append(URLQueryItem(name: "unread", value: "1")) }
        return items
    }

    private static func queryString(_ items: [URLQueryItem]) -> String {
        guard !items.isEmpty else { return "" }
        var components = URLComponents()
        components.queryItems = items
        // `+` is a space to form decoders: keep a searched plus sign a plus.
        return "?" + (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
    }

    /// The filter form's options, with the current ones selected.
    var formValues: [String: Any] {
        [
            "search": search ?? "",
            "sources": [("", "All channels"), ("app", "App"), ("telegram", "Telegram"), ("instagram", "Instagram")].map { value, label in
                ["value": value, "label": label, "selected": value == (source?.rawValue ?? "")] as [String: Any]
            },
            "modes": [("", "Any mode"), ("ai", "AI answering"), ("staff", "Staff answering")].map { value, label in
                ["value": value, "label": label, "selected": value == (autoMode.map { $0 ? "ai" : "staff" } ?? "")] as [String: Any]
            },
            "sorts": [("newest", "Newest activity"), ("waiting", "Longest waiting")].map { value, label in
                ["value": value, "label": label, "selected": value == (sort == .longestWaiting ? "waiting" : "newest")] as [String: Any]
            },
            "waiting": waitingOnly, "unread": unreadOnly,
        ]
    }
}
