import Synchronization

/// Room membership of one namespace.
///
/// One lock guards both directions of the index (room → sockets, socket → rooms) so they can
/// never disagree. Emitting to a room takes a snapshot under the lock and sends outside it.
final class Rooms: Sendable {
    private struct State {
        var members: [String: [String: SocketIOSocket]] = [:]
        var roomsOfSocket: [String: Set<String>] = [:]
        var sockets: [String: SocketIOSocket] = [:]
    }

    private let state = Mutex(State())

    /// Registers a connected socket; every socket is in the room named after its id, which is
    /// how "emit to one socket by id" works.
    func add(_ socket: SocketIOSocket) {
        state.withLock { state in
            state.sockets[socket.id] = socket
            Self.insert(socket, into: socket.id, state: &state)
        }
    }

    /// Forgets a socket and all of its memberships.
    func remove(_ socket: SocketIOSocket) {
        state.withLock { state in
            state.sockets[socket.id] = nil
            for room in state.roomsOfSocket.removeValue(forKey: socket.id) ?? [] {
                state.members[room]?[socket.id] = nil
                if state.members[room]?.isEmpty == true { state.members[room] = nil }
            }
        }
    }

    /// Adds a socket to a room; ignored if the socket is no longer registered.
    func join(_ socket: SocketIOSocket, _ room: String) {
        state.withLock { state in
            guard state.sockets[socket.id] != nil else { return }
            Self.insert(socket, into: room, state: &state)
        }
    }

    func leave(_ socket: SocketIOSocket, _ room: String) {
        state.withLock { state in
            state.roomsOfSocket[socket.id]?.remove(room)
            state.members[room]?[socket.id] = nil
            if state.members[room]?.isEmpty == true { state.members[room] = nil }
        }
    }

    func rooms(of socket: SocketIOSocket) -> Set<String> {
        state.withLock { $0.roomsOfSocket[socket.id] ?? [] }
    }

    func sockets(in room: String) -> [SocketIOSocket] {
        state.withLock { state in
            guard let members = state.members[room] else { return [] }
            return Array(members.values)
        }
    }

    func allSockets() -> [SocketIOSocket] {
        state.withLock { Array($0.sockets.values) }
    }

    func socket(id: String) -> SocketIOSocket? {
        state.withLock { $0.sockets[id] }
    }

    var count: Int {
        state.withLock { $0.sockets.count }
    }

    private static func insert(_ socket: SocketIOSocket, into room: String, state: inout State) {
        state.members[room, default: [:]][socket.id] = socket
        state.roomsOfSocket[socket.id, default: []].insert(room)
    }
}
