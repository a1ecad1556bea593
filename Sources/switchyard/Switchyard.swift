import ArgumentParser

/// The single Switchyard executable. Each subcommand lives in its own file; this type only
/// lists them.
@main
struct Switchyard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchyard",
        abstract: "REST at the edge, gRPC inside, events between domains.",
        subcommands: [DevCommand.self, ServeCommand.self, OrderCommand.self, StockCommand.self, EventsCommand.self, LoadCommand.self, TraceCommand.self, ConfigCommand.self, LintCommand.self]
    )
}
