import Hummingbird
import NIOCore

/// Where a request came from. Behind a reverse proxy every request comes from the proxy, so
/// its `X-Forwarded-For` and `X-Forwarded-Proto` are believed only from `trustedProxies`.
public struct ClientAddress: Sendable {
    public let trustedProxies: Set<String>

    public init(trustedProxies: Set<String>) {
        self.trustedProxies = trustedProxies
    }

    /// The client's address: the peer, or the last address a trusted proxy did not add.
    public func of(_ request: Request, peer: SocketAddress?) -> String {
        let peerAddress = peer?.ipAddress ?? "unknown"
        guard trustedProxies.contains(peerAddress), let forwarded = request.headers[ExtraHeader.xForwardedFor] else { return peerAddress }
        let hops = forwarded.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return hops.last(where: { !trustedProxies.contains($0) }) ?? peerAddress
    }

    /// Whether the browser's connection is HTTPS: the server itself speaks plain HTTP, so
    /// only a trusted proxy saying `X-Forwarded-Proto: https` makes it so.
    public func cameOverHTTPS(_ request: Request, peer: SocketAddress?) -> Bool {
        guard let peerAddress = peer?.ipAddress, trustedProxies.contains(peerAddress), let proto = request.headers[ExtraHeader.xForwardedProto] else {
            return false
        }
        // A chain of proxies lists one scheme per hop; the first is the browser's.
        return proto.split(separator: ",").first?.trimmingCharacters(in: .whitespaces).lowercased() == "https"
    }
}

/// Header names Hummingbird does not name (HTTPTypes' `HTTPField` is not re-exported).
enum ExtraHeader {
    static let xForwardedFor = HTTPFields.Element.Name("X-Forwarded-For")!
    static let xForwardedProto = HTTPFields.Element.Name("X-Forwarded-Proto")!
    static let xCSRFToken = HTTPFields.Element.Name("X-CSRF-Token")!
    static let secFetchSite = HTTPFields.Element.Name("Sec-Fetch-Site")!
    static let referrerPolicy = HTTPFields.Element.Name("Referrer-Policy")!
    static let xFrameOptions = HTTPFields.Element.Name("X-Frame-Options")!
}
