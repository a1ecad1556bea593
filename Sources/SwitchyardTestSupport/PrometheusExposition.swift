import Foundation

/// One sample of a Prometheus text exposition: `name{label="value",…} value`.
package struct PrometheusSample: Sendable, Hashable {
    package var name: String
    package var labels: [String: String]
    package var value: Double
}

/// A strict reader of the Prometheus text format (0.0.4): every line must be a comment
/// (`# HELP`, `# TYPE`, or other), blank, or a well-formed sample of a declared family; any
/// other line is an error naming it. What a scraper would reject, this rejects.
package enum PrometheusExposition {
    package struct Malformed: Error, CustomStringConvertible {
        package var line: Int
        package var text: String
        package var reason: String
        package var description: String { "line \(line): \(reason): \(text)" }
    }

    package static func parse(_ text: String) throws -> [PrometheusSample] {
        var samples: [PrometheusSample] = []
        var declared: [String: String] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
                if parts.count >= 2, parts[1] == "TYPE" {
                    guard parts.count == 4, isMetricName(parts[2]),
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3])
                    else { throw Malformed(line: number, text: String(line), reason: "bad TYPE line") }
                    guard declared[String(parts[2])] == nil else { throw Malformed(line: number, text: String(line), reason: "family declared twice") }
                    declared[String(parts[2])] = String(parts[3])
                }
                continue
            }
            let sample = try parseSample(Substring(line), number: number)
            let family = declared[sample.name] != nil
                ? sample.name
                : ["_bucket", "_sum", "_count", "_total"].lazy.compactMap { suffix in
                    sample.name.hasSuffix(suffix) ? String(sample.name.dropLast(suffix.count)) : nil
                }.first { declared[$0] != nil } ?? sample.name
            guard declared[family] != nil else { throw Malformed(line: number, text: String(line), reason: "sample of an undeclared family") }
            samples.append(sample)
        }
        return samples
    }

    private static func parseSample(_ line: Substring, number: Int) throws -> PrometheusSample {
        var rest = line
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        guard isMetricName(name) else { throw Malformed(line: number, text: String(line), reason: "bad metric name") }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let key = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                guard !key.isEmpty, key.first.map({ !$0.isNumber }) == true else { throw Malformed(line: number, text: String(line), reason: "bad label name") }
                rest = rest.dropFirst(key.count)
                guard rest.hasPrefix("=\"") else { throw Malformed(line: number, text: String(line), reason: "label without =\"") }
                rest = rest.dropFirst(2)
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\" {
                        guard let escaped = rest.first, ["\\", "\"", "n"].contains(escaped) else {
                            throw Malformed(line: number, text: String(line), reason: "bad escape in a label value")
                        }
                        value.append(escaped == "n" ? "\n" : escaped)
                        rest = rest.dropFirst()
                    } else {
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { throw Malformed(line: number, text: String(line), reason: "unterminated label value") }
                rest = rest.dropFirst()
                labels[String(key)] = value
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" {
                    throw Malformed(line: number, text: String(line), reason: "labels not separated by commas")
                }
            }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ")
        guard rest.first == " ", (1...2).contains(fields.count), let value = parseValue(fields[0]) else {
            throw Malformed(line: number, text: String(line), reason: "bad value")
        }
        if fields.count == 2, Int64(fields[1]) == nil { throw Malformed(line: number, text: String(line), reason: "bad timestamp") }
        return PrometheusSample(name: String(name), labels: labels, value: value)
    }

    private static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }

    private static func isMetricName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isLetter || first == "_" || first == ":" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }
}

extension Array where Element == PrometheusSample {
    /// The value of the one sample named `name` whose labels include `labels`; 0 when none has
    /// been recorded yet (a counter that has not moved).
    package func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        first { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }?.value ?? 0
    }
}
