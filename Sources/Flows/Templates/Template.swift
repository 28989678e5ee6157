import Mustache

/// A text parameter of an action: a Mustache template, parsed and checked at load time.
///
/// Rendering uses the TEXT content type: chat messages are not HTML, so `{{user.name}}`
/// must come out exactly as the user typed it, `<` and `&` included.
public struct Template: Sendable {
    public let source: String
    /// nil when the text has no tags: rendering is then just the text, with no allocation.
    let mustache: MustacheTemplate?
    /// Every variable the template reads (dotted, as written: `user.name`), sections included.
    public let variables: [TemplateVariableUse]
    /// Set when the whole template is one variable (`{{answer}}`): rendering is then a
    /// lookup, which matters when replaying millions of events.
    let soleVariable: String?
    /// Whether the template can read `chat.auto_mode` (directly or inside `{{#chat}}`).
    let readsAutoMode: Bool
    /// Whether the template prints the AI's answer (`{{answer}}`): a reply that does, after
    /// `ask_assistant`, is the AI's message rather than the flow's.
    let readsAnswer: Bool
    /// Mustache's output per shape of the values; nil where it cannot stand in for Mustache.
    let skeletons: TemplateSkeletons?

    /// The pragma that switches swift-mustache from HTML escaping to plain text.
    static let textPragma = "{{%CONTENT_TYPE:TEXT}}"

    /// Parses a template. Throws `TemplateSyntaxError` with the position inside the text.
    public init(_ source: String) throws {
        self.source = source
        guard source.contains("{{") else {
            self.mustache = nil
            self.variables = []
            self.soleVariable = nil
            self.readsAutoMode = false
            self.readsAnswer = false
            self.skeletons = nil
            return
        }
        do {
            let parsed = try MustacheTemplate(string: Self.textPragma + source)
            self.mustache = parsed
            let variables = try TemplateInspector.variables(of: parsed)
            self.variables = variables
            self.readsAutoMode = variables.contains { $0.name.hasPrefix("chat") || $0.name == "auto_mode" }
            self.readsAnswer = variables.contains { $0.name == "answer" }
            if variables.count == 1, variables[0].enclosingSections.isEmpty,
                source == "{{\(variables[0].name)}}" || source == "{{{\(variables[0].name)}}}"
            {
                self.soleVariable = variables[0].name
            } else {
                self.soleVariable = nil
            }
            let transforms = variables.contains { $0.transformed }
            self.skeletons = transforms || TemplateSkeleton.hasMarker(source) ? nil : TemplateSkeletons(reading: variables)
        } catch let error as MustacheTemplate.ParserError {
            let line = error.context.lineNumber
            let column = line == 1 ? max(1, error.context.columnNumber - Self.textPragma.count) : error.context.columnNumber
            throw TemplateSyntaxError(message: Self.describe(error.error), line: line, column: column)
        }
    }

    /// The rendered text for these values.
    public func render(_ values: TemplateValues) -> String {
        guard let mustache else { return source }
        if let soleVariable { return values.text(of: soleVariable) }
        if let skeletons { return skeletons.render(mustache, values) }
        return mustache.render(values)
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case MustacheTemplate.Error.sectionCloseNameIncorrect: return "a section is closed with a different name than it was opened with"
        case MustacheTemplate.Error.unfinishedName: return "a tag is not closed: expected '}}'"
        case MustacheTemplate.Error.expectedSectionEnd: return "a section is opened but never closed: expected '{{/name}}'"
        case MustacheTemplate.Error.invalidSetDelimiter: return "invalid delimiter change"
        case MustacheTemplate.Error.invalidConfigVariableSyntax, MustacheTemplate.Error.unrecognisedConfigVariable:
            return "'{{%' pragmas are not supported in flows"
        default: return "invalid template: \(error)"
        }
    }
}

/// A syntax error inside a template, positioned within the template text (1-based).
public struct TemplateSyntaxError: Error, Sendable {
    public var message: String
    public var line: Int
    public var column: Int
}

/// A variable read by a template, and whether it was read inside a section of another name
/// (inside `{{#user}}`, `name` means `user.name`).
public struct TemplateVariableUse: Sendable, Hashable {
    public var name: String
    /// Names of the enclosing sections, outermost first.
    public var enclosingSections: [String]
    /// Partials and other tags that flows do not support.
    public var unsupported: String?
    /// Whether the tag applies a transform (`{{uppercased(user.name)}}`).
    public var transformed = false
    /// Whether the name opens a section (`{{#user}}`) rather than being printed.
    public var isSection = false
}

/// Walks the parsed template to list the variables it reads.
///
/// swift-mustache keeps its token list internal; `Mirror` reads it without forking the library.
/// If a future version changes that shape, the template tests (`{{answer}}` before
/// `ask_assistant` is an error) fail loudly rather than let unknown variables through.
enum TemplateInspector {
    struct InspectionFailed: Error {}

    static func variables(of template: MustacheTemplate) throws -> [TemplateVariableUse] {
        var uses: [TemplateVariableUse] = []
        try walk(template, sections: [], into: &uses)
        return uses
    }

    /// The `{{%CONTENT_TYPE:TEXT}}` pragma `Template` puts first is the only one allowed.
    private static func isInjectedPragma(_ index: Int, _ sections: [String]) -> Bool {
        index == 0 && sections.isEmpty
    }

    private static func walk(_ template: MustacheTemplate, sections: [String], into uses: inout [TemplateVariableUse]) throws {
        guard let tokens = Mirror(reflecting: template).children.first(where: { $0.label == "tokens" })?.value as? [Any] else {
            throw InspectionFailed()
        }
        for (index, token) in tokens.enumerated() {
            guard let tokenCase = Mirror(reflecting: token).children.first, let label = tokenCase.label else { continue }
            let fields = Mirror(reflecting: tokenCase.value).children
            let name = fields.first(where: { $0.label == "name" })?.value as? String
            let transformed = !((fields.first(where: { $0.label == "transforms" })?.value as? [String]) ?? []).isEmpty
            switch label {
            case "variable", "unescapedVariable":
                if let name { uses.append(TemplateVariableUse(name: name, enclosingSections: sections, transformed: transformed)) }
            case "section", "invertedSection":
                guard let name else { continue }
                uses.append(TemplateVariableUse(name: name, enclosingSections: sections, transformed: transformed, isSection: true))
                if let inner = fields.first(where: { $0.label == "template" })?.value as? MustacheTemplate {
                    try walk(inner, sections: sections + [name], into: &uses)
                }
            case "text":
                continue
            case "contentType" where isInjectedPragma(index, sections):
                continue
            case "contentType":
                // Another content type (HTML) would escape values: chat messages are plain text.
                uses.append(TemplateVariableUse(name: "", enclosingSections: sections, unsupported: "'{{%' pragmas are not supported in flows"))
            case "partial", "dynamicNamePartial":
                uses.append(TemplateVariableUse(name: "", enclosingSections: sections, unsupported: "partials ('{{>name}}') are not supported in flows"))
            default:
                uses.append(
                    TemplateVariableUse(name: "", enclosingSections: sections, unsupported: "template inheritance ('{{<' and '{{$') is not supported in flows"))
            }
        }
    }
}
