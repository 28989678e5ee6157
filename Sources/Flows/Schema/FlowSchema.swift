import Foundation

/// The JSON Schema of flow files, for editors (YAML language servers read it).
/// Built from `Vocabulary`, the same lists the loader checks against, so the two agree.
public enum FlowSchema {
    public static func json() -> String {
        let data = try! JSONSerialization.data(withJSONObject: document(), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func document() -> [String: Any] {
        let text: [String: Any] = ["type": "string"]
        let onOff: [String: Any] = ["oneOf": [["type": "boolean"], ["enum": ["on", "off"]]]]
        func oneOrMany(_ item: [String: Any]) -> [String: Any] {
            ["oneOf": [item, ["type": "array", "items": item, "minItems": 1]]]
        }
        func object(_ properties: [String: Any], required: [String] = []) -> [String: Any] {
            var schema: [String: Any] = ["type": "object", "properties": properties, "additionalProperties": false]
            if !required.isEmpty { schema["required"] = required }
            return schema
        }
        let trigger: [String: Any] = ["enum": Vocabulary.triggerNames]
        let conditions = object([
            "auto_mode": onOff,
            "media": oneOrMany(["enum": Vocabulary.mediaValues]),
            "source": oneOrMany(["enum": Vocabulary.sourceNames]),
            "text_contains": oneOrMany(text),
            "text_matches": ["type": "string", "format": "regex"],
            "user_name": ["enum": ["known", "missing"]],
            "time": object(
                [
                    "between": ["type": "string", "pattern": "^\\d{1,2}:\\d{2}-\\d{1,2}:\\d{2}$"],
                    "days": oneOrMany(text),
                    "timezone": text,
                ], required: ["between"]),
            "first_message": ["type": "boolean"],
            "variant": text,
            "any": ["type": "array", "items": ["$ref": "#/$defs/conditions"]],
            "all": ["type": "array", "items": ["$ref": "#/$defs/conditions"]],
            "not": ["$ref": "#/$defs/conditions"],
        ])
        let empty: [String: Any] = ["oneOf": [["type": "null"], object([:])]]
        func textAction(_ extra: [String: Any] = [:]) -> [String: Any] {
            var properties: [String: Any] = ["text": text]
            properties.merge(extra) { $1 }
            return ["oneOf": [text, ["type": "null"], object(properties)]]
        }
        let actionSchemas: [String: Any] = [
            "forward_to_group": textAction(),
            "push": textAction(["title": text]),
            "greet": textAction(),
            "reply": ["oneOf": [text, object(["text": text], required: ["text"])]],
            "transcribe": empty,
            "ask_assistant": ["oneOf": [["type": "null"], object(["prompt": text, "on_failure": ["$ref": "#/$defs/actions"]])]],
            "broadcast": empty,
            "set_auto_mode": ["oneOf": [onOff, object(["value": onOff], required: ["value"])]],
            "stop": empty,
        ]
        var actionVariants: [[String: Any]] = actionSchemas.keys.sorted().map { name in
            object([name: actionSchemas[name]!], required: [name])
        }
        actionVariants.append(
            object(["if": ["$ref": "#/$defs/conditions"], "then": ["$ref": "#/$defs/actions"], "else": ["$ref": "#/$defs/actions"]], required: ["if", "then"]))
        actionVariants.append(["enum": ["transcribe", "broadcast", "stop", "forward_to_group", "ask_assistant"]])
        let duration: [String: Any] = ["type": "string", "pattern": "^[0-9.]+[smhdw]$"]
        let experiment = object(
            [
                "key": text,
                "goal": object(["on": trigger, "within": duration], required: ["on"]),
                "variants": [
                    "type": "array", "minItems": 2,
                    "items": object(
                        [
                            "name": text,
                            "weight": ["type": "number", "exclusiveMinimum": 0],
                            "do": ["$ref": "#/$defs/actions"],
                        ], required: ["name"]),
                ],
            ], required: ["key", "variants"])
        var root = object(
            [
                "name": text,
                "description": text,
                "on": oneOrMany(trigger),
                "priority": ["type": "integer"],
                "enabled": ["type": "boolean"],
                "once_per_user": ["enum": OncePeriod.allCases.map(\.rawValue)],
                "if": ["$ref": "#/$defs/conditions"],
                "do": ["$ref": "#/$defs/actions"],
                "else": ["$ref": "#/$defs/actions"],
                "experiment": experiment,
            ], required: ["name", "on"])
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        root["$id"] = "https://replyflow.dev/schema/flow.json"
        root["title"] = "Replyflow flow"
        root["$defs"] = [
            "conditions": conditions,
            "actions": ["type": "array", "items": ["oneOf": actionVariants]],
        ]
        return root
    }
}
