import Foundation

/// Prometheus' text exposition read line by line, for checks on single samples (never
/// whole-text comparisons: other series and their order are not the test's business).
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    let samples: [Sample]
    /// `# TYPE` lines: metric name to type.
    let types: [String: String]

    init(_ text: String) {
        var samples: [Sample] = []
        var types: [String: String] = [:]
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                if parts.count == 2 { types[String(parts[0])] = String(parts[1]) }
                continue
            }
            if line.hasPrefix("#") || line.isEmpty { continue }
            if let sample = Self.parse(line) { samples.append(sample) }
        }
        self.samples = samples
        self.types = types
    }

    /// `name{a="x",b="y"} 1.5`, with quoted values that may hold `{`, `}`, `,` and escapes.
    static func parse(_ line: String) -> Sample? {
        var name = "", labels: [String: String] = [:]
        var index = line.startIndex
        while index < line.endIndex, line[index] != "{", line[index] != " " {
            name.append(line[index])
            index = line.index(after: index)
        }
        if index < line.endIndex, line[index] == "{" {
            index = line.index(after: index)
            while index < line.endIndex, line[index] != "}" {
                var key = ""
                while line[index] != "=" {
                    key.append(line[index])
                    index = line.index(after: index)
                }
                index = line.index(index, offsetBy: 2)  // `="`
                var value = ""
                while line[index] != "\"" {
                    if line[index] == "\\" { index = line.index(after: index) }
                    value.append(line[index])
                    index = line.index(after: index)
                }
                index = line.index(after: index)
                if line[index] == "," { index = line.index(after: index) }
                labels[key] = value
            }
            index = line.index(after: index)
        }
        guard let value = Double(line[index...].trimmingCharacters(in: .whitespaces)) else { return nil }
        return Sample(name: name, labels: labels, value: value)
    }

    /// The value of the one sample of `name` whose labels include `labels`; nil if none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }?.value
    }

    /// Every sample of `name`.
    func all(_ name: String) -> [Sample] {
        samples.filter { $0.name == name }
    }
}
