import Foundation
import Synchronization

/// One update of the live stream: a message or a chat, as `/api` records.
struct LiveEvent: Sendable {
    enum Kind: String, Sendable { case message, chat }

    var id: Int64
    var kind: Kind
    var chatID: String
    var source: String
    let payload: LivePayload
    /// `{"type": ..., "record": ...}`, encoded at most once, for every subscriber.
    var data: String { payload.text }
}

/// An event's JSON, encoded when the first subscriber needs it: the log keeps every
/// update for resumption, and encoding each one while nobody listens would cost the
/// busiest path (`send_message`) for nothing.
final class LivePayload: Sendable {
    private let encode: @Sendable () -> String
    private let cached = Mutex<String?>(nil)

    init(_ encode: @escaping @Sendable () -> String) {
        self.encode = encode
    }

    var text: String {
        if let text = cached.withLock({ $0 }) { return text }
        let text = encode()
        cached.withLock { $0 = text }
        return text
    }
}

/// Who a subscriber wants to hear about.
struct StreamFilter: Sendable {
    var chatID: String?
    var source: String?

    func accepts(_ event: LiveEvent) -> Bool {
        (chatID == nil || chatID == event.chatID) && (source == nil || source == event.source)
    }
}

/// The recent updates, kept for resumption, and the connected subscribers. Event ids
/// grow across restarts too (they start from the clock), so an id from before a restart
/// is older than every id after it.
final class LiveEventLog: Sendable {
    private struct State {
        var events: [LiveEvent] = []
        var nextID: Int64
        var subscribers: [UUID: (filter: StreamFilter, continuation: AsyncStream<LiveEvent>.Continuation)] = [:]
    }

    private let state: Mutex<State>
    /// Events kept for `Last-Event-ID`: a reconnect within this many events misses nothing.
    let retention: Int
    /// Events a slow subscriber may have waiting before the oldest are dropped (it then
    /// resumes from its last id on reconnect).
    let subscriberBuffer: Int

    init(retention: Int = 10_000, subscriberBuffer: Int = 1_000, now: Date = Date()) {
        self.retention = retention
        self.subscriberBuffer = subscriberBuffer
        state = Mutex(State(nextID: Int64(now.timeIntervalSince1970 * 1000) * 1000))
    }

    /// Appends an event and hands it to every subscriber whose filter accepts it.
    func publish(kind: LiveEvent.Kind, chatID: String, source: String, payload: LivePayload) {
        state.withLock { state in
            let event = LiveEvent(id: state.nextID, kind: kind, chatID: chatID, source: source, payload: payload)
            state.nextID += 1
            state.events.append(event)
            if state.events.count > retention + retention / 4 { state.events.removeFirst(state.events.count - retention) }
            for subscriber in state.subscribers.values where subscriber.filter.accepts(event) {
                subscriber.continuation.yield(event)
            }
        }
    }

    /// Subscribes: the retained events after `lastEventID` (none when nil), then live ones.
    /// Registration and the replay happen under one lock, so nothing falls in between.
    func subscribe(filter: StreamFilter, after lastEventID: Int64?) -> (missed: [LiveEvent], live: AsyncStream<LiveEvent>, cancel: @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream<LiveEvent>.makeStream(bufferingPolicy: .bufferingNewest(subscriberBuffer))
        let key = UUID()
        let missed = state.withLock { state -> [LiveEvent] in
            state.subscribers[key] = (filter, continuation)
            guard let lastEventID else { return [] }
            return state.events.filter { $0.id > lastEventID && filter.accepts($0) }
        }
        let cancel: @Sendable () -> Void = { [weak self] in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: key) }
            continuation.finish()
        }
        continuation.onTermination = { _ in cancel() }
        return (missed, stream, cancel)
    }

    /// Ends every subscription (shutdown), so open streams finish instead of holding the
    /// server up until their next heartbeat fails.
    func closeAll() {
        let continuations = state.withLock { state in
            defer { state.subscribers = [:] }
            return state.subscribers.values.map(\.continuation)
        }
        for continuation in continuations { continuation.finish() }
    }
}
