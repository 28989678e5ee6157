import Foundation

/// What an outbox item delivers; stored as its raw value in `outbox.kind`, so the raw
/// values never change (a restart must read old rows).
public enum OutboxKind: String, Sendable, CaseIterable {
    /// A user's message (and photos) to the staff group.
    case telegramForward = "telegram.forward"
    /// A customer's Telegram message copied into the staff group after its forward.
    case telegramCopy = "telegram.copy"
    /// A reply to a customer's private Telegram chat.
    case telegramReply = "telegram.reply"
    /// A push to every registered device of a user.
    case push = "fcm.push"
    /// A message to an Instagram visitor through Brevo Conversations.
    case brevoMessage = "brevo.message"
}
