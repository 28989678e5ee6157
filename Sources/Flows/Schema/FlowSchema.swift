import Foundation

/// The JSON Schema of flow files, for editors (YAML language servers read it).
/// Built from `Vocabulary`, the same lists the loader checks against, so the two agree.
public enum FlowSchema {
    public static func json() -> String {
        let data = try! JSONSerialization.data(withJSONObject: document(), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// What each key means and an example, as an editor shows them on hover. Keyed by the
    /// key's name; a test checks every key of the schema has both.
    static var help: [String: (description: String, example: Any)] {
        [
            "name": ("The flow's name, unique across files; shown in dry-runs, tests and reports.", "Daily greeting"),
            "description": ("What the flow is for, in a sentence, for the next person who edits it.", "Greet the user on the first history fetch of the day."),
            "on": ("The event the flow listens to, or a list of them: [app_message, telegram_message].", "app_message"),
            "priority": ("Lower runs first (default 100); ties go by file name.", 10),
            "enabled": ("false turns the flow off without deleting it.", true),
            "once_per_user": (
                "Run at most once per user per calendar hour, day, week, or ever. A run counts when `do` or `else` runs.", "day"
            ),
            "if": ("Conditions that must all hold; when one does not, the flow is skipped (or runs `else`).", ["auto_mode": "on"]),
            "do": ("The actions, in order, one '- action: value' line each.", [["reply": "Thanks, we will answer soon."]]),
            "else": ("Actions to run when `if` does not hold. It uses up `once_per_user` like `do`.", [["forward_to_group": NSNull()]]),
            "experiment": ("An A/B test: users are split between variants, each with its own actions.", ["key": "greeting-copy-2026-11"]),
            "auto_mode": ("The chat's auto mode: on or off.", "on"),
            "media": ("The message's attachment: none, photo, voice, audio, video, document, sticker, any, or a list.", "photo"),
            "source": ("The channel: app, telegram, instagram, or a list.", "instagram"),
            "text_contains": ("A phrase the text contains (case-insensitive), or a list of phrases: [refund, return].", ["refund", "return"]),
            "text_matches": ("A regular expression the text matches; in double quotes write \\d, or use single quotes.", "'^\\d{6}$'"),
            "user_name": ("Whether the user's name is known: known or missing.", "known"),
            "time": ("A time window: between HH:MM-HH:MM, optional days and timezone.", ["between": "09:00-18:00", "days": "mon-fri"]),
            "between": ("Start and end, HH:MM-HH:MM with a plain hyphen; past midnight: 22:00-06:00.", "09:00-18:00"),
            "days": ("Days of the week: mon-fri, a list [sat, sun], or one day.", "mon-fri"),
            "timezone": ("An IANA time zone name; default: the configured zone.", "Europe/Moscow"),
            "first_message": ("true when this is the user's first message ever.", true),
            "variant": ("A variant name of this flow's experiment.", "warm"),
            "any": ("A list of condition maps; at least one must hold.", [["source": "app"], ["source": "telegram"]]),
            "all": ("A list of condition maps; all must hold.", [["auto_mode": "on"], ["media": "none"]]),
            "not": ("A condition map that must not hold.", ["time": ["between": "09:00-18:00"]]),
            "key": ("The experiment's name in the database; never change it once users are in it.", "greeting-copy-2026-11"),
            "goal": ("The event that counts as a conversion, and within how long after the first exposure.", ["on": "app_message", "within": "24h"]),
            "within": ("A duration: 30m, 24h, 7d, 2w (default 7d).", "24h"),
            "variants": ("At least two variants, each with a name, a weight and actions.", [["name": "formal", "weight": 50]]),
            "weight": ("The variant's share of users, relative to the others (50 and 50 is an even split).", 50),
            "text": ("The text, a template: {{user.name}} is replaced; put it in double quotes.", "Здравствуйте, {{user.name}}!"),
            "title": ("The push notification's title.", "Support"),
            "prompt": ("Extra instructions for the assistant.", "Answer briefly."),
            "on_failure": ("Actions to run when the assistant fails.", [["forward_to_group": NSNull()]]),
            "value": ("on or off.", "off"),
            "then": ("Actions to run when this step's `if` holds.", [["reply": "We are open."]]),
            "forward_to_group": ("Send the message to the Telegram support group.", NSNull()),
            "push": ("A push notification to the user's devices.", ["title": "Support", "text": "New reply"]),
            "greet": ("Add a greeting from support to the user's history.", "Здравствуйте!"),
            "reply": ("Send a text to the user on the conversation's channel.", "Thanks, we will answer soon."),
            "transcribe": ("Voice or audio to text; later steps read {{transcript}}.", NSNull()),
            "ask_assistant": ("Ask the AI assistant; later steps read {{answer}}.", NSNull()),
            "broadcast": ("Emit the message to realtime listeners.", NSNull()),
            "set_auto_mode": ("Turn the chat's auto mode on or off.", "off"),
            "stop": ("No later flow runs for this event.", NSNull()),
        ]
    }

    /// Adds `description` and `examples` to every property of every object in the schema.
    static func annotate(_ schema: Any) -> Any {
        if let list = schema as? [Any] { return list.map(annotate) }
        guard var object = schema as? [String: Any] else { return schema }
        for (key, value) in object { object[key] = annotate(value) }
        if var properties = object["properties"] as? [String: Any] {
            for (key, value) in properties {
                guard var property = value as? [String: Any], let entry = help[key] else { continue }
                property["description"] = entry.description
                property["examples"] = [entry.example]
                properties[key] = property
            }
            object["properties"] = properties
        }
        return object
    }

    static func document() -> [String: Any] {
        annotate(bareDocument()) as! [String: Any]
    }

    static func bareDocument() -> [String: Any] {
        let text: [String: Any] = ["type": "string"]
        // What NodeReader.bool accepts: true/false, on/off, yes/no.
        let onOff: [String: Any] = ["oneOf": [["type": "boolean"], ["enum": ["on", "off", "yes", "no", "true", "false"]]]]
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
                    // As TimeWindow.parseBetween reads it: spaces around the times are allowed.
                    "between": ["type": "string", "pattern": "^\\s*\\d{1,2}:\\d{2}\\s*-\\s*\\d{1,2}:\\d{2}\\s*$"],
                    "days": oneOrMany(text),
                    "timezone": text,
                ], required: ["between"]),
            "first_message": onOff,
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
                "enabled": onOff,
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
