import Foundation
import TestSupport
import Testing

@testable import Flows

// The loader reads files people edit by hand in plain editors, mid-edit and half-saved.
// Whatever the bytes, it must return (never crash or hang), and every diagnostic must be
// usable: a real `file:line:col` (1-based) and a message. This feeds thousands of
// deterministic random mutations of the default flows (and a few richer seeds that reach
// experiments, time windows and nested conditions) to `FlowLoader.load(files:)`.

/// Random edits of the kinds that happen while typing YAML.
struct FlowMutator {
    var rng: SplitMix64

    /// Fragments that make YAML or the flow language go wrong in interesting ways.
    static let fragments: [String] = [
        "{{", "}}", "{{#", "{{/user.name}}", "{{^", "{{>p}}", "{{answer}}", "{{transcript}}", "{{message.text}}", "{{user.nmae}}",
        ":", ": ", "-", "- ", "[", "]", "{", "}", "'", "\"", "#", "&a", "*a", "!!str ", "|", ">", "?", "%", "@", "`", "\\",
        "\n", "\n  ", "\n- ", "\t", "  ", "    ", "\r\n", "\u{FEFF}", "\u{0085}", "\u{2028}",
        "if:", "then:", "else:", "do:", "on:", "name:", "priority:", "experiment:", "variants:", "weight: 0", "time:",
        "between: \"25:00-18:00\"", "timezone: Europe/Moskow", "days: mon-fry", "text_matches: \"([\"", "stop", "- stop",
        "any:", "all:", "not:", "media: any", "once_per_user: month", "history_first_fetch_today", "app_mesage",
        "Здравствуйте", "🙂", "null", "~", "true", "1e999", "-0", "0x10", "9999999999999999999999",
    ]

    mutating func int(_ upperBound: Int) -> Int {
        upperBound <= 0 ? 0 : Int(rng.next() % UInt64(upperBound))
    }

    mutating func position(in bytes: [UInt8]) -> Int { int(bytes.count + 1) }

    /// Start offsets of every line.
    static func lineStarts(_ bytes: [UInt8]) -> [Int] {
        var starts = [0]
        for (index, byte) in bytes.enumerated() where byte == 10 && index + 1 < bytes.count { starts.append(index + 1) }
        return starts
    }

    mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        let edits = 1 + int(4)
        for _ in 0..<edits { bytes = mutateOnce(bytes) }
        return bytes
    }

    private mutating func mutateOnce(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        switch int(16) {
        case 0:  // delete a few characters
            guard !bytes.isEmpty else { return bytes }
            let start = int(bytes.count)
            bytes.removeSubrange(start..<min(bytes.count, start + 1 + int(3)))
        case 1:  // insert a printable character
            bytes.insert(UInt8(32 + int(95)), at: position(in: bytes))
        case 2:  // duplicate a range
            guard !bytes.isEmpty else { return bytes }
            let start = int(bytes.count)
            let range = start..<min(bytes.count, start + 1 + int(40))
            bytes.insert(contentsOf: bytes[range], at: position(in: bytes))
        case 3:  // swap two characters
            guard bytes.count > 1 else { return bytes }
            bytes.swapAt(int(bytes.count), int(bytes.count))
        case 4:  // a tab, at a line start (indentation) or anywhere
            let starts = Self.lineStarts(bytes)
            bytes.insert(9, at: int(2) == 0 ? starts[int(starts.count)] : position(in: bytes))
        case 5, 6, 7:  // a YAML or template fragment
            let fragment = Self.fragments[int(Self.fragments.count)]
            bytes.insert(contentsOf: Array(fragment.utf8), at: position(in: bytes))
        case 8:  // a random byte: NUL, invalid UTF-8 lead or continuation bytes, controls
            let specials: [UInt8] = [0, 0xC3, 0xFF, 0xFE, 0x80, 0xBF, 0xED, 0xF5, 1, 27, 127]
            let byte = int(2) == 0 ? specials[int(specials.count)] : UInt8(truncatingIfNeeded: rng.next())
            bytes.insert(byte, at: position(in: bytes))
        case 9:  // overwrite a byte
            guard !bytes.isEmpty else { return bytes }
            bytes[int(bytes.count)] = UInt8(truncatingIfNeeded: rng.next())
        case 10:  // truncate (a half-saved file)
            bytes.removeSubrange(int(bytes.count + 1)..<bytes.count)
        case 11:  // duplicate a line
            let lines = Self.split(bytes)
            guard !lines.isEmpty else { return bytes }
            var copy = lines
            let index = int(lines.count)
            copy.insert(lines[index], at: int(lines.count + 1))
            bytes = Self.join(copy)
        case 12:  // change a line's indentation
            var lines = Self.split(bytes)
            guard !lines.isEmpty else { return bytes }
            let index = int(lines.count)
            if int(2) == 0 {
                lines[index].insert(contentsOf: [UInt8](repeating: 32, count: 1 + int(4)), at: 0)
            } else {
                let spaces = lines[index].prefix { $0 == 32 }.count
                lines[index].removeFirst(min(spaces, 1 + int(4)))
            }
            bytes = Self.join(lines)
        case 13:  // move a line elsewhere
            var lines = Self.split(bytes)
            guard lines.count > 1 else { return bytes }
            let line = lines.remove(at: int(lines.count))
            lines.insert(line, at: int(lines.count + 1))
            bytes = Self.join(lines)
        case 14:  // delete a line
            var lines = Self.split(bytes)
            guard !lines.isEmpty else { return bytes }
            lines.remove(at: int(lines.count))
            bytes = Self.join(lines)
        default:  // replace a word with a fragment
            guard !bytes.isEmpty else { return bytes }
            let start = int(bytes.count)
            var end = start
            while end < bytes.count, bytes[end] != 32, bytes[end] != 10 { end += 1 }
            bytes.replaceSubrange(start..<end, with: Array(Self.fragments[int(Self.fragments.count)].utf8))
        }
        return bytes
    }

    static func split(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.split(separator: 10, omittingEmptySubsequences: false).map(Array.init)
    }

    static func join(_ lines: [[UInt8]]) -> [UInt8] {
        Array(lines.joined(separator: [10]))
    }
}

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Flows that reach the parts of the decoder the default flows do not use.
private let extraSeeds: [(String, String)] = [
    (
        "seed-experiment.yaml",
        """
        name: Greeting experiment
        on: history_first_fetch_today
        once_per_user: day
        if:
          user_name: known
          variant: warm
        experiment:
          key: greeting-copy
          goal: { on: app_message, within: 24h }
          variants:
            - name: formal
              weight: 50
              do:
                - greet: "Здравствуйте{{#user.name}}, {{user.name}}{{/user.name}}!"
            - name: warm
              weight: 50
              do:
                - greet: "Привет, {{user.name}}! ({{variant}})"

        """
    ),
    (
        "seed-conditions.yaml",
        """
        name: Business hours
        on: [app_message, telegram_message]
        priority: 5
        enabled: true
        if:
          time: { between: "09:00-18:00", days: mon-fri, timezone: Europe/Moscow }
          any:
            - { text_contains: [order, заказ] }
            - { text_matches: "^#[0-9]+$" }
          not: { media: [sticker, any] }
          source: [app, telegram]
          first_message: true
        do:
          - if: { media: voice }
            then:
              - transcribe: {}
              - reply: "{{transcript}}"
            else:
              - push: { title: "Hi", text: "{{message.text}}" }
          - ask_assistant:
              prompt: "Answer: {{message.text}}"
              on_failure:
                - set_auto_mode: off
                - stop: {}
          - reply: "{{answer}}"
        else:
          - forward_to_group: { text: "{{^user.name}}anon{{/user.name}} {{chat.source}} {{today}}" }

        """
    ),
]

/// Whether YAML itself (not the flow language) rejects a file: not text, or a syntax error.
private func rejectedAsYAML(_ data: Data, path: String) -> Bool {
    var bag = DiagnosticBag()
    return YAMLReader.compose(data: data, file: path, into: &bag) == nil && bag.hasErrors
}

@Suite("Loader fuzzing: mutated flow files never crash the loader")
struct LoaderFuzzTests {
    static let iterations = 3000
    static let seed: UInt64 = 0x5EED_F10A_2026

