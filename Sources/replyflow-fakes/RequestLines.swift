import Foundation
import TestServers

// One line per request a fake received, for a person watching: what was sent, to whom,
// and the ids they need next (the `message_id` staff reply to). Violations are printed
// on lines of their own (see ActivityPrinter).

extension TelegramRecordedRequest {
    /// Nil for what only adds noise: a long poll that ended without updates.
    var line: String? {
        var line = "telegram  \(method)"
        switch method.lowercased() {
        case "getupdates":
            let ids = result?.arrayValue?.compactMap { $0["update_id"]?.intValue } ?? []
            guard !ids.isEmpty || responseStatus != 200 else { return nil }
            if !ids.isEmpty { line += " → update " + ids.map(String.init).joined(separator: ", ") }
        case "sendmessage", "sendphoto", "copymessage":
            line += " to \(chat)" + Self.sent(result)
            if let words = plainText ?? string("text") ?? string("caption") { line += ": " + quoted(words) }
        case "sendmediagroup":
            let ids = result?.arrayValue?.compactMap { $0["message_id"]?.intValue } ?? []
            line += " to \(chat)" + (ids.isEmpty ? "" : " → message_id " + ids.map(String.init).joined(separator: ", "))
        case "setwebhook":
            line += " \(string("url") ?? "")"
        case "file":
            line = "telegram  download \(filePath ?? "")"
        default:
            break
        }
        if responseStatus != 200 { line += " → HTTP \(responseStatus)" }
        return line
    }

    private var chat: String {
        int("chat_id").map(String.init) ?? string("chat_id") ?? "?"
    }

    private static func sent(_ result: FakeJSON?) -> String {
        result?["message_id"]?.intValue.map { " → message_id \($0)" } ?? ""
    }
}

extension FCMRecordedMessage {
    var line: String {
        "fcm       push to \(token.map { String($0.prefix(16)) } ?? "?"): " + quoted(title ?? "") + " " + quoted(text ?? "") + " → \(outcome)"
    }
}

extension BrevoRecordedMessage {
    var line: String {
        "brevo     message to visitor \(visitorID ?? "?"): " + quoted(text ?? "") + (status == 200 ? "" : " → HTTP \(status)")
    }
}

extension OpenAIRecordedRequest {
    var line: String {
        "openai    \(endpoint) (\(model ?? "?"))" + (answer.map { " → " + quoted($0) } ?? " → HTTP \(status)")
    }
}

/// A text on one line: quoted, line breaks shown as ⏎, long ones cut.
private func quoted(_ text: String) -> String {
    let oneLine = text.replacingOccurrences(of: "\n", with: " ⏎ ")
    return "\"" + (oneLine.count > 160 ? oneLine.prefix(160) + "…" : oneLine) + "\""
}
