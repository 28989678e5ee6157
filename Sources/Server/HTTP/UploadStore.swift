import Foundation

/// The uploads folder: photos are stored under generated names, and only names this
/// server could have generated are ever served, so no request reaches outside the folder.
struct UploadStore: Sendable {
    let directory: String
    let maxBytes: Int

    init(directory: String, maxBytes: Int) throws {
        self.directory = directory
        self.maxBytes = maxBytes
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    enum Failure: Error {
        case tooLarge
        case notAnImage
    }

    /// Stores an image and returns its public path (`/uploads/NAME`).
    func save(_ bytes: [UInt8]) throws -> String {
        guard bytes.count <= maxBytes else { throw Failure.tooLarge }
        guard let kind = ImageKind(sniffing: bytes) else { throw Failure.notAnImage }
        let name = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") + "." + kind.fileExtension
        try Data(bytes).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name), options: .atomic)
        return "/uploads/" + name
    }

    /// The file and content type for a served name, or nil when the name is not one of ours.
    func file(named name: String) -> (path: String, contentType: String)? {
        guard Self.isGeneratedName(name), let dot = name.lastIndex(of: "."),
              let kind = ImageKind(fileExtension: String(name[name.index(after: dot)...])) else { return nil }
        let path = (directory as NSString).appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return (path, kind.contentType)
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
