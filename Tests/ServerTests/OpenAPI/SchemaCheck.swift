import Foundation
import OpenAPIKit
import SocketIO

/// Checks a JSON value against a schema of the OpenAPI document, as OpenAPIKit reads it:
/// types, `null` where allowed, `const`/`enum`, required properties and the schemas of
/// the properties present, array items, lengths, bounds and patterns, `allOf`/`anyOf`/
/// `oneOf`. Enough to hold the server's answers to the document; not a full JSON Schema
/// validator (no `not`, `if`, formats).
enum SchemaCheck {
    /// Every way `value` breaks `schema`, each as "path: what"; empty when it conforms.
    static func problems(_ value: JSONValue, against schema: DereferencedJSONSchema, at path: String = "$") -> [String] {
        if value == .null {
            if schema.nullable || allows(.null, schema.allowedValues) { return [] }
            if case .null = schema { return [] }
            if case .fragment = schema, schema.allowedValues == nil { return [] }
        }
        if let allowed = schema.allowedValues, !allows(value, allowed) {
            return ["\(path): \(value) is not one of \(allowed.map { "\($0)" })"]
        }
        switch schema {
        case .null:
            return ["\(path): expected null, got \(value)"]
        case .boolean:
            if case .bool = value { return [] }
            return ["\(path): expected a boolean, got \(value)"]
        case .integer(_, let bounds):
            // JSON has one kind of number: an integer is one without a fraction.
            guard case .number(let double) = value, let number = Int(exactly: double) else {
                return ["\(path): expected an integer, got \(value)"]
            }
            var found: [String] = []
            if let minimum = bounds.minimum, number < minimum.value || (minimum.exclusive && number == minimum.value) {
                found.append("\(path): \(number) is below the minimum \(minimum.value)")
            }
            if let maximum = bounds.maximum, number > maximum.value || (maximum.exclusive && number == maximum.value) {
                found.append("\(path): \(number) is above the maximum \(maximum.value)")
            }
            return found
        case .number:
            if case .number = value { return [] }
            return ["\(path): expected a number, got \(value)"]
        case .string(_, let context):
            guard case .string(let text) = value else { return ["\(path): expected a string, got \(value)"] }
            var found: [String] = []
            if text.count < context.minLength { found.append("\(path): shorter than \(context.minLength) characters") }
            if let maxLength = context.maxLength, text.count > maxLength { found.append("\(path): longer than \(maxLength) characters") }
            if let pattern = context.pattern, text.range(of: pattern, options: .regularExpression) == nil {
                found.append("\(path): \"\(text)\" does not match \(pattern)")
            }
            return found
        case .object(_, let context):
            guard case .object(let members) = value else { return ["\(path): expected an object, got \(value)"] }
            var found = context.requiredProperties.filter { members[$0] == nil }.map { "\(path): the required property \($0) is missing" }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let property = context.properties[name] {
                    found += problems(member, against: property, at: "\(path).\(name)")
                } else if case .b(let additional) = context.additionalProperties {
                    found += problems(member, against: additional, at: "\(path).\(name)")
                } else if case .a(false) = context.additionalProperties {
                    found.append("\(path): the property \(name) is not in the schema")
                }
            }
            return found
        case .array(_, let context):
            guard case .array(let items) = value else { return ["\(path): expected an array, got \(value)"] }
            var found: [String] = []
            if items.count < context.minItems { found.append("\(path): fewer than \(context.minItems) items") }
            if let maxItems = context.maxItems, items.count > maxItems { found.append("\(path): more than \(maxItems) items") }
            if let itemSchema = context.items {
                for (index, item) in items.enumerated() { found += problems(item, against: itemSchema, at: "\(path)[\(index)]") }
            }
            return found
        case .all(let schemas, _):
            return schemas.flatMap { problems(value, against: $0, at: path) }
        case .any(let schemas, _), .one(let schemas, _):
            let each = schemas.map { problems(value, against: $0, at: path) }
            if each.contains(where: \.isEmpty) { return [] }
            return ["\(path): \(value) matches none of the \(schemas.count) alternatives (\(each.map { $0.joined(separator: "; ") }.joined(separator: " | ")))"]
        case .not, .fragment:
            return []
        }
    }

    /// Whether `value` equals one of a schema's `const`/`enum` values.
    private static func allows(_ value: JSONValue, _ allowed: [AnyCodable]?) -> Bool {
        guard let allowed else { return false }
        return allowed.contains { candidate in
            guard let data = try? JSONEncoder().encode(candidate), let decoded = try? JSONDecoder().decode(JSONValue.self, from: data) else { return false }
            return decoded == value
        }
    }
}
