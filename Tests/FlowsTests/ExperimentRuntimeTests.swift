import Foundation
import Testing

@testable import Flows

// Experiments in the runtime: deterministic, sticky assignment with GrowthBook's bucketing;
// an exposure when a variant's actions run; a conversion when the goal happens within the
// window after the first exposure, once per user.

private let experimentKey = "greeting-copy-test"

private func greetingExperiment(formal: Int = 50, warm: Int = 50, within: String = "24h", condition: String = "") -> String {
    """
    name: Daily greeting
    on: history_first_fetch_today
    \(condition)experiment:
      key: \(experimentKey)
      goal: { on: app_message, within: \(within) }
      variants:
        - name: formal
          weight: \(formal)
          do:
            - greet: "Здравствуйте{{#user.name}}, {{user.name}}{{/user.name}}!"
        - name: warm
          weight: \(warm)
          do:
            - greet: "Привет! ({{variant}})"

    """
}

private func flowSet(_ yaml: String) throws -> FlowSet {
    let result = FlowLoader.load(files: [(path: "experiment.yaml", data: Data(yaml.utf8))])
    #expect(!result.hasErrors, "\(result.diagnostics.map(\.description))")
    return try #require(result.flowSet)
}

private func runtime(_ set: FlowSet, _ store: InMemoryStateStore) -> SequentialRunner<InMemoryStateStore> {
    SequentialRunner(runtime: FlowRuntime(flowSet: set, timeZone: TimeZone(identifier: "Europe/Moscow")!), store: store)
}

private let start = Timestamp.parse("2026-11-20T09:00:00+03:00")!

private func fetch(_ user: String, at date: Date = start, name: String? = nil) -> InboundEvent {
    InboundEvent(kind: .historyFetch, at: date, userID: user, userName: name)
}

private func message(_ user: String, at date: Date) -> InboundEvent {
    InboundEvent(kind: .appMessage, at: date, userID: user, text: "hi")
}

/// The variant GrowthBook's published scheme gives `user` for these weights.
private func expectedVariant(_ user: String, weights: [Double] = [0.5, 0.5]) -> String? {
    let ranges = GrowthBookBucketing.bucketRanges(count: weights.count, coverage: 1, weights: weights)
    guard let bucket = GrowthBookBucketing.hash(seed: experimentKey, value: user, version: 2) else { return nil }
    let index = GrowthBookBucketing.chooseVariation(bucket: bucket, ranges: ranges)
    return index < 0 ? nil : ["formal", "warm"][index]
}

private func variant(of result: RunResult) -> String? {
    result.flows.first { $0.name == "Daily greeting" }?.variant
}

@Suite("Experiments in the runtime")
struct ExperimentRuntimeTests {
    @Test("assignment is deterministic: the same user gets the same variant in fresh stores, as GrowthBook's hash says")
    func deterministicAssignment() async throws {
        let set = try flowSet(greetingExperiment())
        var seen: Set<String> = []
        for index in 0..<60 {
            let user = "user-\(index)"
            let first = variant(of: await runtime(set, InMemoryStateStore()).run(fetch(user)))
            let second = variant(of: await runtime(set, InMemoryStateStore()).run(fetch(user, at: start.addingTimeInterval(86_400 * 3))))
            #expect(first != nil)
            #expect(first == second, "\(user)")
            #expect(first == expectedVariant(user), "\(user)")
            if let first { seen.insert(first) }
        }
        #expect(seen == ["formal", "warm"], "60 users should land in both variants")
    }

    @Test("the variant's actions run with {{variant}} rendered, and an exposure is recorded")
    func exposureWhenActionsRun() async throws {
        let set = try flowSet(greetingExperiment())
        let store = InMemoryStateStore()
        let rt = runtime(set, store)
        // One user of each variant.
        let formalUser = try #require((0..<100).map { "u\($0)" }.first { expectedVariant($0) == "formal" })
        let warmUser = try #require((0..<100).map { "u\($0)" }.first { expectedVariant($0) == "warm" })

        let formal = await rt.run(fetch(formalUser, name: "Анна"))
        #expect(formal.actions.map(\.text) == ["Здравствуйте, Анна!"])
        #expect(formal.exposures == [ExperimentEvent(experiment: experimentKey, variant: "formal")])
        #expect(store.firstExposure(experiment: experimentKey, userID: formalUser)?.variant == "formal")
        #expect(store.firstExposure(experiment: experimentKey, userID: formalUser)?.at == start)

        let warm = await rt.run(fetch(warmUser))
        #expect(warm.actions.map(\.text) == ["Привет! (warm)"])
        #expect(warm.exposures == [ExperimentEvent(experiment: experimentKey, variant: "warm")])
        #expect(warm.flows.first?.variant == "warm")
    }

    @Test("no exposure when the flow's conditions keep the variant's actions from running")
    func noExposureWhenSkipped() async throws {
        let set = try flowSet(greetingExperiment(condition: "if:\n  user_name: known\n"))
        let store = InMemoryStateStore()
        let result = await runtime(set, store).run(fetch("u1", name: nil))
        #expect(result.flows.first?.result == .skipped)
        #expect(result.exposures.isEmpty)
        #expect(result.actions.isEmpty)
        #expect(store.firstExposure(experiment: experimentKey, userID: "u1") == nil)
    }

