import Foundation

/// What a new version holds; `id` and the time are given by `recordFlowVersions`.
public struct NewFlowVersion: Sendable {
    public var file: String
    public var change: FlowVersion.Change
    public var content: String?
    public var contentHash: String?
    public var comment: String
    public var author: String

    public init(file: String, change: FlowVersion.Change, content: String?, contentHash: String?, comment: String = "", author: String) {
        self.file = file
        self.change = change
        self.content = content
        self.contentHash = contentHash
        self.comment = comment
        self.author = author
    }
}

/// The flow studio's history of flow files, on SQLite (`ReplyflowDatabase`) or PostgreSQL
/// (`PostgresFlowVersions`). Append-only.
public protocol FlowVersionStore: Sendable {
    /// Appends versions in one transaction (an outside change and the save after it go in
    /// together), in order; returns them with their ids.
    @discardableResult
    func recordFlowVersions(_ versions: [NewFlowVersion], at now: Date) async throws -> [FlowVersion]
    /// A file's versions, newest first.
    func flowVersions(of file: String, limit: Int) async throws -> [FlowVersion]
    /// One version of a file; nil when there is none with that id for that file.
    func flowVersion(id: Int64, of file: String) async throws -> FlowVersion?
    /// The newest version of every file that has one.
    func latestFlowVersions() async throws -> [String: FlowVersion]
}

extension FlowVersionStore {
    /// A file's newest 200 versions.
    public func flowVersions(of file: String) async throws -> [FlowVersion] {
        try await flowVersions(of: file, limit: 200)
    }
}
