import Foundation
import Hummingbird
import MultipartKit
import NIOCore

/// Reads a `multipart/form-data` message of the app as it arrives: text fields are kept
/// (up to `maxTextBytes` in all), photos go straight into staged files in the uploads
/// folder, and each limit is enforced as soon as it is crossed, so a request of ten
/// 10 MB photos never sits in memory and an oversized one is refused before it is read.
/// A body without its closing boundary (cut short) is refused, not read in part.
struct MultipartMessageReader {
    let boundary: String
    let uploads: UploadStore
    let maxPhotos: Int
    let maxPhotoBytes: Int
    let maxTextBytes: Int

    /// Field names the app sends photos under.
    static let photoFields: Set<String> = ["photo", "photo[]", "photos"]
    /// The text fields read; other text parts are read past, not kept.
    static let textFields: Set<String> = ["user_id", "user_name", "message"]
    /// Bytes the parser may take without a header, body or part end coming out of them:
    /// it keeps a header line being read in memory, copying it on every chunk.
    static let maxQuietBytes = 64 * 1024
    /// Headers of one part: a form part has two or three.
    static let maxHeadersPerPart = 32

    /// The form's text fields (the first of each name) and its photos, received but not
    /// yet accepted. On a thrown error every staged photo is already removed.
    struct Form {
        var texts: [String: [UInt8]]
        var photos: [StagedUpload]
    }

    func read(_ body: RequestBody, upTo limit: Int) async throws -> Form {
        let state = FormState(reader: self)
        let parser = MultipartParser(boundary: boundary)
        var closing = ClosingDelimiterWatch(boundary: boundary)
        parser.onHeader = { name, value in state.header(name, value) }
        parser.onBody = { chunk in state.body(chunk) }
        parser.onPartComplete = { state.partComplete() }
        do {
            var received = 0
            for try await chunk in body {
                received += chunk.readableBytes
                guard received <= limit else { throw APIError(.contentTooLarge, "the request body is larger than \(limit / (1024 * 1024)) MB") }
                state.quietBytes += chunk.readableBytes
                do {
                    try parser.execute(chunk)
                } catch {
                    throw APIError.badRequest("the multipart body is malformed")
                }
                if let failure = state.failure { throw failure }
                closing.read(chunk, search: state.partJustEnded)
                guard state.quietBytes <= Self.maxQuietBytes else {
                    throw APIError.badRequest("the multipart body has no part boundary or header end in \(Self.maxQuietBytes / 1024) KB")
                }
                for photo in state.photos where photo.needsWrite { try await photo.write() }
            }
            guard state.partCount > 0 else { throw APIError.badRequest("the multipart body has no parts") }
            // A body cut short (or never finished) is refused whole, its photos removed
            // below, rather than accepted without the fields it lost.
            guard closing.seen else {
                throw APIError.badRequest("the multipart body ends without its closing boundary (--\(boundary)--): it was cut short or not finished")
            }
            for photo in state.photos where photo.needsWrite { try await photo.write() }
            return Form(texts: state.texts, photos: state.photos)
        } catch {
            state.discardAll()
            throw error
        }
    }
}

/// What the parser's callbacks collect. They cannot throw, so a broken limit is kept in
/// `failure` and thrown by the reader after the chunk.
private final class FormState {
    let reader: MultipartMessageReader
    var texts: [String: [UInt8]] = [:]
    var photos: [StagedUpload] = []
    var partCount = 0
    /// Whether the parser's last word was the end of a part: only then can the closing
    /// delimiter follow (see `ClosingDelimiterWatch`).
    var partJustEnded = false
    var failure: Error?
    /// Bytes handed to the parser since it last produced anything (see `maxQuietBytes`).
    var quietBytes = 0

    private var disposition: String?
    private var headerCount = 0
    private var part: Part?
    /// The text of the current part, when it is a text field that is read.
    private var text: [UInt8] = []
    private var textBytes = 0

    private enum Part {
        case text(name: String)
        case photo(StagedUpload?)
        case ignored
    }

    init(reader: MultipartMessageReader) { self.reader = reader }

    func header(_ name: String, _ value: String) {
        quietBytes = 0
        partJustEnded = false
        headerCount += 1
        if headerCount > MultipartMessageReader.maxHeadersPerPart {
            return fail(APIError.badRequest("a part of the multipart body has more than \(MultipartMessageReader.maxHeadersPerPart) headers"))
        }
        if name.lowercased() == "content-disposition" { disposition = value }
    }

    func body(_ chunk: ByteBuffer) {
        quietBytes = 0
        partJustEnded = false
        guard failure == nil else { return }
        if part == nil { part = startPart() }
        switch part {
        case .text?:
            textBytes += chunk.readableBytes
            guard textBytes <= reader.maxTextBytes else {
                return fail(APIError(.contentTooLarge, "the form's text fields are larger than \(reader.maxTextBytes / 1024) KB"))
            }
            text += chunk.readableBytesView
        case .photo(let staged)?:
            guard chunk.readableBytes > 0 else { return }
            do {
                let upload: StagedUpload
                if let staged {
                    upload = staged
                } else {
                    // Counted when its first byte arrives: an empty photo field is no photo.
                    guard photos.count < reader.maxPhotos else {
                        return fail(APIError(.contentTooLarge, "at most \(reader.maxPhotos) photos per message"))
                    }
                    upload = try reader.uploads.stage()
                    photos.append(upload)
                    part = .photo(upload)
                }
                guard upload.byteCount + chunk.readableBytes <= reader.maxPhotoBytes else {
                    return fail(APIError(.contentTooLarge, "a photo is larger than \(reader.maxPhotoBytes / (1024 * 1024)) MB"))
                }
                let hadHead = upload.head.count >= 16
                upload.append(chunk)
                // Told by its first bytes: a file that is not an image is refused before the rest is read.
                if !hadHead, upload.head.count >= 16, reader.uploads.kind(of: upload) == nil {
                    fail(APIError.unsupportedPhoto)
                }
            } catch {
                fail(error)
            }
        case .ignored?, nil:
            return
        }
    }

    func partComplete() {
        quietBytes = 0
        partJustEnded = true
        guard failure == nil else { return }
        partCount += 1
        switch part ?? startPart() {
        case .text(let name):
            if texts[name] == nil { texts[name] = text }
        case .photo(let staged?):
            staged.complete()
        case .photo(nil), .ignored:
            break
        }
        disposition = nil
        headerCount = 0
        part = nil
        text = []
    }

    func discardAll() {
        for staged in photos { reader.uploads.discard(staged) }
        photos = []
    }

    private func fail(_ error: Error) {
        if failure == nil { failure = error }
    }

    /// What the part is, from its `Content-Disposition`: a photo field, a text field that
    /// is read, or anything else (read past, not kept).
    private func startPart() -> Part {
        let disposition = disposition ?? ""
        let name = HeaderParameters.value(of: "name", in: disposition)
        let isFile = HeaderParameters.value(of: "filename", in: disposition) != nil
        guard let name else { return .ignored }
        if MultipartMessageReader.photoFields.contains(name) { return .photo(nil) }
        return !isFile && MultipartMessageReader.textFields.contains(name) ? .text(name: name) : .ignored
    }
}
