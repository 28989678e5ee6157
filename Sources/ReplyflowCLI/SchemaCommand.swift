import ArgumentParser
import Flows

/// `replyflow schema`: the JSON Schema of flow files, for editors.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of flow files (for editor completion and checks)."
    )

    func run() throws {
        Console.standard().line(FlowSchema.json())
    }
}
