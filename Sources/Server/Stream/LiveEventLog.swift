import Flows
import Foundation
import NIOCore
import Synchronization

/// One update of the live stream: a message or a chat, as `/api` records.
struct LiveEvent: Sendable {
    enum Kind: String, Sendable { case message, chat }

    var id: Int64
    var kind: Kind
    var chatID: String
    var source: ChatSource
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

    /// `{"type": kind, "record": record}`, the record made when first needed.
    convenience init<Record: Encodable & Sendable>(_ kind: LiveEvent.Kind, record: @escaping @Sendable () -> Record) {
        self.init {
            let envelope = Envelope(type: kind.rawValue, record: record())
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
            return (try? encoder.encode(envelope)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        }
    }

    private struct Envelope<Record: Encodable & Sendable>: Encodable, Sendable {
        var type: String
        var record: Record
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
    var source: ChatSource?

    func accepts(_ event: LiveEvent) -> Bool {
        (chatID == nil || chatID == event.chatID) && (source == nil || source == event.source)
    }
}

/// An event about to be published: the log gives it its id.
struct LiveDraft: Sendable {
    var kind: LiveEvent.Kind
    var chatID: String
    var source: ChatSource
    var payload: LivePayload
}

/// The recent updates, kept for resumption, and the connected subscribers. Event ids
/// grow across restarts too (they start from the clock), so an id from before a restart
/// is older than every id after it.
///
/// Subscribers receive ready-to-write SSE frames: the events of one publish (a message and
/// its chat) travel as one buffer, built once and shared by every subscriber that takes
/// them all, so a thousand subscribers cost a thousand writes, not two thousand formats.
final class LiveEventLog: Sendable {
    private struct Subscriber {
        var filter: StreamFilter
        var continuation: AsyncStream<ByteBuffer>.Continuation
    }

    private struct State {
        var events: [LiveEvent] = []
        var nextID: Int64
        var subscribers: [UUID: Subscriber] = [:]
    }

    private let state: Mutex<State>
    /// Events kept for `Last-Event-ID`: a reconnect within this many events misses nothing.
    let retention: Int
    /// Frames a slow subscriber may have waiting. One more ends its stream after the frames
    /// already waiting: the client reconnects with the id of the last frame it got and
    /// is sent everything since from the retained events, instead of silently missing
    /// the frames a full buffer would have dropped.
    let subscriberBuffer: Int

    /// `firstID`: where ids start when the publisher numbers events itself (by default from
    /// the clock); a shared feed's events bring their own (`publish(numbered:through:)`).
    init(retention: Int = 10_000, subscriberBuffer: Int = 1_000, firstID: Int64? = nil, now: Date = Date()) {
        self.retention = retention
        self.subscriberBuffer = subscriberBuffer
        state = Mutex(State(nextID: firstID ?? Int64(now.timeIntervalSince1970 * 1000) * 1000))
    }

    /// Numbers events and publishes them. Called by one publisher at a time, so frames
    /// reach every subscriber in id order.
    func publish(_ drafts: [LiveDraft]) {
        guard !drafts.isEmpty else { return }
        publish { state in
            drafts.map { draft in
                defer { state.nextID += 1 }
                return LiveEvent(id: state.nextID, kind: draft.kind, chatID: draft.chatID, source: draft.source, payload: draft.payload)
            }
        }
    }

    /// Publishes events numbered elsewhere (the shared feed's ids, ascending, each above
    /// every id published before), and notes that every id up to `through` is known, shown
    /// or not (entries that show nothing still take ids).
    /// Events it already has (a start read again after it failed half-way) are left out.
    func publish(numbered events: [LiveEvent], through: Int64) {
        publish { state in
            let newest = state.nextID - 1
            state.nextID = max(state.nextID, through + 1)
            return events.filter { $0.id > newest }
        }
    }

    /// The newest id published or passed over; a `Last-Event-ID` above it is not known yet.
    var newestID: Int64 {
        state.withLock { $0.nextID - 1 }
    }

    /// Forgets every event and ends every stream, and continues after `through`: the
    /// publisher missed events it can no longer read (its database was away longer than the
    /// feed keeps them). The clients reconnect, and their ids, now older than anything kept,
    /// get `event: reset`.
    func discontinue(through: Int64) {
        let continuations = state.withLock { state in
            defer {
                state.subscribers = [:]
                state.events = []
                state.nextID = max(state.nextID, through + 1)
            }
            return state.subscribers.values.map(\.continuation)
        }
        for continuation in continuations { continuation.finish() }
    }

    /// Appends the events `make` gives and hands each subscriber the ones its filter accepts.
    private func publish(_ make: (inout State) -> [LiveEvent]) {
        let (events, subscribers) = state.withLock { state in
            let events = make(&state)
            state.events.append(contentsOf: events)
            if state.events.count > retention + retention / 4 { state.events.removeFirst(state.events.count - retention) }
            return (events, Array(state.subscribers.values))
        }
        // Outside the lock: encoding the records is the expensive part.
        guard !events.isEmpty, !subscribers.isEmpty else { return }
        var everything: ByteBuffer?
        for subscriber in subscribers {
            let accepted = events.filter(subscriber.filter.accepts)
            if accepted.isEmpty { continue }
            let frames: ByteBuffer
            if accepted.count == events.count {
                if everything == nil { everything = Self.frames(events) }
                frames = everything!
            } else {
                frames = Self.frames(accepted)
            }
            if case .dropped = subscriber.continuation.yield(frames) {
                // Too slow: end the stream after what it already has (see `subscriberBuffer`).
                subscriber.continuation.finish()
            }
        }
    }

    /// Subscribes: the retained events after `lastEventID` (none when nil), then live
    /// frames. Registration and the replay happen under one lock, so nothing falls in
    /// between. `sink` lets the caller put its own frames (heartbeats) in the same order.
    /// `resetID` is set when `lastEventID` cannot be resumed from (it is older than what is
    /// retained, or from before a restart): the client must reload what it shows, and the
    /// id is where the stream picks up.
    func subscribe(filter: StreamFilter, after lastEventID: Int64?) -> (
        missed: [LiveEvent], resetID: Int64?, live: AsyncStream<ByteBuffer>, sink: AsyncStream<ByteBuffer>.Continuation,
        cancel: @Sendable () -> Void
    ) {
        // Oldest kept: a full buffer refuses the new frame, and `publish` then ends the
        // stream, so the client's last id is the last frame it really got.
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingOldest(subscriberBuffer))
        let key = UUID()
        let (missed, resetID) = state.withLock { state -> ([LiveEvent], Int64?) in
            state.subscribers[key] = Subscriber(filter: filter, continuation: continuation)
            guard let lastEventID else { return ([], nil) }
            let newest = state.nextID - 1
            let oldestKept = state.events.first?.id ?? state.nextID
            if lastEventID < oldestKept - 1 || lastEventID > newest { return ([], newest) }
            return (state.events.filter { $0.id > lastEventID && filter.accepts($0) }, nil)
        }
        let cancel: @Sendable () -> Void = { [weak self] in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: key) }
            continuation.finish()
        }
        continuation.onTermination = { _ in cancel() }
        return (missed, resetID, stream, continuation, cancel)
    }

    /// The `/api/stream` clients connected now (the metrics read it at each scrape).
    var subscriberCount: Int {
        state.withLock { $0.subscribers.count }
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

    /// Tells a client that came back too late to be sent what it missed to reload (its chats
    /// and messages from the `/api`); its id lets the next reconnect resume from here.
    static func resetFrame(id: Int64) -> ByteBuffer {
        ByteBuffer(
            string:
                "id: \(id)\nevent: reset\ndata: {\"type\":\"reset\",\"reason\":\"the events since Last-Event-ID are no longer kept; reload the chats and messages\"}\n\n"
        )
    }

    /// `id`, `event: update` and `data` of each event, as one buffer.
    static func frames(_ events: [LiveEvent]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for event in events {
            buffer.writeString("id: \(event.id)\nevent: update\ndata: \(event.data)\n\n")
        }
        return buffer
    }
}
