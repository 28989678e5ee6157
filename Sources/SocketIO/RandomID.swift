/// Random identifiers for Engine.IO sessions and Socket.IO sockets.
///
/// Session ids are bearer credentials for the polling transport (whoever knows one can read that
/// session's messages), so they come from the system CSPRNG and carry 128 bits of entropy.
enum RandomID {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// 22 URL-safe characters (132 random bits), like the 20-character ids of the node server
    /// but without needing any escaping in a query string.
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(22)
        for _ in 0..<22 {
            // 64 symbols: the low 6 bits of a random byte are uniformly distributed.
            let random = UInt8.random(in: 0...255, using: &generator)
            bytes.append(alphabet[Int(random & 63)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
