import Flows
import Foundation
import Hummingbird
import Logging
import NIOCore
import Storage

/// The HTTP API of the seed server (`telegram-support-bot-server`), path for path and
/// field for field: apps already in the field call it unchanged. What happens to a
/// message is decided by the flows; the handlers only validate, store uploads and ask the
/// engine.
struct SeedAPIController<Context: RequestContext>: Sendable {
    let engine: FlowEngine
    let queries: any ServerQueries
    /// `/health`'s word on the database.
    let databaseHealth: DatabaseHealth
    let uploads: UploadStore
    let configuration: ServerConfiguration
    let userLimiter: RateLimiter
    let historyPages = HistoryPageCache()
    let fileIO = FileIO()
    let clock: @Sendable () -> Date
    let logger: Logger

    func addRoutes(to router: Router<Context>) {
        router.post("/send_message", use: sendMessage)
        router.post("/register_device", use: registerDevice)
        router.get("/message_history/:user_id", use: messageHistory)
        router.get("/check_device/:user_id", use: checkDevice)
        router.get("/uploads/:filename", use: upload)
        router.get("/health", use: health)
    }

    // MARK: POST /send_message

    /// One message of the app, from JSON or a multipart form.
    struct IncomingMessage {
        var userID: String
        var userName: String?
        var text: String
        /// Received into the uploads folder, not yet accepted as images.
        var photos: [StagedUpload] = []
        var photoURL: String?
    }

    @Sendable func sendMessage(_ request: Request, context: Context) async throws -> Response {
        let incoming = try await readMessage(request)
        // Photos not saved below (a refused request) are removed; saved ones have moved.
        defer { for photo in incoming.photos { uploads.discard(photo) } }
        if let wait = userLimiter.check(incoming.userID) {
            throw APIError(.tooManyRequests, "too many messages from this user; try again in \(wait) s", retryAfter: wait)
        }
        // Every photo is checked before any is saved, so a refused message leaves none behind.
        let kinds = try incoming.photos.map { photo in
            guard let kind = uploads.kind(of: photo) else { throw APIError.unsupportedPhoto }
            return kind
        }
        var photoURLs: [String] = []
        for (photo, kind) in zip(incoming.photos, kinds) { photoURLs.append(try uploads.save(photo, as: kind)) }
        // A link the app uploaded elsewhere is shown and forwarded like an upload.
        if let url = incoming.photoURL { photoURLs.append(url) }
        let event = InboundEvent(
            kind: .appMessage, at: clock(), userID: incoming.userID, userName: incoming.userName,
            text: incoming.text, media: photoURLs.isEmpty ? .none : .photo)
        var withPhotos = event
        withPhotos.photoURLs = photoURLs
        let result = try await engine.handle(withPhotos)
        // As the seed: `photo_count` counts the files uploaded with the message, not a link.
        return SendMessageResponse(messageID: result.inboundMessageID, photoURL: photoURLs.first, photoCount: incoming.photos.count).response
    }

    private func readMessage(_ request: Request) async throws -> IncomingMessage {
        let contentType = request.headers[.contentType] ?? ""
        // The usual header is exactly this; the general path walks it character by character.
        let mediaType = contentType == "application/json" ? contentType : contentType.prefix { $0 != ";" }.filter { $0 != " " && $0 != "\t" }.lowercased()
        switch mediaType {
        case "application/json":
            let fields = try JSONFields(body: try await collect(request, upTo: InputLimits.maxJSONBody))
            // Read first: a photo the app already uploaded elsewhere makes a message without text.
            let photoURL = try fields.string("photo_url")
            if let url = photoURL {
                // A host is needed too: `https://` alone parses, and staff would get a dead link.
                guard url.hasPrefix("https://") || url.hasPrefix("http://"), let host = URL(string: url)?.host, !host.isEmpty, url.count <= 2048 else {
                    throw APIError.badRequest("photo_url must be an http(s) URL")
                }
            }
            var message = try validated(
                userID: fields.required("user_id"), userName: fields.string("user_name"), text: fields.string("message"), hasPhotos: photoURL != nil)
            message.photoURL = photoURL
            return message
        case "multipart/form-data":
            guard let boundary = HeaderParameters.value(of: "boundary", in: contentType) else {
                throw APIError.badRequest("multipart/form-data without a boundary")
            }
            let reader = MultipartMessageReader(
                boundary: boundary, uploads: uploads, maxPhotos: configuration.maxPhotosPerMessage,
                maxPhotoBytes: configuration.maxUploadBytes, maxTextBytes: InputLimits.maxJSONBody)
            let form = try await reader.read(request.body, upTo: configuration.maxPhotosPerMessage * configuration.maxUploadBytes + InputLimits.maxJSONBody)
            do {
                func text(_ name: String) throws(APIError) -> String? {
                    guard let bytes = form.texts[name] else { return nil }
                    guard let value = String(validating: bytes, as: UTF8.self) else { throw .badRequest("\(name) is not UTF-8 text") }
                    return value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : value
                }
                var message = try validated(userID: text("user_id") ?? "", userName: text("user_name"), text: text("message"), hasPhotos: !form.photos.isEmpty)
                message.photos = form.photos
                return message
            } catch {
                for photo in form.photos { uploads.discard(photo) }
                throw error
            }
        case "":
            throw APIError(.unsupportedMediaType, "Content-Type is missing; send application/json or multipart/form-data")
        default:
            throw APIError(.unsupportedMediaType, "Content-Type \(mediaType) is not accepted; send application/json or multipart/form-data")
        }
    }

