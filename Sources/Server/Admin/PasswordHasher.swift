import Foundation
import HummingbirdBcrypt
import NIOPosix
import Synchronization

/// Staff passwords, hashed with bcrypt (hummingbird-auth). Hashing and checking take a
/// deliberately long time (2^cost rounds), so both run on NIO's blocking thread pool,
/// never on the cooperative pool that serves requests.
public final class PasswordHasher: Sendable {
    /// bcrypt's cost: 12 in production; tests use 4 (the least bcrypt allows).
    public let cost: Int
    /// A hash of a random password at `cost`, checked when the user does not exist, so a
    /// wrong name takes as long as a wrong password (no way to tell which names exist).
    private let dummyHash = Mutex<String?>(nil)

    public init(cost: Int = 12) {
        precondition((4...31).contains(cost), "bcrypt's cost is between 4 and 31")
        self.cost = cost
    }

    public func hash(_ password: String) async throws -> String {
        let cost = UInt8(cost)
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`; with no hash (no such user, or a disabled one) it
    /// checks against a dummy hash and answers false, taking the same time.
    public func verify(_ password: String, against hash: String?) async throws -> Bool {
        let target: String
        if let hash {
            target = hash
        } else if let dummy = dummyHash.withLock({ $0 }) {
            target = dummy
        } else {
            let dummy = try await self.hash(SessionToken.random())
            dummyHash.withLock { $0 = $0 ?? dummy }
            target = dummy
        }
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: target) }
        return matches && hash != nil
    }
}
