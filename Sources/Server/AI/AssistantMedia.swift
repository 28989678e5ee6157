import Channels
import Flows
import Foundation
import NIOPosix

/// Fetches what the AI is shown or played: photos from the uploads folder (sent inline as
/// `data:` URLs, since the AI cannot reach this server), voice from Telegram or by URL.
struct AssistantMedia: Sendable {
    let uploads: UploadStore
    let telegram: TelegramClient?
    let downloader: MediaDownloader

    /// The scheme of an `AudioAttachment` location naming a Telegram file id.
    static let telegramFileScheme = "telegram-file:"

    /// Data URLs for photos stored in uploads (`/uploads/NAME`); other http(s) URLs as they are.
    func imageDataURLs(_ photoURLs: [String]) async throws -> [String] {
        var result: [String] = []
        for url in photoURLs {
            guard url.hasPrefix("/uploads/") else {
                result.append(url)
                continue
            }
            let name = String(url.dropFirst("/uploads/".count))
            guard let file = uploads.file(named: name) else { throw DeliveryError(.fail, "photo \(url) is not in the uploads folder") }
            // A photo is up to 10 MB: read and encoded on NIO's blocking-I/O pool, so the
            // few cooperative threads that serve every request are never held by a disk read.
            result.append(
                try await NIOThreadPool.singleton.runIfActive {
                    let data = try Data(contentsOf: URL(fileURLWithPath: file.path))
                    return "data:\(file.contentType);base64,\(data.base64EncodedString())"
                })
        }
        return result
    }

    /// The audio file's bytes, as the channel keeps them.
    func audio(_ attachment: AudioAttachment) async throws -> Data {
        let limit = OpenAIClient.maxTranscriptionBytes
        if attachment.location.hasPrefix(Self.telegramFileScheme) {
            guard let telegram else { throw DeliveryError(.fail, "a Telegram voice message, but Telegram is not configured") }
            let fileID = String(attachment.location.dropFirst(Self.telegramFileScheme.count))
            let file = try await telegram.getFile(fileID: fileID)
            guard let path = file.filePath else { throw DeliveryError(.fail, "Telegram gave no path for file \(fileID)") }
            return try await telegram.downloadFile(path: path, maxBytes: min(limit, TelegramClient.defaultMaxDownloadBytes))
        }
        return try await downloader.download(attachment.location, maxBytes: limit).data
    }

    /// The content type of a voice or audio file, by the extensions speech-to-text accepts
    /// (and the ones Instagram voice notes come as).
    static func audioContentType(_ fileName: String) -> String? {
        let types = [
            "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg", "mp3": "audio/mpeg", "mpga": "audio/mpeg", "mpeg": "audio/mpeg",
            "m4a": "audio/mp4", "aac": "audio/aac", "wav": "audio/wav", "webm": "audio/webm", "flac": "audio/flac",
        ]
        guard let dot = fileName.lastIndex(of: ".") else { return nil }
        return types[fileName[fileName.index(after: dot)...].lowercased()]
    }
}
