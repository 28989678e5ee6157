/// The built-in page templates (each in a `Templates+*.swift` file of its own).
enum AdminTemplates {
    static var builtIn: [String: String] {
        [
            "login": login, "error": error, "inbox": inbox, "users": users, "audit": audit, "flows": flows, "flowEditor": flowEditor,
            "flowHistory": flowHistory, "flowDiff": flowDiff, "flowTests": flowTests, "erase": erase,
            "erased": erased, "traces": traces, "experiments": experiments, "experiment": experiment,
        ]
    }

    /// The layout split where a page's content goes.
    static var layoutParts: (before: String, after: String) {
        let parts = layout.components(separatedBy: pageMarker)
        precondition(parts.count == 2, "the layout holds the page marker once")
        return (parts[0], parts[1])
    }

    static let pageMarker = "<!-- page -->"
}

/// The built-in stylesheet and script.
enum AdminAssets {
    static let builtIn: [AdminAsset] = [.css("panel.css", panelCSS + inboxCSS + studioCSS + tracesCSS + experimentsCSS), .javaScript("panel.js", panelJS)] + inbox + studio
}
