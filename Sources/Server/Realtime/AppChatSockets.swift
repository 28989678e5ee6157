import Foundation
import Logging
import SocketIO

/// The seed's socket.io events for the app: `join_chat {user_id}` puts the socket in the
/// user's room and answers `joined`; `leave_chat` takes it out; bad input gets `error`;
/// new messages reach the room as `new_message` (the history item plus `user_id`).
struct AppChatSockets: Sendable {
    let server: SocketIOServer
    let logger: Logger

    func install() {
        let namespace = server.namespace("/")
        namespace.on("join_chat") { socket, arguments, ack in
            guard let userID = Self.userID(in: arguments) else {
                await socket.emit("error", [.object(["message": .string("join_chat needs {\"user_id\": \"...\"}")])])
                return
            }
            await socket.join(Self.room(userID))
            let answer: JSONValue = .object(["user_id": .string(userID), "room": .string(Self.room(userID)), "status": .string("joined")])
            await socket.emit("joined", [answer])
            await ack?([answer])
        }
        namespace.on("leave_chat") { socket, arguments, ack in
            guard let userID = Self.userID(in: arguments) else {
                await socket.emit("error", [.object(["message": .string("leave_chat needs {\"user_id\": \"...\"}")])])
                return
            }
            await socket.leave(Self.room(userID))
            await ack?([.object(["user_id": .string(userID), "status": .string("left")])])
        }
    }

    /// Sends committed messages to the users' rooms.
    func send(_ broadcasts: [Broadcast]) async {
        let namespace = server.namespace("/")
        for broadcast in broadcasts {
            let item = broadcast.item
            let payload: JSONValue = .object([
                "message": .string(item.message),
                "photo_url": item.photoURL.map(JSONValue.string) ?? .null,
                "direction": .string(item.direction),
                "created_at": .string(item.createdAt),
                "user_id": .string(broadcast.userID),
            ])
            await namespace.emit("new_message", [payload], toRoom: Self.room(broadcast.userID))
        }
    }

    /// The seed used the user id itself as the room name.
    static func room(_ userID: String) -> String { userID }

    /// `user_id` as a string or a whole number, as apps send either.
    static func userID(in arguments: [JSONValue]) -> String? {
        guard case .object(let fields)? = arguments.first else { return nil }
        switch fields["user_id"] {
        case .string(let id)? where !id.trimmingCharacters(in: .whitespaces).isEmpty && id.count <= InputLimits.maxUserIDLength:
            return id
        case .number(let number)? where number == number.rounded() && abs(number) < 1e15:
            return String(Int64(number))
        default:
            return nil
        }
    }
}
