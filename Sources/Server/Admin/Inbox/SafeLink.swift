import Foundation

/// Which addresses the panel links to or loads from a message: the server's own uploads, and
/// `https:` anywhere. Anything else a customer's app or the AI put there (`javascript:`,
/// `data:`, plain `http:` to another host) is shown as no link at all.
enum SafeLink {
    static func href(_ address: String?) -> String? {
        guard let address, !address.isEmpty, let url = URL(string: address) else { return nil }
        // Our own uploads, stored as a path or as an absolute URL on some host name of ours:
        // linked by path, so they load from wherever the panel is served.
        if url.path.hasPrefix("/uploads/"), url.scheme == nil || url.scheme == "http" || url.scheme == "https" {
            if url.scheme == nil && url.host == nil { return address }
            if url.scheme == "https" { return address }
            return url.path + (url.query.map { "?" + $0 } ?? "")
        }
        guard url.scheme?.lowercased() == "https", url.host?.isEmpty == false else { return nil }
        return address
    }
}