    private func validated(userID: String, userName: String?, text: String?, hasPhotos: Bool) throws(APIError) -> IncomingMessage {
        guard !userID.isEmpty else { throw .badRequest("user_id is required") }
        let id = try InputLimits.userID(userID)
        // The seed requires a message; a photo alone (uploaded, or a `photo_url` link) is
        // accepted too, as apps send them.
        guard let text = text ?? (hasPhotos ? "" : nil) else { throw .badRequest("message is required") }
        guard InputLimits.length(text) <= InputLimits.maxMessageLength else {
            throw .badRequest("message is longer than \(InputLimits.maxMessageLength) characters")
        }
        if let userName, InputLimits.length(userName) > InputLimits.maxNameLength {
            throw .badRequest("user_name is longer than \(InputLimits.maxNameLength) characters")
        }
        return IncomingMessage(userID: id, userName: userName, text: text)
    }

    private func collect(_ request: Request, upTo limit: Int) async throws -> Data {
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "the request body is larger than \(limit / (1024 * 1024)) MB")
        }
    }

    // MARK: POST /register_device

    @Sendable func registerDevice(_ request: Request, context: Context) async throws -> Response {
        guard (request.headers[.contentType] ?? "").lowercased().hasPrefix("application/json") else {
            throw APIError(.unsupportedMediaType, "send the device as application/json")
        }
        let fields = try JSONFields(body: try await collect(request, upTo: InputLimits.maxJSONBody))
        let userID = try InputLimits.userID(fields.required("user_id"))
        let token = try fields.required("fcm_token")
        guard token.count <= 4096, !token.contains(where: \.isWhitespace) else { throw APIError.badRequest("fcm_token is not a registration token") }
        let device = Device(token: token, userID: userID, platform: try fields.string("platform"), deviceID: try fields.string("device_id"))
        let count = try await queries.registerDevice(device, at: clock())
        logger.info("device registered", metadata: ["user": "\(userID)", "devices": "\(count)"])
        return JSONBody.response(["success": true, "message": "Устройство зарегистрировано успешно", "device_count": count])
    }

    // MARK: GET /message_history/<user_id>

    @Sendable func messageHistory(_ request: Request, context: Context) async throws -> Response {
        let userID = try InputLimits.userID(try pathUserID(context))
        // Read as clients write it: `+` is a space (see `FormQuery`).
        let query = FormQuery(request.uri.query)
        // As the seed: a limit that is not a number means the default; it is kept
        // within 1...1000 so one request cannot read a whole history.
        var limit = 50
        if let raw = query.first("limit"), let value = Int(raw.trimmingCharacters(in: .whitespaces)) {
            limit = min(1000, max(1, value))
        }
        // A name that is blank once decoded (`user_name=+++`) is no name: the greeting has none.
        let userName = query.first("user_name").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        if let userName, InputLimits.length(userName) > InputLimits.maxNameLength {
            throw APIError.badRequest("user_name is longer than \(InputLimits.maxNameLength) characters")
        }
        let (result, newest) = try await engine.handleHistoryFetch(InboundEvent(kind: .historyFetch, at: clock(), userID: userID, userName: userName))
        let greeted = result.actions.contains { $0.type == "greet" }
        if let cached = historyPages.messagesJSON(userID: userID, limit: limit, newestMessageID: newest) {
            return Self.historyResponse(messagesJSON: cached, greetingSent: greeted)
        }
        let stored = try await queries.history(userID: userID, limit: limit)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let messagesJSON = try encoder.encode(stored.map(HistoryItem.init))
        if let newestStored = stored.last?.id {
            historyPages.store(messagesJSON, userID: userID, limit: limit, newestMessageID: newestStored)
        }
        return Self.historyResponse(messagesJSON: messagesJSON, greetingSent: greeted)
    }

    /// `{"success": true, "messages": [...], "greeting_sent": bool}` around an encoded
    /// `messages` array (JSONEncoder's, fresh or cached).
    static func historyResponse(messagesJSON: Data, greetingSent: Bool) -> Response {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(messagesJSON.count + 48)
        buffer.writeString(#"{"success":true,"messages":"#)
        buffer.writeBytes(messagesJSON)
        buffer.writeString(greetingSent ? #","greeting_sent":true}"# : #","greeting_sent":false}"#)
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: buffer))
    }

    // MARK: GET /check_device/<user_id>

    @Sendable func checkDevice(_ request: Request, context: Context) async throws -> Response {
        let userID = try InputLimits.userID(try pathUserID(context))
        let devices = try await queries.devices(userID: userID)
        return JSONBody.response(["user_id": userID, "registered": !devices.isEmpty, "device_count": devices.count, "has_tokens": !devices.isEmpty])
    }

    // MARK: GET /uploads/<filename>

    /// Streams the file from disk in chunks, on NIO's file threads: a photo is never read
    /// whole into memory, nor read on the cooperative pool. One `Range` (`bytes=a-b`,
    /// `bytes=a-`, `bytes=-n`) gets 206 with that part; one past the end, 416.
    @Sendable func upload(_ request: Request, context: Context) async throws -> Response {
        guard let name = context.parameters.get("filename"), let file = uploads.file(named: name) else {
            throw APIError(.notFound, "no such file")
        }
        var headers: HTTPFields = [
            .contentType: file.contentType, .cacheControl: "public, max-age=31536000, immutable", .init("X-Content-Type-Options")!: "nosniff",
            .acceptRanges: "bytes",
        ]
        // `If-Range` names a version this server never gave out (it sends no validators):
        // the whole file is the answer that cannot be wrong.
        let range = request.headers[.ifRange] == nil ? ByteRange(header: request.headers[.range], size: file.size) : .whole
        let status: HTTPResponse.Status
        let bytes: ClosedRange<Int>?
        switch range {
        case .whole:
            (status, bytes) = (.ok, nil)
        case .part(let part):
            (status, bytes) = (.partialContent, part)
            headers[.contentRange] = "bytes \(part.lowerBound)-\(part.upperBound)/\(file.size)"
        case .unsatisfiable:
            var error = APIError(.rangeNotSatisfiable, "the range is past the end of the file (\(file.size) bytes)")
            error.headers = [.contentRange: "bytes */\(file.size)"]
            throw error
        }
        let body: ResponseBody
        do {
            if let bytes {
                body = try await fileIO.loadFile(path: file.path, range: bytes, context: context)
            } else {
                body = try await fileIO.loadFile(path: file.path, context: context)
            }
        } catch {
            throw APIError(.notFound, "no such file")
        }
        return Response(status: status, headers: headers, body: body)
    }

    // MARK: GET /health

    /// The seed's answer, and the running flows' fingerprint: instances behind one load
    /// balancer that show different ones run different flows.
    /// 200 whenever the process answers (a liveness probe must not restart instances
    /// because the shared database is away); `database` says whether it answered its last
    /// read (`DatabaseHealth`), `/ready` turns that into a 503 for load balancers.
    @Sendable func health(_ request: Request, context: Context) async throws -> Response {
        let reachable = await databaseHealth.reachable()
        return JSONBody.response(HealthAnswer(flows: FlowSetFingerprint.of(engine.flowSet), database: reachable ? "ok" : "down"))
    }

    /// `{"status": "ok", "flows": "...", "database": "ok"}`.
    private struct HealthAnswer: Encodable {
        var status = "ok"
        var flows: String
        var database: String
    }

    private func pathUserID(_ context: Context) throws(APIError) -> String {
        guard let raw = context.parameters.get("user_id"), let id = raw.removingPercentEncoding, !id.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .badRequest("user_id is required")
        }
        return id
    }
}
