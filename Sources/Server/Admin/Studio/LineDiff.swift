/// A line diff of two texts for the history page, from the standard library's
/// `CollectionDifference` (Myers' algorithm): every line of both, in order, marked as
/// kept, removed (only in the old text) or added (only in the new one).
struct LineDiff: Sendable, Equatable {
    enum Kind: String, Sendable { case kept, removed, added }

    struct Line: Sendable, Equatable {
        var kind: Kind
        var text: String
        /// The line's number in the old text (kept and removed lines).
        var oldNumber: Int?
        /// The line's number in the new text (kept and added lines).
        var newNumber: Int?
    }

    var lines: [Line]
    var added: Int { lines.filter { $0.kind == .added }.count }
    var removed: Int { lines.filter { $0.kind == .removed }.count }

    init(from old: String, to new: String) {
        let oldLines = Self.lines(of: old), newLines = Self.lines(of: new)
        let difference = newLines.difference(from: oldLines)
        var removedOffsets = Set<Int>(), insertedOffsets = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removedOffsets.insert(offset)
            case .insert(let offset, _, _): insertedOffsets.insert(offset)
            }
        }
        var result: [Line] = []
        var oldIndex = 0, newIndex = 0
        while oldIndex < oldLines.count || newIndex < newLines.count {
            if oldIndex < oldLines.count, removedOffsets.contains(oldIndex) {
                result.append(Line(kind: .removed, text: oldLines[oldIndex], oldNumber: oldIndex + 1))
                oldIndex += 1
            } else if newIndex < newLines.count, insertedOffsets.contains(newIndex) {
                result.append(Line(kind: .added, text: newLines[newIndex], newNumber: newIndex + 1))
                newIndex += 1
            } else if oldIndex < oldLines.count, newIndex < newLines.count {
                result.append(Line(kind: .kept, text: newLines[newIndex], oldNumber: oldIndex + 1, newNumber: newIndex + 1))
                oldIndex += 1
                newIndex += 1
            } else {
                break
            }
        }
        lines = result
    }

    private static func lines(of text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}
