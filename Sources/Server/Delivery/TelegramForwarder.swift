import Channels
import Flows
import Foundation
import Logging
import Storage

/// Sends a user's message to the staff group: a header with the user's name and id, the
/// text split at Telegram's limits (never cut), photos as a photo or an album, files the
/// server did not keep listed by their links, everything escaped for HTML. (What only
/// Telegram holds follows as a copy: `TelegramCopier`.) Each group message is mapped back to the user, so a staff reply to
/// any of them reaches the right person; with topics on, the user's own topic is used.
struct TelegramForwarder: Deliverer {
    let group: any StaffGroup
    let topics: Bool
    let uploads: UploadStore
    let queries: any ServerQueries
    /// Where the group messages a forward became are recorded.
    let outbox: any OutboxLanes
    let clock: @Sendable () -> Date

    /// One message (or album) of a forward, in the order staff see them.
    enum Part {
        case text(String)
        case photo(TelegramUpload, caption: String?)
        case album([TelegramUpload], caption: String?)

        /// What identifies the part in the forward's fingerprint.
        var summary: String {
            switch self {
            case .text(let text): "text:" + text
            case .photo(let upload, let caption): "photo:\(upload.filename):\(caption ?? "")"
            case .album(let uploads, let caption): "album:" + uploads.map(\.filename).joined(separator: ",") + ":\(caption ?? "")"
            }
        }
    }

    func deliver(_ item: OutboxItem, progress: DeliveryProgress) async throws {
        let payload = try OutboxJSON.decode(ForwardPayload.self, item.payload)
        // Topics are per app user; Instagram and Telegram chats are answered by reply.
        let thread = topics && payload.source == nil ? try await topic(for: payload) : nil
        // Photos are read before anything is sent: an unreadable one fails the forward
        // whole rather than after the parts before it.
        let parts = try parts(of: payload)
        // Each part is mapped to the user as soon as it is sent, and noted in `progress`:
        // a retry after a later part failed sends only the parts after it.
        let record: ([Int64]) async -> Void = { ids in
            await outbox.recordGroupForwards(ids, userID: payload.userID, source: payload.source ?? .app, at: clock())
        }
        try await progress.send(parts, plan: DeliveryProgress.fingerprint(parts.map(\.summary))) { part in
            switch part {
            case .text(let text):
                await record([try await group.sendText(text, thread: thread, replyTo: nil)])
            case .photo(let upload, let caption):
                await record([try await group.sendPhoto(upload, caption: caption, thread: thread)])
            case .album(let uploads, let caption):
                await record(try await group.sendAlbum(uploads, caption: caption, thread: thread))
            }
        }
    }

    /// The forward's messages: the header and text in pieces, or the photos (the first
    /// carrying the header and as much text as fits as its caption) and then the rest of
    /// the text.
    func parts(of payload: ForwardPayload) throws -> [Part] {
        let header = Self.header(userID: payload.userID, userName: payload.userName, channel: payload.source)
        let localPhotos = payload.photos.compactMap { uploads.localPath(forPublicPath: $0) }
        let linkedPhotos = payload.photos.filter { uploads.localPath(forPublicPath: $0) == nil }
        var text = payload.text
        if !linkedPhotos.isEmpty { text += (text.isEmpty ? "" : "\n") + linkedPhotos.joined(separator: "\n") }
        for link in payload.fileLinks ?? [] { text += (text.isEmpty ? "" : "\n") + "📎 " + link }

        if localPhotos.isEmpty {
            return Self.pieces(header: header, text: text, firstLimit: TelegramText.messageLimit, restLimit: TelegramText.messageLimit).map(Part.text)
        }
        let files = try localPhotos.map(Self.upload)
        let pieces = Self.pieces(header: header, text: text, firstLimit: TelegramText.captionLimit, restLimit: TelegramText.messageLimit)
        // Albums hold 2 to 10 photos; a lone photo (or a lone last one) goes as a photo.
        let albums = stride(from: 0, to: files.count, by: 10).map { Array(files[$0..<min($0 + 10, files.count)]) }
        var parts: [Part] = albums.enumerated().map { index, album in
            let caption = index == 0 ? pieces.first : nil
            return album.count == 1 ? .photo(album[0], caption: caption) : .album(album, caption: caption)
        }
        parts += pieces.dropFirst().filter { !$0.isEmpty }.map(Part.text)
        return parts
    }

    /// A stored upload, read into memory for sending.
    private static func upload(_ path: String) throws -> TelegramUpload {
        TelegramUpload(
            data: try Data(contentsOf: URL(fileURLWithPath: path)), filename: (path as NSString).lastPathComponent,
            contentType: ImageKind(fileExtension: (path as NSString).pathExtension)?.contentType ?? "image/jpeg")
    }

    /// The user's forum topic, created on first use.
    private func topic(for payload: ForwardPayload) async throws -> Int64 {
        if let existing = try await queries.forumTopic(userID: payload.userID) { return existing }
        let name = payload.userName.map { "\($0) · \(payload.userID)" } ?? payload.userID
        let thread = try await group.createTopic(name: name)
        try await queries.saveForumTopic(userID: payload.userID, threadID: thread, at: clock())
        return thread
    }

    /// `<b>name</b> (ID: <code>id</code>)`, and the channel when it is not the app: staff
    /// see who wrote and where; every part escaped. Names and ids are clipped so the
    /// header always leaves room for the text.
    static func header(userID: String, userName: String?, channel: ChatSource? = nil) -> String {
        let id = "ID: <code>\(TelegramText.escapeHTML(TelegramText.clip(userID, limit: 128)))</code>"
        let via = channel.map { " · " + Self.channelName($0) } ?? ""
        guard let userName, !userName.isEmpty else { return "👤 \(id)\(via)" }
        return "👤 <b>\(TelegramText.escapeHTML(TelegramText.clip(userName, limit: 128)))</b> (\(id))\(via)"
    }

    /// How staff see a channel's name.
    static func channelName(_ source: ChatSource) -> String {
        switch source {
        case .app: "App"
        case .telegram: "Telegram"
        case .instagram: "Instagram"
        }
    }

    /// The header plus the text, split so the first piece's visible text fits
    /// `firstLimit` and every later piece `restLimit`. Telegram counts characters after
    /// entity parsing, so the raw text is split and each piece escaped afterwards.
    static func pieces(header: String, text: String, firstLimit: Int, restLimit: Int) -> [String] {
        if text.isEmpty { return [header] }
        let separator = header.isEmpty ? "" : "\n\n"
        let firstRoom = max(64, firstLimit - visibleLength(header) - separator.utf16.count)
        guard let first = TelegramText.split(text, limit: firstRoom).first else { return [header] }
        var result = [header + separator + TelegramText.escapeHTML(first)]
        let remaining = String(text.dropFirst(first.count)).trimmingPrefixWhitespace()
        if !remaining.isEmpty {
            result += TelegramText.split(remaining, limit: restLimit).map(TelegramText.escapeHTML)
        }
        return result
    }

    /// Characters of `html` as Telegram counts them: tags removed, entities as one.
    static func visibleLength(_ html: String) -> Int {
        var count = 0
        var inTag = false
        var inEntity = false
        for unit in html.unicodeScalars {
            if inTag { if unit == ">" { inTag = false }; continue }
            if inEntity { if unit == ";" { inEntity = false }; continue }
            if unit == "<" { inTag = true; continue }
            if unit == "&" { inEntity = true; count += 1; continue }
            count += unit.utf16.count
        }
        return count
    }
}

extension String {
    func trimmingPrefixWhitespace() -> String {
        String(drop(while: { $0.isWhitespace }))
    }
}
