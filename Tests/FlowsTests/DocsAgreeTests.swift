import Foundation
import Testing

@testable import Flows

// The docs and the schema say what the checker does.

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite("Docs and schema agree with the checker")
struct DocsAgreeTests {
    @Test("the README's example error is the one the shipped flow gives with that typo")
    func readmeExampleError() throws {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let shown = try #require(readme.split(separator: "\n").first { $0.hasPrefix("flows/daily-greeting.yaml:") }.map(String.init))
        let shipped = try String(contentsOf: packageRoot.appendingPathComponent("flows/daily-greeting.yaml"), encoding: .utf8)
        let typo = shipped.replacingOccurrences(of: "- greet:", with: "- gret:")
        let found = FlowLoader.load(files: [(path: "flows/daily-greeting.yaml", data: Data(typo.utf8))]).diagnostics
        #expect(found.map(\.description) == [shown], "README shows \(shown); the checker gives \(found.map(\.description))")
    }

    @Test("the schema's time window accepts what the checker accepts, spaces included")
    func betweenPattern() throws {
        let conditions = try #require((FlowSchema.document()["$defs"] as? [String: Any])?["conditions"] as? [String: Any])
        let time = try #require((conditions["properties"] as? [String: Any])?["time"] as? [String: Any])
        let between = try #require((time["properties"] as? [String: Any])?["between"] as? [String: Any])
        let pattern = try #require(between["pattern"] as? String)
        let regex = try NSRegularExpression(pattern: pattern)
        for window in ["09:00-18:00", "09:00 - 18:00", " 9:00-18:00 ", "22:00-06:00"] {
            #expect(TimeWindow.parseBetween(window) != nil, "\(window)")
            #expect(regex.firstMatch(in: window, range: NSRange(window.startIndex..., in: window)) != nil, "schema rejects \(window)")
        }
    }

    @Test("the schema takes on/off and yes/no where the checker does")
    func booleans() throws {
        let properties = try #require(FlowSchema.document()["properties"] as? [String: Any])
        let enabled = try #require(properties["enabled"] as? [String: Any])
        let text = String(describing: enabled)
        #expect(text.contains("off") && text.contains("yes"), "\(text)")
    }

    @Test("every key of the schema has a description and an example for editors' hover")
    func everyKeyDescribed() {
        var missing: [String] = []
        func walk(_ node: Any, _ path: String) {
            if let list = node as? [Any] { for (index, item) in list.enumerated() { walk(item, "\(path)[\(index)]") } }
            guard let object = node as? [String: Any] else { return }
            if let properties = object["properties"] as? [String: Any] {
                for (key, value) in properties {
                    let property = value as? [String: Any]
                    if property?["description"] as? String == nil || (property?["examples"] as? [Any])?.isEmpty != false { missing.append("\(path).\(key)") }
                }
            }
            for (key, value) in object { walk(value, "\(path)/\(key)") }
        }
        walk(FlowSchema.document(), "")
        #expect(missing.isEmpty, "keys without description or example: \(missing.sorted())")
    }
}
