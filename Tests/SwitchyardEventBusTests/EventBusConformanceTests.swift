import Foundation
import GRDB
import SwitchyardEventBus
import SwitchyardStorage
import SwitchyardTestSupport
import Testing

struct InMemoryFactory: EventBusFactory {
    func makeBus() async throws -> any EventBus { InMemoryEventBus() }
    func reopen(_ bus: any EventBus) async throws -> any EventBus { bus }
}

/// Each bus gets its own file; reopening opens a second pool on the same file.
final class SQLiteFactory: EventBusFactory, Sendable {
    private let paths = PathBook()

    func makeBus() async throws -> any EventBus {
        let path = try PackagePaths.makeTemporaryDirectory().appendingPathComponent("events.sqlite").path
        let bus = try open(path)
        paths.remember(bus, path: path)
        return bus
    }

    func reopen(_ bus: any EventBus) async throws -> any EventBus {
        guard let path = paths.path(of: bus) else { throw SetupError.unknownBus }
        return try open(path)
    }

    private func open(_ path: String) throws -> SQLiteEventBus {
        let pool = try SQLiteDatabase.open(configuration: .init(path: path), migrations: SQLiteEventBus.migrations, logger: .silent)
        return SQLiteEventBus(database: pool, idlePoll: .milliseconds(20))
    }

    enum SetupError: Error { case unknownBus }
}

import Synchronization

final class PathBook: Sendable {
    private let paths = Mutex<[ObjectIdentifier: String]>([:])
    func remember(_ bus: SQLiteEventBus, path: String) { paths.withLock { $0[ObjectIdentifier(bus)] = path } }
    func path(of bus: any EventBus) -> String? {
        guard let bus = bus as? SQLiteEventBus else { return nil }
        return paths.withLock { $0[ObjectIdentifier(bus)] }
    }
}

enum Engine: String, CaseIterable, CustomTestStringConvertible {
    case inMemory
    case embeddedSQLite
    /// On a real nats-server (one per test, started by the factory): the current one…
    case jetStream
    /// …and Debian's 2.9, the oldest we support (scripts/test installs both).
    case jetStreamOnDebian29

    var testDescription: String { rawValue }

    var conformance: EventBusConformance {
        switch self {
        case .inMemory: EventBusConformance(factory: InMemoryFactory(), features: .init(durable: false))
        case .embeddedSQLite: EventBusConformance(factory: SQLiteFactory(), features: .init(durable: true))
        case .jetStream: EventBusConformance(factory: JetStreamFactory(), features: .init(durable: true))
        case .jetStreamOnDebian29:
            EventBusConformance(factory: JetStreamFactory(binary: NATSServerBinary.debian ?? URL(fileURLWithPath: "/usr/sbin/nats-server")), features: .init(durable: true))
        }
    }
}

@Suite("Event bus conformance")
struct EventBusConformanceTests {
    @Test("Publish and consume, in order, with body and headers", arguments: Engine.allCases)
    func publishAndConsume(engine: Engine) async throws { try await engine.conformance.publishAndConsume() }

    @Test("Every field arrives exactly as published: empty body, no subject, text beyond ASCII", arguments: Engine.allCases)
    func fieldsRoundTrip(engine: Engine) async throws { try await engine.conformance.fieldsRoundTripExactly() }

    @Test("Every group gets every event of its topics", arguments: Engine.allCases)
    func groups(engine: Engine) async throws { try await engine.conformance.everyGroupGetsEveryEvent() }

    @Test("Competing instances share a group's work", arguments: Engine.allCases)
    func competing(engine: Engine) async throws { try await engine.conformance.competingInstances() }

    @Test("Order per subject holds across instances and retries", arguments: Engine.allCases)
    func ordering(engine: Engine) async throws { try await engine.conformance.orderPerSubject() }

    @Test("A failed delivery comes again", arguments: Engine.allCases)
    func redelivery(engine: Engine) async throws { try await engine.conformance.failureIsRedelivered() }

    @Test("Dead letters after N attempts, the group flows on, replay reaches that group only", arguments: Engine.allCases)
    func deadLetters(engine: Engine) async throws { try await engine.conformance.deadLetterAndReplay() }

    @Test("A duplicate event id is stored once", arguments: Engine.allCases)
    func duplicates(engine: Engine) async throws { try await engine.conformance.duplicatesAreIgnored() }

    @Test("A publish larger than one insert statement keeps order and skips duplicates", arguments: Engine.allCases)
    func largePublish(engine: Engine) async throws { try await engine.conformance.largePublishKeepsOrderAndSkipsDuplicates() }

    @Test("An expired lease is delivered again", arguments: Engine.allCases)
    func leases(engine: Engine) async throws { try await engine.conformance.expiredLeaseIsRedelivered() }

    @Test("An unretryable failure dead-letters at once", arguments: Engine.allCases)
    func unretryable(engine: Engine) async throws { try await engine.conformance.unretryableGoesStraightToDeadLetter() }

    @Test("Observers see events without joining a group", arguments: Engine.allCases)
    func observing(engine: Engine) async throws { try await engine.conformance.observe() }

    @Test("Durable across a restart", arguments: Engine.allCases)
    func durability(engine: Engine) async throws { try await engine.conformance.durableAcrossRestart() }

    @Test("An idle consumer finds what another instance published", arguments: Engine.allCases)
    func otherInstance(engine: Engine) async throws { try await engine.conformance.idleConsumerSeesOtherInstancesEvents() }
}
