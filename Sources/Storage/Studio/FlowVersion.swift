import Foundation
import GRDB

/// One recorded version of a flow file (the flow studio's history).
public struct FlowVersion: Sendable, Equatable {
    /// What made the version.
    public enum Change: String, Sendable, CaseIterable {
        /// Saved in the panel.
        case save
        /// An earlier version put back in the panel.
        case restore
        /// The file removed in the panel (the version has no content).
        case delete
        /// The content the file had before a save, restore or delete, when it differed from
        /// the last recorded version: someone changed the file by hand.
        case outside
    }

    public var id: Int64
    /// The file's name inside `FLOWS_DIR` (`greeting.yaml`).
    public var file: String
    public var change: Change
    /// The file's text; nil for a delete.
    public var content: String?
    /// SHA-256 of `content`, in hex; nil for a delete.
    public var contentHash: String?
    public var comment: String
    /// The staff member's username, or "outside the panel".
    public var author: String
    public var createdAt: Date

    public init(
        id: Int64, file: String, change: Change, content: String?, contentHash: String?, comment: String, author: String, createdAt: Date
    ) {
        self.id = id
        self.file = file
        self.change = change
        self.content = content
        self.contentHash = contentHash
        self.comment = comment
        self.author = author
        self.createdAt = createdAt
    }
}

extension FlowVersion: FetchableRecord {
    /// Reads a `flow_versions` row; a change written by a newer version reads as `save`.
    public init(row: Row) {
        self.init(
            id: row["id"], file: row["file"], change: Change(rawValue: row["change"]) ?? .save, content: row["content"],
            contentHash: row["content_hash"], comment: row["comment"], author: row["author"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }
}
