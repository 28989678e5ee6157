import Synchronization

/// The bounded queue of frames waiting to be sent to one Engine.IO session.
///
/// Producers (emits, broadcasts, the heartbeat) never wait: `enqueue` is synchronous and
/// reports overflow, so a broadcast to a thousand sockets costs a thousand lock/append
/// operations no matter how slow any one client is. A single consumer (the pending polling
/// GET, or the WebSocket writer) takes everything queued at once.
///
/// Living in the session rather than in a transport is what makes the polling → WebSocket
/// upgrade lossless: frames queued while upgrading are simply drained by the new transport.
final class OutboundQueue: Sendable {
    /// What a waiting consumer gets.
    enum Delivery: Sendable, Equatable {
        /// Frames to send, oldest first.
        case frames([EngineFrame])
        /// Nothing to send, but the consumer must return now (polling: answer `6`).
        case noop
        /// The session is closed; a pending polling GET answers with the farewell.
        case closed(Farewell)
    }

    /// How a polling client waiting on a GET learns that its session closed (a WebSocket
    /// is simply closed).
    enum Farewell: Sendable, Equatable {
        /// The client sent the close packet itself: its pending GET is released with `6`.
        case noop
        /// The server ended the session: a close packet, `1`, after which clients stay
        /// disconnected.
        case closePacket
        /// The server is going away: `400 Session ID unknown`, what the next server would say
        /// anyway. Every official client takes an HTTP error as a lost connection and
        /// reconnects; python-socketio gives up on a close packet (its reconnect only runs
        /// when the transport failed while connected).
        case unknownSession
    }

    private struct State {
        var frames: [EngineFrame] = []
        var waiter: CheckedContinuation<Delivery, Never>?
        var closed: Delivery?
    }

    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Appends frames atomically (a packet with binary attachments must not be interleaved).
    /// Returns `false` when the queue is closed or would exceed its capacity; the caller then
    /// closes the session.
    func enqueue(_ newFrames: [EngineFrame]) -> Bool {
        let (accepted, wake): (Bool, (CheckedContinuation<Delivery, Never>, Delivery)?) = state.withLock { state in
            guard state.closed == nil else { return (false, nil) }
            guard state.frames.count + newFrames.count <= capacity else { return (false, nil) }
            if let waiter = state.waiter {
                // The queue is empty whenever someone waits, so hand the frames over directly.
                state.waiter = nil
                return (true, (waiter, .frames(newFrames)))
            }
            state.frames.append(contentsOf: newFrames)
            return (true, nil)
        }
        if let wake { wake.0.resume(returning: wake.1) }
        return accepted
    }

    /// Convenience for one frame.
    func enqueue(_ frame: EngineFrame) -> Bool {
        enqueue([frame])
    }

    /// Takes queued frames, waiting for some if there are none.
    ///
    /// - Parameter maxBytes: stop collecting once the polling size of the taken frames reaches
    ///   this (at least one frame is always taken); `nil` takes everything.
    func next(maxBytes: Int? = nil) async -> Delivery {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Delivery, Never>) in
                let (immediate, displaced): (Delivery?, CheckedContinuation<Delivery, Never>?) = state.withLock { state in
                    if !state.frames.isEmpty {
                        return (.frames(Self.take(&state.frames, maxBytes: maxBytes)), nil)
                    }
                    if let closed = state.closed { return (closed, nil) }
                    if Task.isCancelled { return (.noop, nil) }
                    // Only one consumer at a time; a stale one is told to go away.
                    let displaced = state.waiter
                    state.waiter = continuation
                    return (nil, displaced)
                }
                displaced?.resume(returning: .noop)
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            releaseWaiter()
        }
    }

    /// Makes a waiting consumer return `.noop` (releases a pending polling GET during upgrade).
    func releaseWaiter() {
        let waiter = state.withLock { state -> CheckedContinuation<Delivery, Never>? in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: .noop)
    }

    /// `true` when frames are waiting.
    var hasPendingFrames: Bool {
        state.withLock { !$0.frames.isEmpty }
    }

    /// Closes the queue. Frames already queued can still be taken (so a final `41` reaches a
    /// WebSocket client before it is closed); afterwards consumers get `.closed`.
    func close(farewell: Farewell) {
        let waiter = state.withLock { state -> CheckedContinuation<Delivery, Never>? in
            guard state.closed == nil else { return nil }
            state.closed = .closed(farewell)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: .closed(farewell))
    }

    private static func take(_ frames: inout [EngineFrame], maxBytes: Int?) -> [EngineFrame] {
        guard let maxBytes else {
            defer { frames.removeAll(keepingCapacity: true) }
            return frames
        }
        var size = 0
        var count = 0
        for frame in frames {
            size += frame.pollingSize + 1
            if count > 0 && size > maxBytes { break }
            count += 1
        }
        let taken = Array(frames.prefix(count))
        frames.removeFirst(count)
        return taken
    }
}
