import Mustache
import Testing

@testable import Flows

/// A template rendered from its skeleton must give exactly what Mustache gives.
@Suite("Templates: skeleton renders match Mustache")
struct TemplateSkeletonTests {
    static let templates = [
        "Здравствуйте{{#user.name}}, {{user.name}}{{/user.name}}!",
        "{{^user.name}}Hello, stranger{{/user.name}}{{#user.name}}Hello, {{.}}{{/user.name}}",
        "{{#user}}{{name}} ({{id}}){{/user}} wrote {{message.text}} on {{today}}",
        "{{#answer}}AI: {{answer}}{{/answer}}{{^answer}}no answer{{/answer}} / {{transcript}} / {{variant}}",
        "media={{message.media}} source={{chat.source}} auto={{chat.auto_mode}}{{#chat}} [{{source}}]{{/chat}}",
        "{{{user.name}}} & {{message.text}} <b>",
    ]

    static var valueSets: [TemplateValues] {
        [
            TemplateValues(
                userID: "42", userName: "Анна", messageText: "Hi <there> & {{user.id}}", messageMedia: MediaKind.none, chatSource: .app, autoMode: true,
                transcript: nil, answer: "Sure", variant: "b", today: "2026-11-21"),
            TemplateValues(
                userID: "7", userName: nil, messageText: nil, messageMedia: .photo, chatSource: .instagram, autoMode: false, transcript: "voice text",
                answer: nil, variant: nil, today: "2026-11-22"),
            TemplateValues(
                userID: "8", userName: "", messageText: "", messageMedia: nil, chatSource: .telegram, autoMode: true, transcript: "", answer: "", variant: "",
                today: "2026-01-01"),
            // A value holding a marker character is put in as it is.
            TemplateValues(
                userID: "9", userName: "x" + marker(1) + "y", messageText: marker(0), messageMedia: .voice, chatSource: .app, autoMode: true, transcript: nil,
                answer: "{{#x}}", variant: nil, today: "2026-11-21"),
        ]
    }

    /// A noncharacter, as the skeleton's markers are (Swift literals refuse them).
    static func marker(_ offset: UInt32) -> String { String(Character(Unicode.Scalar(0xFDD0 + offset)!)) }

    @Test("every template and value set renders the same through the skeleton as through Mustache", arguments: templates)
    func sameAsMustache(_ source: String) throws {
        let template = try Template(source)
        let mustache = try #require(template.mustache)
        #expect(template.skeletons != nil)
        for values in Self.valueSets {
            // Twice: the first render makes the skeleton, the second uses the remembered one.
            #expect(template.render(values) == mustache.render(values))
            #expect(template.render(values) == mustache.render(values))
        }
    }

    @Test("a shape is made of the values the template reads: the greeting has two whatever the rest")
    func shapesFollowWhatIsRead() throws {
        let greeting = try Template("Здравствуйте{{#user.name}}, {{user.name}}{{/user.name}}!")
        let reads = TemplateSkeleton.Reads(greeting.variables)
        let shapes = Set(Self.valueSets.map { TemplateSkeleton.Shape($0, reads: reads) })
        #expect(shapes.count == 2)
        let chat = try Template("{{#chat}}{{source}} {{auto_mode}}{{/chat}}")
        let chatReads = TemplateSkeleton.Reads(chat.variables)
        #expect(chatReads.source && chatReads.autoMode && !chatReads.media && chatReads.texts == 0)
    }

    @Test("the greeting renders with and without a name")
    func greeting() throws {
        let template = try Template("Здравствуйте{{#user.name}}, {{user.name}}{{/user.name}}!")
        #expect(template.render(Self.valueSets[0]) == "Здравствуйте, Анна!")
        #expect(template.render(Self.valueSets[1]) == "Здравствуйте!")
        #expect(template.render(Self.valueSets[2]) == "Здравствуйте!")
    }

    @Test("a transform or a marker in the template's own text is always rendered by Mustache")
    func fallbacks() throws {
        let transformed = try Template("{{uppercased(user.name)}}!")
        #expect(transformed.skeletons == nil)
        #expect(transformed.render(Self.valueSets[0]) == "АННА!")
        let marked = try Template(Self.marker(0) + "{{user.id}}")
        #expect(marked.skeletons == nil)
        #expect(marked.render(Self.valueSets[0]) == Self.marker(0) + "42")
    }
}