    @Test("assignment is sticky: after the weights change to 1/99, assigned users keep their variant")
    func stickyAssignment() async throws {
        // A user GrowthBook puts in 'formal' at 50/50 but in 'warm' at 1/99, so a non-sticky
        // implementation would move them.
        let user = try #require(
            (0..<1000).map { "sticky-\($0)" }.first {
                expectedVariant($0) == "formal" && expectedVariant($0, weights: [0.01, 0.99]) == "warm"
            })
        let store = InMemoryStateStore()
        let rt = runtime(try flowSet(greetingExperiment()), store)
        #expect(variant(of: await rt.run(fetch(user))) == "formal")

        rt.runtime.flowSet = try flowSet(greetingExperiment(formal: 1, warm: 99))
        let nextDay = await rt.run(fetch(user, at: start.addingTimeInterval(86_400)))
        #expect(variant(of: nextDay) == "formal")
        #expect(nextDay.actions.first?.text?.hasPrefix("Здравствуйте") == true)

        // The new weights do apply to a fresh store (the user is not assigned there yet).
        let fresh = await runtime(try flowSet(greetingExperiment(formal: 1, warm: 99)), InMemoryStateStore()).run(fetch(user))
        #expect(variant(of: fresh) == "warm")
    }

    @Test("a conversion is recorded when the goal happens within the window, once per user")
    func conversionWithinWindow() async throws {
        let store = InMemoryStateStore()
        let rt = runtime(try flowSet(greetingExperiment(within: "24h")), store)
        let exposed = await rt.run(fetch("c1"))
        let assigned = try #require(variant(of: exposed))

        let converted = await rt.run(message("c1", at: start.addingTimeInterval(23 * 3600)))
        #expect(converted.conversions == [ExperimentEvent(experiment: experimentKey, variant: assigned)])

        let again = await rt.run(message("c1", at: start.addingTimeInterval(23.5 * 3600)))
        #expect(again.conversions.isEmpty, "a user converts once")
    }

    @Test("no conversion after the window, and none without an exposure")
    func noConversionOutsideWindow() async throws {
        let store = InMemoryStateStore()
        let rt = runtime(try flowSet(greetingExperiment(within: "24h")), store)
        _ = await rt.run(fetch("late"))
        let late = await rt.run(message("late", at: start.addingTimeInterval(24 * 3600 + 60)))
        #expect(late.conversions.isEmpty)

        let stranger = await rt.run(message("never-exposed", at: start.addingTimeInterval(60)))
        #expect(stranger.conversions.isEmpty)

        // The window counts from the first exposure, not the latest.
        _ = await rt.run(fetch("early"))
        _ = await rt.run(fetch("early", at: start.addingTimeInterval(86_400)))
        let afterSecond = await rt.run(message("early", at: start.addingTimeInterval(86_400 + 3600)))
        #expect(afterSecond.conversions.isEmpty)
    }

    @Test("a conversion counts for the variant the user was exposed to")
    func conversionVariant() async throws {
        let store = InMemoryStateStore()
        let rt = runtime(try flowSet(greetingExperiment()), store)
        var converted: [String: Int] = [:]
        for index in 0..<40 {
            let user = "conv-\(index)"
            _ = await rt.run(fetch(user))
            let result = await rt.run(message(user, at: start.addingTimeInterval(3600)))
            for conversion in result.conversions { converted[conversion.variant, default: 0] += 1 }
            #expect(result.conversions.map(\.variant) == [expectedVariant(user)].compactMap { $0 })
        }
        #expect(converted.values.reduce(0, +) == 40)
    }

    @Test("10,000 users split close to 50/50")
    func evenSplit() async throws {
        let store = InMemoryStateStore()
        let rt = runtime(try flowSet(greetingExperiment()), store)
        rt.runtime.recordsTraces = false
        var counts: [String: Int] = [:]
        let users = 10_000
        for index in 0..<users {
            let result = await rt.run(fetch("\(index)"))
            for exposure in result.exposures { counts[exposure.variant, default: 0] += 1 }
        }
        #expect(counts.values.reduce(0, +) == users)
        let formalShare = Double(counts["formal"] ?? 0) / Double(users)
        #expect(abs(formalShare - 0.5) < 0.03, "formal got \(formalShare * 100)%")
    }

    @Test("uneven weights split in proportion")
    func unevenSplit() async throws {
        let store = InMemoryStateStore()
        let rt = runtime(try flowSet(greetingExperiment(formal: 20, warm: 80)), store)
        rt.runtime.recordsTraces = false
        var warm = 0
        for index in 0..<5000 {
            let result = await rt.run(fetch("w\(index)"))
            if variant(of: result) == "warm" { warm += 1 }
        }
        #expect(abs(Double(warm) / 5000 - 0.8) < 0.03, "warm got \(warm) of 5000")
    }
}
