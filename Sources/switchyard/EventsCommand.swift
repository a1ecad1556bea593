import ArgumentParser
import Foundation
import Logging
import SwitchyardEventBus
import SwitchyardRuntime

/// `switchyard events dead-letters|replay|tail`: the embedded bus, from the command line.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Inspect the event bus: dead letters, replays, a live tail.",
        subcommands: [DeadLetters.self, Replay.self, Tail.self]
    )

    /// Opens the bus the configuration names (without its retention sweep).
    static func openBus(_ options: RuntimeOptions) async throws -> any EventBus {
        let reader = try await SwitchyardConfigReader.make(commandLine: options.commandLineValues(), configFile: options.config)
        return try await EventBusConfiguration(reader: reader).open(logger: .init(label: "switchyard.events") { _ in SwiftLogNoOpLogHandler() }).bus
    }

    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "dead-letters", abstract: "List the events consumer groups gave up on, with why.")

        @OptionGroup var options: RuntimeOptions

        @Option(help: "At most this many.")
        var limit: Int = 100

        func run() async throws {
            let letters = try await EventsCommand.openBus(options).deadLetters(limit: limit)
            if letters.isEmpty { Console.announce("no dead letters") }
            for letter in letters {
                Console.announce("\(letter.id)  group=\(letter.group) attempts=\(letter.attempts) type=\(letter.original.type) subject=\(letter.original.subject ?? "-")\n    reason: \(letter.reason)")
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deliver dead letters again, to the group that gave up on each.")

        @OptionGroup var options: RuntimeOptions

        @Argument(help: "Dead-letter ids (from dead-letters).")
        var ids: [String] = []

        @Flag(help: "Replay every dead letter.")
        var all = false

        func validate() throws {
            guard all != !ids.isEmpty else { throw ValidationError("give dead-letter ids, or --all") }
        }

        func run() async throws {
            let bus = try await EventsCommand.openBus(options)
            let targets = all ? try await bus.deadLetters(limit: .max).map(\.id) : ids
            var missing = 0
            for id in targets {
                if try await bus.replay(deadLetterID: id) {
                    Console.announce("replayed \(id)")
                } else {
                    Console.announce("no dead letter \(id)")
                    missing += 1
                }
            }
            if missing > 0 { throw ExitCode(1) }
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print events of a topic as they are published (Ctrl-C to stop).")

        @OptionGroup var options: RuntimeOptions

        @Argument(help: "Topics, e.g. order.placed.")
        var topics: [String]

        @Flag(help: "Start from the oldest retained event instead of now.")
        var fromStart = false

        func run() async throws {
            let bus = try await EventsCommand.openBus(options)
            for try await event in bus.observe(topics: topics, fromStart: fromStart) {
                let time = event.time.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
                Console.announce("\(time) \(event.type) id=\(event.id) subject=\(event.subject ?? "-") \(String(decoding: event.payload, as: UTF8.self))")
            }
        }
    }
}
