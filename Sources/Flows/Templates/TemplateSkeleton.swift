import Mustache
import Synchronization

/// Mustache's output for a template with each text value replaced by a marker, so later
/// renders only put the values in.
///
/// With text values and the TEXT content type, what Mustache makes of a template depends
/// only on which values are empty (sections and inverted sections) and on the few values
/// that are not free text (media, source, auto mode). The library itself renders the
/// template once per such shape, with a marker for each text value; a render is then a
/// join of the pieces. swift-mustache finds each name by casting `Any` to its protocols,
/// which made the two-tag greeting cost more than the rest of its event (13 µs).
///
/// Markers are Unicode noncharacters (U+FDD0...), set aside for a program's internal use:
/// a template whose own text has one, or that uses a transform (which would change a
/// marker, not the value), is always rendered by Mustache directly.
struct TemplateSkeleton: Sendable {
    enum Piece: Sendable {
        case text(String)
        case value(TextField)
    }

    let pieces: [Piece]

    /// The text values a template can read, each with its marker.
    enum TextField: Int, CaseIterable, Sendable {
        case userID, userName, messageText, transcript, answer, variant, today

        var marker: Unicode.Scalar { Unicode.Scalar(0xFDD0 + UInt32(rawValue))! }

        static func field(of scalar: Unicode.Scalar) -> TextField? {
            guard scalar.value >= 0xFDD0 else { return nil }
            return TextField(rawValue: Int(scalar.value - 0xFDD0))
        }

        func text(in values: TemplateValues) -> String {
            switch self {
            case .userID: values.userID
            case .userName: values.userName ?? ""
            case .messageText: values.messageText ?? ""
            case .transcript: values.transcript ?? ""
            case .answer: values.answer ?? ""
            case .variant: values.variant ?? ""
            case .today: values.today
            }
        }
    }

    /// The values a template can read, from the names in its tags: a dotted name, a field
    /// name (inside `{{#user}}`), or an object, which reads all of its fields. Reading too
    /// much only makes more shapes; reading too little would be wrong, so this errs wide.
    struct Reads: Sendable {
        var texts: UInt8 = 0
        var media = false
        var source = false
        var autoMode = false

        init(_ uses: [TemplateVariableUse]) {
            let names = Set(uses.flatMap { [$0.name] + $0.enclosingSections })
            func reads(_ dotted: String) -> Bool {
                let parts = dotted.split(separator: ".").map(String.init)
                return names.contains(dotted) || names.contains(parts[0]) || names.contains(parts.last!)
            }
            for (field, dotted) in [
                (TextField.userID, "user.id"), (.userName, "user.name"), (.messageText, "message.text"), (.transcript, "transcript"), (.answer, "answer"),
                (.variant, "variant"), (.today, "today"),
            ]
            where reads(dotted) {
                texts |= 1 << field.rawValue
            }
            media = reads("message.media")
            source = reads("chat.source")
            autoMode = reads("chat.auto_mode")
        }
    }

    /// What decides the skeleton: which of the read text values are empty, and the other
    /// values read.
    struct Shape: Hashable, Sendable {
        var nonEmpty: UInt8
        var media: MediaKind?
        var source: ChatSource
        var autoMode: Bool

        init(_ values: TemplateValues, reads: Reads) {
            var mask: UInt8 = 0
            for field in TextField.allCases where reads.texts & (1 << field.rawValue) != 0 && !field.text(in: values).isEmpty {
                mask |= 1 << field.rawValue
            }
            nonEmpty = mask
            media = reads.media ? values.messageMedia : nil
            source = reads.source ? values.chatSource : .app
            autoMode = reads.autoMode ? values.autoMode : false
        }

        /// Values of this shape with a marker for every non-empty text.
        var markedValues: TemplateValues {
            func marker(_ field: TextField) -> String? {
                nonEmpty & (1 << field.rawValue) == 0 ? nil : String(Character(field.marker))
            }
            return TemplateValues(
                userID: marker(.userID) ?? "", userName: marker(.userName), messageText: marker(.messageText), messageMedia: media,
                chatSource: source, autoMode: autoMode, transcript: marker(.transcript), answer: marker(.answer),
                variant: marker(.variant), today: marker(.today) ?? ""
            )
        }
    }

    /// Renders `template` for the shape and cuts the output at the markers.
    init(template: MustacheTemplate, shape: Shape) {
        let output = template.render(shape.markedValues)
        var pieces: [Piece] = []
        var text = String.UnicodeScalarView()
        for scalar in output.unicodeScalars {
            if let field = TextField.field(of: scalar) {
                if !text.isEmpty { pieces.append(.text(String(text))) }
                text = String.UnicodeScalarView()
                pieces.append(.value(field))
            } else {
                text.append(scalar)
            }
        }
        if !text.isEmpty { pieces.append(.text(String(text))) }
        self.pieces = pieces
    }

    func render(_ values: TemplateValues) -> String {
        var output = ""
        for piece in pieces {
            switch piece {
            case .text(let text): output += text
            case .value(let field): output += field.text(in: values)
            }
        }
        return output
    }

    /// Whether a template's own text could be taken for a marker.
    static func hasMarker(_ source: String) -> Bool {
        source.unicodeScalars.contains { (0xFDD0...0xFDEF).contains($0.value) }
    }
}

/// The skeletons of one template, made on first use of each shape. A template has a
/// handful of shapes in practice; past `limit` (a template reading many values in many
/// combinations) Mustache renders the rest directly.
final class TemplateSkeletons: Sendable {
    private let reads: TemplateSkeleton.Reads
    private let skeletons = Mutex<[TemplateSkeleton.Shape: TemplateSkeleton]>([:])
    static let limit = 64

    init(reading uses: [TemplateVariableUse]) {
        reads = TemplateSkeleton.Reads(uses)
    }

    func render(_ template: MustacheTemplate, _ values: TemplateValues) -> String {
        let shape = TemplateSkeleton.Shape(values, reads: reads)
        let (known, full) = skeletons.withLock { ($0[shape], $0.count >= Self.limit) }
        if let known { return known.render(values) }
        if full { return template.render(values) }
        let skeleton = TemplateSkeleton(template: template, shape: shape)
        skeletons.withLock { if $0.count < Self.limit { $0[shape] = skeleton } }
        return skeleton.render(values)
    }
}
