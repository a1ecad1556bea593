/// Events carry facts, not instructions: a field such as `notifyWarehouse: true` tells the
/// consumer what to do, which couples the producer to one consumer's behaviour (DESIGN.md §1).
///
/// A field is command-like when its first word (camelCase, snake_case or kebab-case) is an
/// imperative verb, or any of its words is a command noun. Words, not raw prefixes: a prefix
/// match would reject facts like `senderId`, `triggeredBy`, `executedAt` and `document`.
package enum CommandFieldRule {
    /// First words that make a field an instruction: `notifyWarehouse`, `sendEmail`,
    /// `shouldRetry`, `doSync`. Extend it as new disguises turn up.
    package static let imperativeVerbs: Set<String> = [
        "notify", "send", "should", "trigger", "do", "execute", "perform", "please", "must",
        "invoke", "dispatch",
    ]

    /// Words that make a field an instruction wherever they appear: `command`, `nextAction`.
    package static let commandNouns: Set<String> = [
        "command", "commands", "action", "actions", "instruction", "instructions", "directive",
        "directives",
    ]

    /// Why `field` is command-like, or `nil` when it is not.
    package static func reason(field: String) -> String? {
        let words = words(of: field)
        if let first = words.first, imperativeVerbs.contains(first) {
            return "starts with the imperative \"\(first)\""
        }
        if let noun = words.first(where: commandNouns.contains) {
            return "names a \(noun)"
        }
        return nil
    }

    /// Findings for every command-like property name anywhere in `schema`.
    /// - Parameters:
    ///   - schema: The event's schema.
    ///   - type: The event type, for the findings' subjects.
    package static func findings(in schema: JSONSchema, type: String) -> [ContractFinding] {
        var findings: [ContractFinding] = []
        visit(schema, location: "#") { name, location in
            if let reason = reason(field: name) {
                findings.append(
                    ContractFinding(
                        rule: .commandField,
                        subject: "\(type)\(location)",
                        message: "field \"\(name)\" \(reason): an event states what happened and lets each consumer decide what to do"
                    )
                )
            }
        }
        return findings
    }

    /// Findings for every command-like member name anywhere in an event's JSON, for fields a
    /// permissive schema (no `additionalProperties: false`) would not name.
    package static func findings(inInstance instance: JSONValue, subject: String) -> [ContractFinding] {
        var findings: [ContractFinding] = []
        func walk(_ value: JSONValue, path: String) {
            switch value {
            case .object(let members):
                for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                    let memberPath = "\(path)/\(JSONPointer.escape(name))"
                    if let reason = reason(field: name) {
                        findings.append(
                            ContractFinding(rule: .commandField, subject: "\(subject)\(memberPath)", message: "field \"\(name)\" \(reason): events carry facts, not instructions")
                        )
                    }
                    walk(member, path: memberPath)
                }
            case .array(let elements):
                for (index, element) in elements.enumerated() { walk(element, path: "\(path)/\(index)") }
            case .null, .bool, .number, .string:
                break
            }
        }
        walk(instance, path: "")
        return findings
    }

    /// Calls `body` with each property name (declared or required) and its schema location.
    private static func visit(_ schema: JSONSchema, location: String, _ body: (String, String) -> Void) {
        let names = Set(schema.properties.keys).union(schema.required)
        for name in names.sorted() {
            let here = "\(location)/properties/\(JSONPointer.escape(name))"
            body(name, here)
            if let property = schema.properties[name] { visit(property, location: here, body) }
        }
        if case .schema(let additional) = schema.additionalProperties {
            visit(additional, location: "\(location)/additionalProperties", body)
        }
    }

    /// `notifyWarehouse` → [notify, warehouse]; `notify_warehouse`, `Notify-Warehouse` alike;
    /// `HTTPRequest` → [http, request].
    static func words(of name: String) -> [String] {
        var words: [String] = []
        var current = ""
        let characters = Array(name)
        for (index, character) in characters.enumerated() {
            if character == "_" || character == "-" || character == " " {
                if !current.isEmpty { words.append(current) }
                current = ""
                continue
            }
            let startsWord: Bool
            if character.isUppercase, let previous = current.last {
                // A capital after a lower-case letter starts a word (notifyWarehouse); inside
                // a run of capitals, the last one does when a lower-case letter follows (HTTPRequest).
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                startsWord = previous.isLowercase || previous.isNumber || (next?.isLowercase ?? false)
            } else {
                startsWord = false
            }
            if startsWord {
                words.append(current)
                current = ""
            }
            current.append(character)
        }
        if !current.isEmpty { words.append(current) }
        return words.map { $0.lowercased() }
    }
}
