import Configuration
import Foundation
import Logging
import SwitchyardRuntime
import SwitchyardTestSupport
import Synchronization
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    @Test("Environment variable names follow the keys", arguments: [
        ("switchyard.inventory.grpc.port", "SWITCHYARD_INVENTORY_GRPC_PORT"),
        ("switchyard.inventory.grpc.maxMessageBytes", "SWITCHYARD_INVENTORY_GRPC_MAX_MESSAGE_BYTES"),
        ("switchyard.data.directory", "SWITCHYARD_DATA_DIRECTORY"),
        ("switchyard.inventory.seedDemoCatalogue", "SWITCHYARD_INVENTORY_SEED_DEMO_CATALOGUE"),
    ])
    func environmentNames(key: String, variable: String) {
        #expect(ConfigurationSetting.environmentVariableName(forKey: key) == variable)
    }

    @Test("Command line beats environment beats config file beats defaults")
    func precedence() async throws {
        let directory = try PackagePaths.makeTemporaryDirectory()
        let file = directory.appendingPathComponent("config.json")
        try Data(#"{"inventory": {"grpc": {"port": 1111, "host": "127.0.0.2", "maxMessageBytes": 2048}}, "log": {"level": "debug"}}"#.utf8).write(to: file)
        let environment = ["SWITCHYARD_INVENTORY_GRPC_PORT": "2222", "SWITCHYARD_INVENTORY_GRPC_HOST": "127.0.0.3"]

        let fileOnly = try await SwitchyardConfigReader.make(configFile: file.path, environment: [:])
        #expect(try GRPCServerConfiguration(reader: fileOnly.scoped(to: "inventory.grpc"), defaultPort: 9).port == 1111)

        let withEnvironment = try await SwitchyardConfigReader.make(configFile: file.path, environment: environment)
        let grpc = try GRPCServerConfiguration(reader: withEnvironment.scoped(to: "inventory.grpc"), defaultPort: 9)
        #expect(grpc == GRPCServerConfiguration(host: "127.0.0.3", port: 2222, maxMessageBytes: 2048))

        let withCommandLine = try await SwitchyardConfigReader.make(
            commandLine: ["inventory.grpc.port": "0"], configFile: file.path, environment: environment
        )
        #expect(try GRPCServerConfiguration(reader: withCommandLine.scoped(to: "inventory.grpc"), defaultPort: 9).port == 0)
        #expect(try LoggingConfiguration(reader: withCommandLine).level == .debug)

        let defaults = try await SwitchyardConfigReader.make(environment: [:])
        #expect(try GRPCServerConfiguration(reader: defaults.scoped(to: "inventory.grpc"), defaultPort: 9) == GRPCServerConfiguration(port: 9))
        #expect(try LoggingConfiguration(reader: defaults) == LoggingConfiguration(level: .info, format: .text))
    }

    @Test("The config file can also come from SWITCHYARD_CONFIG_FILE")
    func configFileFromEnvironment() async throws {
        let directory = try PackagePaths.makeTemporaryDirectory()
        let file = directory.appendingPathComponent("config.json")
        try Data(#"{"log": {"format": "json"}}"#.utf8).write(to: file)
        let reader = try await SwitchyardConfigReader.make(environment: ["SWITCHYARD_CONFIG_FILE": file.path])
        #expect(try LoggingConfiguration(reader: reader).format == .json)
    }

    @Test("Bad values are refused, naming the key and its environment variable")
    func badValues() async throws {
        let reader = try await SwitchyardConfigReader.make(commandLine: ["log.format": "xml", "inventory.grpc.port": "70000"], environment: [:])
        #expect(throws: ConfigurationValueError.self) { try LoggingConfiguration(reader: reader) }
        do {
            _ = try GRPCServerConfiguration(reader: reader.scoped(to: "inventory.grpc"), defaultPort: 9)
            Issue.record("expected a bad port to be refused")
        } catch let error as ConfigurationValueError {
            #expect(error.key == "port")
        }
        do {
            _ = try LoggingConfiguration(reader: reader)
        } catch {
            #expect("\(error)".contains("SWITCHYARD_LOG_FORMAT"))
        }
    }

    @Test("A missing config file is an error, not silently ignored")
    func missingConfigFile() async {
        await #expect(throws: (any Error).self) {
            _ = try await SwitchyardConfigReader.make(configFile: "/nonexistent/switchyard.json", environment: [:])
        }
    }
}

@Suite("JSON log lines")
struct JSONLogHandlerTests {
    @Test("Every line is one JSON object with timestamp, level, logger, message and metadata")
    func format() throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "switchyard.test") { label in
            JSONLogHandler(label: label) { line in lines.withLock { $0.append(line) } }
        }
        logger[metadataKey: "switchyard.service"] = "inventory"
        logger.info("hello \"world\"\n\tnext", metadata: ["switchyard.order.id": "o-1", "control": "\u{1}"])
        let line = try #require(lines.withLock { $0.first })
        #expect(line.hasSuffix("}\n"))
        #expect(line.filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["level"] == "info")
        #expect(object["logger"] == "switchyard.test")
        #expect(object["message"] == "hello \"world\"\n\tnext")
        #expect(object["switchyard.service"] == "inventory")
        #expect(object["switchyard.order.id"] == "o-1")
        #expect(object["control"] == "\u{1}")
        let timestamp = try #require(object["ts"])
        #expect(try Date(timestamp, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) <= Date())
    }
}
