import Foundation

/// A word from the service to staff in the group, under a message of theirs that did not
/// fully reach its chat (a photo Telegram would not let the server fetch).
struct StaffNotice: Sendable {
    var text: String
    /// The group and the staff message the notice answers.
    var groupChatID: Int64
    var replyTo: Int64
    var at: Date
}
