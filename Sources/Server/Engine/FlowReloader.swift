import Flows
import Foundation
import Logging
import ServiceLifecycle

/// Reloads the flows on SIGHUP and when a file in the flows folder changes. A flow set
/// with an error, or with no flows at all, is refused with the reason in the log; the last
/// good set keeps serving.
struct FlowReloader: Service {
    let directory: String
    let engine: FlowEngine
    let logger: Logger
    var pollInterval: Duration = .seconds(2)

    func run() async throws {
        let initial = Self.fingerprint(directory)
        let hangups = SignalStream.hangups()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in hangups.stream {
                    logger.info("SIGHUP: reloading flows")
                    await reload()
                }
            }
            group.addTask {
                var fingerprint = initial
                while !Task.isCancelled {
                    try await Task.sleep(for: pollInterval)
                    let current = Self.fingerprint(directory)
                    if current != fingerprint {
                        fingerprint = current
                        logger.info("flow files changed: reloading")
                        await reload()
                    }
                }
            }
            try? await gracefulShutdown()
            hangups.cancel()
            group.cancelAll()
        }
    }

    /// Loads the folder; swaps it in only when it has no errors.
    func reload() async {
        let loaded = FlowLoader.load(directory: directory)
        let errors = loaded.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty, let flowSet = loaded.flowSet else {
            for error in errors { logger.error("\(error.description)") }
            logger.error("flows not reloaded: \(errors.count) error(s); the previous flows keep running")
            return
        }
        // Files moved away (a deploy or a checkout half done): running no flows would
        // silently drop every message, so the last set keeps running until flows are back.
        guard !flowSet.flows.isEmpty else {
            logger.error("flows not reloaded: \(directory) holds no flows now; the previous flows keep running")
            return
        }
        await engine.replaceFlows(flowSet)
        logger.info("flows reloaded", metadata: ["flows": "\(flowSet.flows.count)"])
    }

    /// Names, sizes and modification times of the YAML files: cheap to compare.
    static func fingerprint(_ directory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var entries: [String] = []
        for case let path as String in enumerator where path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
            let attributes = try? FileManager.default.attributesOfItem(atPath: (directory as NSString).appendingPathComponent(path))
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            entries.append("\(path)|\(size)|\(modified)")
        }
        return entries.sorted()
    }
}

/// SIGHUP as an async stream (Dispatch signal sources; the default action is ignored).
/// Unchecked: a dispatch source is thread-safe, and `source` is never reassigned.
final class SignalStream: @unchecked Sendable {
    let stream: AsyncStream<Void>
    private let source: DispatchSourceSignal

    private init(signal number: Int32) {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        source.setEventHandler { continuation.yield() }
        source.setCancelHandler { continuation.finish() }
        source.resume()
        self.source = source
        self.stream = stream
    }

    static func hangups() -> SignalStream { SignalStream(signal: SIGHUP) }

    func cancel() { source.cancel() }
}
