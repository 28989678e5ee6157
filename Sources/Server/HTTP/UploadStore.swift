import Foundation
import NIOCore
import NIOPosix

/// The uploads folder: photos are stored under generated names, and only names this
/// server could have generated are ever served, so no request reaches outside the folder.
struct UploadStore: Sendable {
    let directory: String
    let maxBytes: Int

    /// Throws `WritableFolder.Problem` when the folder cannot be made or written.
    init(directory: String, maxBytes: Int) throws {
        self.directory = directory
        self.maxBytes = maxBytes
        try WritableFolder.prepare(directory)
        // Photos half-received when a server stopped (or crashed): nobody will finish them.
        // Those another server sharing the folder is receiving are locked, and kept.
        StagingLock.removeAbandoned(in: directory, prefix: Self.stagingPrefix)
    }

    /// Names of photos still arriving: hidden, so never served (see `isGeneratedName`).
    static let stagingPrefix = ".arriving-"

    enum Failure: Error {
        case tooLarge
        case notAnImage
    }

    /// Stores an image and returns its public path (`/uploads/NAME`).
    func save(_ bytes: [UInt8]) throws -> String {
        guard bytes.count <= maxBytes else { throw Failure.tooLarge }
        guard let kind = ImageKind(sniffing: bytes) else { throw Failure.notAnImage }
        let name = Self.newName(for: kind)
        try Data(bytes).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name), options: .atomic)
        return "/uploads/" + name
    }

    /// A new empty file, locked, for a photo that is still arriving.
    func stage() throws -> StagedUpload {
        // A second name only if a starting server's sweep took the first (see StagingLock).
        for _ in 0..<3 {
            let path = (directory as NSString).appendingPathComponent(Self.stagingPrefix + UUID().uuidString.lowercased())
            if let lock = StagingLock.create(at: path) { return StagedUpload(path: path, lock: lock) }
        }
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: directory])
    }

    /// The kind of image a fully received photo is, or nil when it is not one we accept.
    func kind(of staged: StagedUpload) -> ImageKind? {
        ImageKind(sniffing: staged.head)
    }

    /// Moves a received photo to its public name and returns its public path (`/uploads/NAME`).
    func save(_ staged: StagedUpload, as kind: ImageKind) throws -> String {
        let name = Self.newName(for: kind)
        try FileManager.default.moveItem(atPath: staged.path, toPath: (directory as NSString).appendingPathComponent(name))
        staged.unlock()
        return "/uploads/" + name
    }

    /// Removes a photo that was not accepted (no-op once it is saved).
    func discard(_ staged: StagedUpload) {
        staged.abandon()
        try? FileManager.default.removeItem(atPath: staged.path)
        staged.unlock()
    }

    /// A name no one can guess, with the extension of the image's real format.
    private static func newName(for kind: ImageKind) -> String {
        UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") + "." + kind.fileExtension
    }

    /// The file, its content type and size for a served name, or nil when the name is not
    /// one of ours or there is no such file.
    func file(named name: String) -> (path: String, contentType: String, size: Int)? {
        guard Self.isGeneratedName(name), let dot = name.lastIndex(of: "."),
            let kind = ImageKind(fileExtension: String(name[name.index(after: dot)...]))
        else { return nil }
        let path = (directory as NSString).appendingPathComponent(name)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), attributes[.type] as? FileAttributeType == .typeRegular,
            let size = (attributes[.size] as? NSNumber)?.intValue
        else { return nil }
        return (path, kind.contentType, size)
    }

    /// The local path of a public `/uploads/NAME` path.
    func localPath(forPublicPath publicPath: String) -> String? {
        guard publicPath.hasPrefix("/uploads/") else { return nil }
        return file(named: String(publicPath.dropFirst("/uploads/".count)))?.path
    }

    /// Letters, digits, `_`, `-` and one dot: no separators, no `..`, no hidden files.
    static func isGeneratedName(_ name: String) -> Bool {
        guard (3...128).contains(name.count), !name.hasPrefix("."), name.filter({ $0 == "." }).count == 1 else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "." || $0 == "_" || $0 == "-") }
    }
}

/// A photo being received into the uploads folder, under a hidden name until accepted.
///
/// Bytes are gathered in memory and written in large pieces on NIO's blocking-I/O pool:
/// the multipart parser hands a body over in small pieces (it cuts at every CR), and a
/// write per piece on the cooperative pool would let one upload hold a thread.
final class StagedUpload: @unchecked Sendable {
    // Used by one request's body reader only, then by the same request's handler.
    let path: String
    private let handle: FileHandle
    private let lock: StagingLock
    private var isLocked = true
    /// The first bytes, which tell the image format.
    private(set) var head: [UInt8] = []
    private(set) var byteCount = 0
    private var buffered = ByteBuffer()
    /// The part has ended: once what is buffered is written, the file is closed.
    private(set) var isComplete = false
    private var isClosed = false

    /// Bytes gathered before they are written.
    static let writeSize = 256 * 1024

    init(path: String, lock: StagingLock) {
        self.path = path
        self.lock = lock
        self.handle = FileHandle(fileDescriptor: lock.writingDescriptor(), closeOnDealloc: true)
    }

    deinit {
        // Saved or discarded uploads are unlocked already; this only keeps a descriptor
        // from leaking should a request end some other way.
        unlock()
    }

    func append(_ bytes: ByteBuffer) {
        if head.count < 16 { head += bytes.readableBytesView.prefix(16 - head.count) }
        byteCount += bytes.readableBytes
        buffered.writeImmutableBuffer(bytes)
    }

    func complete() {
        isComplete = true
    }

    /// Whether `write()` has something worth doing now.
    var needsWrite: Bool {
        !isClosed && (buffered.readableBytes >= Self.writeSize || isComplete)
    }

    /// Writes what is buffered, and closes the file once the part is complete.
    func write() async throws {
        let bytes = buffered
        buffered = ByteBuffer()
        let close = isComplete
        if close { isClosed = true }
        let handle = handle
        try await NIOThreadPool.singleton.runIfActive {
            if bytes.readableBytes > 0 { try bytes.withUnsafeReadableBytes { try handle.write(contentsOf: $0) } }
            if close { try handle.close() }
        }
    }

    /// Closes the file without writing what is left (the upload is being thrown away).
    func abandon() {
        guard !isClosed else { return }
        isClosed = true
        try? handle.close()
    }

    /// Gives up the staging lock once the file has moved or gone (a refused message's
    /// photos are discarded after some were saved, so this may come twice).
    func unlock() {
        guard isLocked else { return }
        isLocked = false
        lock.release()
    }
}
