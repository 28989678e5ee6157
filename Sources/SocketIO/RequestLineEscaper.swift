import NIOCore

/// Percent-encodes the non-ASCII bytes of a connection's first request line, so
/// `GET /message_history/1?user_name=Анна`, as curl sends it, reads as the app's
/// `user_name=%D0%90...` would: the seed's Flask server took such queries, and NIO's parser
/// (llhttp, which has no lenient setting for it) refuses them.
///
/// Only the first line: the start of the connection is the one place a request line is
/// known to begin without parsing HTTP. A later keep-alive request with raw bytes is refused
/// with a 400 as before. A request line has nothing but ASCII otherwise, so no byte that
/// means something is changed. Sits before the HTTP decoder, and leaves the pipeline at the
/// line's end: bodies and everything after pass untouched.
final class RequestLineEscaper: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let bytes = buffer.readableBytesView
        let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\n"))
        let line = bytes[..<(lineEnd ?? bytes.endIndex)]
        if line.contains(where: { $0 >= 0x80 }) {
            var escaped = context.channel.allocator.buffer(capacity: buffer.readableBytes + 64)
            for byte in line {
                if byte >= 0x80 {
                    escaped.writeBytes([UInt8(ascii: "%"), Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 0x0F)]])
                } else {
                    escaped.writeInteger(byte)
                }
            }
            escaped.writeBytes(bytes[line.endIndex...])
            context.fireChannelRead(wrapInboundOut(escaped))
        } else {
            context.fireChannelRead(data)
        }
        if lineEnd != nil {
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        }
    }
}
