import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import Server

/// `HEAD` on the GET routes (probes and caches use it; the seed's Flask answered it), and
/// `Range` on `/uploads/...`.
@Suite("HEAD and Range", .machineShare)
struct HeadAndRangeTests {
    let key = "head-key"

    /// A photo of `size` bytes (a PNG head, then a counting pattern) in the uploads folder.
    func storePhoto(_ harness: ServerHarness, size: Int = 5_000) throws -> (path: String, bytes: [UInt8]) {
        let name = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") + ".png"
        let head: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let bytes = head + (0..<(size - head.count)).map { UInt8($0 % 251) }
        try FileManager.default.createDirectory(atPath: harness.configuration.uploadsDirectory, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: harness.configuration.uploadsDirectory + "/" + name))
        return ("/uploads/" + name, bytes)
    }

    // MARK: HEAD

    @Test func everyGETRouteAnswersHEAD() throws {
        var harness = try ServerHarness()
        harness.configuration.apiKey = key
        defer { harness.remove() }
        let services = try ReplyflowServer.buildServices(
            configuration: harness.configuration, storage: try ReplyflowServer.openSQLite(harness.configuration, logger: ServerHarness.quietLogger), logger: ServerHarness.quietLogger,
            clock: Date.init, ports: nil)
        let router = ReplyflowServer.buildRouter(services, configuration: harness.configuration, clock: Date.init, logger: ServerHarness.quietLogger)
        _ = router.buildResponder()
        let heads = Set(router.routes.filter { $0.method == .head }.map { "\($0.path)" })
        let gets = router.routes.filter { $0.method == .get }.map { "\($0.path)" }
        #expect(gets.count > 10)
        for path in gets {
            #expect(heads.contains(path), "GET \(path) has no HEAD")
        }
    }

    @Test func headIsTheGETWithoutItsBody() async throws {
        var harness = try ServerHarness()
        harness.configuration.apiKey = key
        defer { harness.remove() }
        let app = try harness.build()
        let photo = try storePhoto(harness)
        let authorised: HTTPFields = [.init("X-API-Key")!: key]
        let paths: [(String, HTTPFields)] = [
            ("/health", [:]), ("/ready", [:]), (photo.path, [:]), ("/message_history/head-1", [:]), ("/check_device/head-1", [:]),
            ("/admin/login", [:]), ("/api/chats", authorised), ("/metrics", authorised), ("/uploads/0123456789abcdef0123456789abcdef.png", [:]),
        ]
        try await app.application.test(.router) { client in
            for (path, headers) in paths {
                // The first GET of a history greets; HEAD is compared with the GET after it.
                _ = try await client.execute(uri: path, method: .get, headers: headers)
                let head = try await client.execute(uri: path, method: .head, headers: headers)
                let get = try await client.execute(uri: path, method: .get, headers: headers)
                #expect(head.status == get.status, "\(path)")
                #expect(head.headers[.contentType] == get.headers[.contentType], "\(path)")
                // /metrics grows with every request counted, these included.
                if path != "/metrics" { #expect(head.headers[.contentLength] == get.headers[.contentLength], "\(path)") }
                #expect(head.headers[.contentLength] != nil, "\(path)")
                #expect(head.body.readableBytes == 0, "\(path): \(String(buffer: head.body))")
            }
            let stream = try await client.execute(uri: "/api/stream", method: .head, headers: authorised)
            #expect(stream.status == .ok)
            #expect(stream.headers[.contentType] == "text/event-stream; charset=utf-8")
            #expect(stream.body.readableBytes == 0)
            // socket.io answers HEAD as engine.io does, opening no session.
            let socket = try await client.execute(uri: "/socket.io/?EIO=4&transport=polling", method: .head)
            #expect(socket.status == .badRequest)
        }
    }

    /// On the wire: headers and no body, so the next request on the connection is read right.
    @Test(.timeLimit(.minutes(5))) func headSendsNoBodyOnTheWire() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let photo = try storePhoto(harness)
        try await harness.build().application.test(.live) { client in
            try await RawConnection.with(port: client.port!) { connection in
                try await connection.send("HEAD \(photo.path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                #expect(try await connection.waitUntilReceived("\"status\":\"ok\"", within: .seconds(10)), "\(connection.received)")
                let answers = connection.received.components(separatedBy: "HTTP/1.1 ")
                #expect(answers.count == 3, "\(connection.received)")
                let head = answers[1]
                #expect(head.hasPrefix("200"))
                #expect(head.lowercased().contains("content-length: \(photo.bytes.count)\r\n"))
                #expect(head.lowercased().contains("accept-ranges: bytes\r\n"))
                #expect(head.hasSuffix("\r\n\r\n"), "a body followed the HEAD answer")
            }
            // An error's answer too.
            try await RawConnection.with(port: client.port!) { connection in
                try await connection.send(
                    "HEAD /uploads/0123456789abcdef0123456789abcdef.png HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                #expect(try await connection.waitUntilReceived("\"status\":\"ok\"", within: .seconds(10)), "\(connection.received)")
                let answers = connection.received.components(separatedBy: "HTTP/1.1 ")
                #expect(answers.count == 3, "\(connection.received)")
                #expect(answers[1].hasPrefix("404"))
                #expect(answers[1].hasSuffix("\r\n\r\n"), "a body followed the HEAD answer: \(answers[1])")
            }
        }
    }

    // MARK: Range

    @Test func uploadsHonourEachFormOfRange() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let app = try harness.build()
        let photo = try storePhoto(harness)
        let size = photo.bytes.count
        try await app.application.test(.router) { client in
            func get(_ range: String?, method: HTTPRequest.Method = .get) async throws -> TestResponse {
                try await client.execute(uri: photo.path, method: method, headers: range.map { [.range: $0] } ?? [:])
            }
            let whole = try await get(nil)
            #expect(whole.status == .ok)
            #expect(whole.headers[.acceptRanges] == "bytes")
            #expect(Array(whole.body.readableBytesView) == photo.bytes)

            for (range, expected) in [
                ("bytes=0-9", 0...9), ("bytes=100-", 100...(size - 1)), ("bytes=-50", (size - 50)...(size - 1)), ("bytes=4990-99999", 4990...(size - 1)),
            ] {
                let part = try await get(range)
                #expect(part.status == .partialContent, "\(range)")
                #expect(part.headers[.contentRange] == "bytes \(expected.lowerBound)-\(expected.upperBound)/\(size)", "\(range)")
                #expect(part.headers[.contentLength] == String(expected.count), "\(range)")
                #expect(Array(part.body.readableBytesView) == Array(photo.bytes[expected]), "\(range)")
            }

            for range in ["bytes=\(size)-", "bytes=-0", "bytes=9-3"] {
                let refused = try await get(range)
                #expect(refused.status == .rangeNotSatisfiable, "\(range)")
                #expect(refused.headers[.contentRange] == "bytes */\(size)", "\(range)")
                #expect(String(buffer: refused.body).contains("\"success\":false"), "\(range)")
            }

            // Not a single byte range: the whole file, as HTTP allows.
            for range in ["bytes=0-1,5-6", "pages=1-2", "bytes=abc"] {
                let ignored = try await get(range)
                #expect(ignored.status == .ok, "\(range)")
                #expect(ignored.body.readableBytes == size, "\(range)")
            }
            let conditional = try await client.execute(uri: photo.path, method: .get, headers: [.range: "bytes=0-9", .ifRange: "\"some-etag\""])
            #expect(conditional.status == .ok)

            let headPart = try await get("bytes=-50", method: .head)
            #expect(headPart.status == .partialContent)
            #expect(headPart.headers[.contentLength] == "50")
            #expect(headPart.body.readableBytes == 0)
        }
    }

    @Test func byteRangesResolveAgainstTheSize() {
        #expect(ByteRange(header: nil, size: 10) == .whole)
        #expect(ByteRange(header: "bytes=0-0", size: 10) == .part(0...0))
        #expect(ByteRange(header: "bytes=2-", size: 10) == .part(2...9))
        #expect(ByteRange(header: "bytes=-3", size: 10) == .part(7...9))
        #expect(ByteRange(header: "bytes=-30", size: 10) == .part(0...9))
        #expect(ByteRange(header: "BYTES= 5-99999999999999999999999", size: 10) == .part(5...9))
        #expect(ByteRange(header: "bytes=10-", size: 10) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=99999999999999999999999-", size: 10) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=-1", size: 0) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=-", size: 10) == .whole)
        #expect(ByteRange(header: "bytes=1-2, 4-5", size: 10) == .whole)
        #expect(ByteRange(header: "bytes=+1-2", size: 10) == .whole)
    }
}