    static func seeds() throws -> [(path: String, data: Data)] {
        let directory = packageRoot.appendingPathComponent("flows").path
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.sorted()
        var seeds = try names.map { name in (path: name, data: try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name))) }
        seeds += extraSeeds.map { (path: $0.0, data: Data($0.1.utf8)) }
        return seeds
    }

    @Test("the seeds themselves load cleanly (so mutations start from valid flows)")
    func seedsAreValid() throws {
        let seeds = try Self.seeds()
        #expect(seeds.count >= 6)
        let result = FlowLoader.load(files: seeds)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.description))")
        #expect(result.flowSet?.flows.count == seeds.count)
    }

    @Test("SplitMix64 is deterministic and matches the reference sequence")
    func splitMixReference() {
        // Reference outputs of SplitMix64 for seed 0 (as in Vigna's splitmix64.c).
        var rng = SplitMix64(seed: 0)
        #expect(rng.next() == 0xE220_A839_7B1D_CDAF)
        #expect(rng.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(rng.next() == 0x06C4_5D18_8009_454F)
        var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
    }

    @Test("thousands of mutations: the loader returns, and every diagnostic has a real position and a message")
    func mutatedFlows() async throws {
        let seeds = try Self.seeds()
        var mutator = FlowMutator(rng: SplitMix64(seed: Self.seed))
        var loaded = 0, rejectedByYAML = 0, rejectedByDecoder = 0
        var failures = 0
        let started = Date()

        for iteration in 0..<Self.iterations {
            let target = mutator.int(seeds.count)
            let mutated = Data(mutator.mutate(Array(seeds[target].data)))
            let path = "fuzz/\(iteration)-\(seeds[target].path)"
            // Every third input is loaded with the other (unmutated) seeds, so cross-file
            // checks (duplicate names, experiment keys) see mutated flows too.
            var files: [(path: String, data: Data?)] = [(path: path, data: mutated)]
            if iteration % 3 == 0 {
                files += seeds.enumerated().filter { $0.offset != target }.map { (path: $0.element.path, data: Optional($0.element.data)) }
            }
            let paths = Set(files.map(\.path))
            let result = FlowLoader.load(files: files)

            var problems: [String] = []
            for diagnostic in result.diagnostics {
                if diagnostic.location.line < 1 || diagnostic.location.column < 1 { problems.append("position below 1: \(diagnostic)") }
                if diagnostic.message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { problems.append("empty message: \(diagnostic)") }
                if diagnostic.location.file.isEmpty || !paths.contains(diagnostic.location.file) { problems.append("unknown file: \(diagnostic)") }
                if !diagnostic.description.hasPrefix("\(diagnostic.location.file):\(diagnostic.location.line):\(diagnostic.location.column): ") {
                    problems.append("not path:line:col: \(diagnostic.description)")
                }
            }
            // Never half-loaded: a set exists exactly when nothing is in error, and then it
            // holds every file's flow.
            if (result.flowSet == nil) != result.hasErrors {
                problems.append("flowSet is \(result.flowSet == nil ? "nil" : "set") but hasErrors is \(result.hasErrors)")
            }
            if let set = result.flowSet, set.flows.count != files.count { problems.append("\(files.count) files but \(set.flows.count) flows") }

            if !problems.isEmpty {
                failures += 1
                if failures <= 5 {
                    let text = String(decoding: mutated, as: UTF8.self).debugDescription
                    Issue.record("iteration \(iteration) (seed \(Self.seed)), from \(seeds[target].path):\n\(problems.joined(separator: "\n"))\ninput: \(text)")
                }
            }

            let mutatedErrors = result.diagnostics.filter { $0.location.file == path && $0.severity == .error }
            if mutatedErrors.isEmpty {
                loaded += 1
            } else if rejectedAsYAML(mutated, path: path) {
                rejectedByYAML += 1
            } else {
                rejectedByDecoder += 1
            }

            // A mutated flow that loads must also run: push one event of each kind through it.
            if let set = result.flowSet, iteration % 10 == 0 {
                let runtime = SequentialRunner(
                    runtime: FlowRuntime(flowSet: set, timeZone: TimeZone(identifier: "Europe/Moscow")!), store: InMemoryStateStore())
                let at = Date(timeIntervalSince1970: 1_795_500_000)
                for kind in EventKind.allCases {
                    _ = await runtime.run(
                        InboundEvent(
                            kind: kind, at: at, userID: "42", userName: "Анна", text: "order #1", media: .voice, stubs: .init(answer: "a", transcript: "t")))
                }
            }
        }

        #expect(failures == 0, "\(failures) of \(Self.iterations) inputs broke an invariant")
        // The mutations must exercise all three outcomes, or the fuzzing tests little.
        #expect(loaded > Self.iterations / 20, "loaded \(loaded)")
        #expect(rejectedByYAML > Self.iterations / 20, "YAML-level rejections \(rejectedByYAML)")
        #expect(rejectedByDecoder > Self.iterations / 20, "decoder-level rejections \(rejectedByDecoder)")
        let seconds = Date().timeIntervalSince(started)
        #expect(seconds < 60, "took \(seconds) s")
    }

    @Test("the same input always gives the same diagnostics")
    func deterministicDiagnostics() throws {
        let seeds = try Self.seeds()
        var mutator = FlowMutator(rng: SplitMix64(seed: Self.seed ^ 0xABCDEF))
        for _ in 0..<200 {
            let seed = seeds[mutator.int(seeds.count)]
            let mutated = Data(mutator.mutate(Array(seed.data)))
            let first = FlowLoader.load(files: [(path: seed.path, data: mutated)]).diagnostics
            let second = FlowLoader.load(files: [(path: seed.path, data: mutated)]).diagnostics
            #expect(first == second)
        }
    }
}
