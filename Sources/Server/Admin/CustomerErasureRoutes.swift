import Foundation
import Hummingbird
import Storage

/// Erasing a customer from the panel (admins only): a page that says what will go and asks
/// to type `erase`, and the form post that does it through `ReplyflowDatabase.eraseCustomer`
/// (the command line's `replyflow customers erase` does the same), audited by the admin.
struct CustomerErasureRoutes<Context: AdminRequestContext>: Sendable {
    let erasing: any CustomerErasing
    let conversations: any ConversationQueries
    let pages: AdminPages
    let auditor: AdminAuditor
    let uploadsDirectory: String
    let clock: @Sendable () -> Date

    /// What the admin types to confirm.
    static var confirmation: String { "erase" }

    func addRoutes(to admins: RouterGroup<Context>) {
        admins.get("chats/:chatId/erase", use: confirm)
        admins.post("chats/:chatId/erase", use: erase)
    }

    @Sendable func confirm(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.admin)
        let conversation = try await self.conversation(context)
        return try pages.render("erase", title: "Erase a customer", context: values(conversation), session: session)
    }

    @Sendable func erase(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let session = try context.requireStaff(.admin)
        let conversation = try await self.conversation(context)
        let form = try await AdminForm.read(&request)
        guard form.first("confirm")?.trimmingCharacters(in: .whitespaces).lowercased() == Self.confirmation else {
            var values = values(conversation)
            values["error"] = "Type \(Self.confirmation) to confirm: nothing was removed."
            return try pages.render("erase", title: "Erase a customer", context: values, session: session, status: .badRequest)
        }
        let erasure: CustomerErasure
        do {
            erasure = try await erasing.eraseCustomer(
                source: conversation.source, id: conversation.platformChatID, actor: session.account.username,
                address: auditor.address(of: request, context: context), uploadsDirectory: uploadsDirectory, at: clock())
        } catch let error as CustomerErasureError {
            switch error {
            case .notFound: throw AdminError(.notFound, "\(error)")
            case .invalidID: throw AdminError(.badRequest, "\(error)")
            case .tablesNotConsidered: throw error
            }
        }
        return try pages.render(
            "erased", title: "Customer erased",
            context: [
                "sourceLabel": InboxView.sourceLabel(conversation.source), "telegram": conversation.source == .telegram,
                "counts": erasure.counts.map { ["kind": $0.kind, "count": $0.count] }, "notRemoved": erasure.uploadsNotRemoved,
            ], session: session)
    }

    private func values(_ conversation: Conversation) -> [String: Any] {
        [
            "id": conversation.id, "name": InboxView.name(conversation.name, source: conversation.source, platformChatID: conversation.platformChatID),
            "platformChatID": conversation.platformChatID, "sourceLabel": InboxView.sourceLabel(conversation.source),
            "telegram": conversation.source == .telegram, "confirmation": Self.confirmation,
        ]
    }

    private func conversation(_ context: Context) async throws -> Conversation {
        guard let raw = context.parameters.get("chatId"), let id = Int64(raw), id > 0 else {
            throw AdminError(.notFound, "there is no such chat")
        }
        guard let conversation = try await conversations.conversation(id: id) else { throw AdminError(.notFound, "there is no chat \(id)") }
        return conversation
    }
}
