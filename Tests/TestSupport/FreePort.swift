import Foundation
import Synchronization

/// Loopback ports for servers a test starts as child processes (which must be told their
/// port before they bind it).
public enum FreePort {
    /// Below Linux's ephemeral range (32768-60999): an outgoing connection's local port, or
    /// a server bound to port 0, never takes one of these between the pick and the bind,
    /// as it could with a port the kernel handed out (a child once found its port taken).
    static let range = 20_000..<32_768
    private static let handedOut = Mutex<Set<Int>>([])

    /// A port nothing is bound to now and not handed out before in this process.
    public static func next() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: range)
            guard handedOut.withLock({ $0.insert(port).inserted }) else { continue }
            if isFree(port) { return port }
        }
        throw NoFreePort()
    }

    struct NoFreePort: Error, CustomStringConvertible {
        var description: String { "no free loopback port in \(FreePort.range)" }
    }

    private static func isFree(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
