import Foundation
import Hummingbird
import Mustache
import Storage

/// The panel's pages: Mustache templates shown inside the shared layout (header, nav, the
/// signed-in user, the logout form, the CSRF meta tag, the stylesheet and scripts), and the
/// assets they link to.
///
/// Templates are HTML-escaping Mustache (`{{name}}`); data is never put in with `{{{ }}}` or
/// `{{& }}`. Each page template is only its `<main>` content: it is joined into the layout
/// once, when `AdminPages` is made.
///
/// In a page template: the values given to `render`, plus `csrf` (the session's CSRF
/// token, for `<input type="hidden" name="_csrf" value="{{csrf}}">`) and `layout.*`.
public struct AdminPages: Sendable {
    private let library: MustacheLibrary
    let assets: [String: AdminAsset]

    /// The built-in pages and assets, plus `extraTemplates` (name → page template) and
    /// `extraAssets` (for instance the inbox's `inbox.mustache` and `inbox.js`).
    public init(extraTemplates: [String: String] = [:], extraAssets: [AdminAsset] = []) {
        var library = MustacheLibrary()
        let (before, after) = AdminTemplates.layoutParts
        for (name, body) in AdminTemplates.builtIn.merging(extraTemplates, uniquingKeysWith: { _, extra in extra }) {
            do {
                library.register(try MustacheTemplate(string: before + body + after), named: name)
            } catch {
                // The templates are constants in the binary: the tests render every one.
                preconditionFailure("the admin template \(name) does not parse: \(error)")
            }
        }
        self.library = library
        var assets: [String: AdminAsset] = [:]
        for asset in AdminAssets.builtIn + extraAssets { assets[asset.name] = asset }
        self.assets = assets
    }

    /// The versioned URL of an asset (`/admin/assets/NAME?v=HASH`).
    public func assetURL(_ name: String) -> String {
        assets[name]?.url ?? "/admin/assets/\(name)"
    }

    /// A page inside the layout, as a `text/html` response that is never cached.
    /// - Parameters:
    ///   - template: a registered template's name (`"users"`, `"inbox"`, ...).
    ///   - title: the page's title (escaped).
    ///   - context: the page's values (dictionaries, arrays, strings, numbers, `Bool`s).
    ///   - session: the signed-in member of staff (nil on the login and error pages).
    ///   - scripts: names of extra registered assets to load (deferred), e.g. `["inbox.js"]`.
    public func render(
        _ template: String, title: String, context: [String: Any] = [:], session: StaffSession?, status: HTTPResponse.Status = .ok,
        scripts: [String] = []
    ) throws -> Response {
        let html = try self.html(template, title: title, context: context, session: session, scripts: scripts)
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The page's HTML (what `render` sends).
    public func html(_ template: String, title: String, context: [String: Any] = [:], session: StaffSession?, scripts: [String] = []) throws -> String {
        var values = context
        var layout: [String: Any] = [
            "title": title, "cssURL": assetURL("panel.css"), "jsURL": assetURL("panel.js"),
            "scripts": scripts.map { ["url": assetURL($0)] }, "signedIn": session != nil,
        ]
        if let session {
            layout["csrfToken"] = session.csrfToken
            layout["username"] = session.account.username
            layout["role"] = session.account.role.rawValue
            layout["isAdmin"] = session.account.role >= .admin
            layout["isEditor"] = session.account.role >= .editor
        }
        values["layout"] = layout
        values["csrf"] = session?.csrfToken ?? ""
        guard let html = library.render(values, withTemplate: template) else {
            throw AdminError(.internalServerError, "no page template named \(template)")
        }
        return html
    }
}

/// Dates as the panel shows them: UTC, to the minute.
enum AdminDates {
    static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }
}
