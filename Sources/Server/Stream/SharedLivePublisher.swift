import Foundation
import Logging
import Storage
import Synchronization

/// The live events of a server that shares its database with others (PostgreSQL): every
/// run's commit writes what it shows live to the shared feed, and each server reads the
/// feed from its cursor, in commit order, into its own `LiveEventLog` (under the feed's
/// ids, so a `Last-Event-ID` from any server resumes on this one) and to its own socket.io
/// rooms. It reads after each of its own commits, at each doorbell (another server
/// numbered entries), and every `pollInterval` in case a doorbell was missed.
///
/// At start it loads the newest `log.retention` entries, so a client whose server went
/// away resumes here; their socket.io messages are not sent again.
final class SharedLivePublisher: LiveSource {
    let log: LiveEventLog
    private let feed: any SharedLiveFeed
    private let sockets: AppChatSockets
    private let autoModeDefault: Bool
    private let logger: Logger
    private let pollInterval: Duration
    private let batchSize: Int
    private let reader: Reader
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(
        log: LiveEventLog, feed: any SharedLiveFeed, sockets: AppChatSockets, autoModeDefault: Bool, logger: Logger,
        pollInterval: Duration = .seconds(1), batchSize: Int = 1_000
    ) {
        self.log = log
        self.feed = feed
        self.sockets = sockets
        self.autoModeDefault = autoModeDefault
        self.logger = logger
        self.pollInterval = pollInterval
        self.batchSize = batchSize
        reader = Reader()
        (wakeups, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [feed, wake] in await feed.listen { wake.yield() } }
            group.addTask { [wake, pollInterval] in
                while (try? await Task.sleep(for: pollInterval)) != nil { wake.yield() }
            }
            wake.yield()
            for await _ in wakeups { await read() }
            group.cancelAll()
        }
    }

    func finish() {
        wake.finish()
    }

    /// A run of this server committed live entries: number and read them now (the
    /// numbering rings the other servers).
    func committed() {
        wake.yield()
    }

    func catchUp(after id: Int64) async {
        guard id > log.newestID else { return }
        // Bounded: with the database away the stream opens at once and resumes or resets
        // on what is known.
        _ = await FirstAnswer.within(.seconds(2), late: ()) { await self.read() }
    }

    /// Reads everything committed since the cursor, one read at a time, in the caller's
    /// task (a shutdown cancels a read waiting for the database).
    private func read() async {
        await reader.acquire()
        var cursor = reader.cursor.withLock { $0 }
        await read(from: &cursor)
        reader.cursor.withLock { [cursor] in $0 = cursor }
        await reader.release()
    }

    private func read(from cursor: inout Reader.Cursor) async {
        do {
            guard let position = cursor.position else {
                cursor.position = try await start()
                return
            }
            if cursor.failing {
                // Entries older than the feed keeps were trimmed while this server could
                // not read: what it missed is gone, and its clients must reload.
                if let oldest = try await feed.oldestID(), oldest > position + 1 {
                    let newest = try await feed.newestID()
                    logger.warning(
                        "live events: the database was away longer than the feed keeps events; stream clients are told to reload",
                        metadata: ["missed_from": "\(position + 1)", "to": "\(oldest - 1)"])
                    log.discontinue(through: newest)
                    cursor.position = newest
                }
                cursor.failing = false
                logger.notice("live events: reading again")
            }
            // What the commits since the last read wrote gets its ids (by this server, or by
            // another already numbering).
            try await feed.number()
            var after = cursor.position ?? position
            while true {
                let events = try await feed.events(after: after, limit: batchSize)
                guard let last = events.last else { break }
                await show(events, through: last.id, sendingRooms: true)
                after = last.id
                cursor.position = after
                if events.count < batchSize { break }
            }
        } catch {
            // A shutdown cancelled the read: nothing went wrong.
            if Task.isCancelled { return }
            if !cursor.failing {
                logger.error("live events: cannot read the shared feed; trying again", metadata: ["error": "\(error)"])
            }
            cursor.failing = true
        }
    }

    /// Loads the newest retained entries without sending their socket.io messages (they
    /// went out when they were committed); returns the cursor.
    private func start() async throws -> Int64 {
        try await feed.number()
        let newest = try await feed.newestID()
        var after = max(0, newest - Int64(log.retention))
        while after < newest {
            let events = try await feed.events(after: after, limit: batchSize).filter { $0.id <= newest }
            guard let last = events.last else { break }
            await show(events, through: last.id, sendingRooms: false)
            after = last.id
        }
        log.publish(numbered: [], through: newest)
        logger.debug("live events: reading from the shared feed", metadata: ["after": "\(newest)"])
        return newest
    }

    private func show(_ events: [LiveFeedEvent], through: Int64, sendingRooms: Bool) async {
        var live: [LiveEvent] = []
        var broadcasts: [Broadcast] = []
        let autoModeDefault = autoModeDefault
        for event in events {
            switch event.body {
            case let .message(message, conversation):
                live.append(
                    LiveEvent(
                        id: event.id, kind: .message, chatID: String(conversation.id), source: conversation.source,
                        payload: LivePayload(.message) { MessageRecord(message) }))
            case .chat(let conversation):
                live.append(
                    LiveEvent(
                        id: event.id, kind: .chat, chatID: String(conversation.id), source: conversation.source,
                        payload: LivePayload(.chat) { ChatRecord(conversation, autoModeDefault: autoModeDefault) }))
            case let .room(userID, item):
                guard sendingRooms else { continue }
                if let item = try? JSONDecoder().decode(HistoryItem.self, from: Data(item.utf8)) {
                    broadcasts.append(Broadcast(userID: userID, item: item))
                } else {
                    logger.error("live events: a socket.io message could not be read; not sent", metadata: ["event_id": "\(event.id)"])
                }
            case .gone:
                continue
            }
        }
        log.publish(numbered: live, through: through)
        if !broadcasts.isEmpty { await sockets.send(broadcasts) }
    }

    /// The cursor, read and moved by one read at a time: a read holds the turn from
    /// `acquire` to `release`, and the next waits for it.
    private final class Reader: Sendable {
        struct Cursor {
            /// The newest entry read; nil until the start.
            var position: Int64?
            /// The last read failed.
            var failing = false
        }

        let cursor = Mutex(Cursor())
        private let turn = Mutex<(busy: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

        func acquire() async {
            await withCheckedContinuation { continuation in
                let now = turn.withLock { turn in
                    if !turn.busy {
                        turn.busy = true
                        return true
                    }
                    turn.waiting.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        }

        func release() async {
            let next = turn.withLock { turn -> CheckedContinuation<Void, Never>? in
                if turn.waiting.isEmpty {
                    turn.busy = false
                    return nil
                }
                return turn.waiting.removeFirst()
            }
            next?.resume()
        }
    }
}

extension LiveEntry {
    /// A socket.io message as the shared feed keeps it.
    init(_ broadcast: Broadcast) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let item = (try? encoder.encode(broadcast.item)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        self = .room(userID: broadcast.userID, item: item)
    }
}
