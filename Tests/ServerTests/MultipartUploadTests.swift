import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import Server

/// Photos of `POST /send_message` are read as they arrive, into the uploads folder: a
/// refused message leaves nothing there, and an oversized photo is refused before the
/// rest of the body is read.
@Suite("Multipart uploads", .machineShare)
struct MultipartUploadTests {
    private func entries(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    private func send(_ client: some TestClientProtocol, _ form: MultipartBody) async throws -> TestResponse {
        try await client.execute(uri: "/send_message", method: .post, headers: [.contentType: form.contentType], body: ByteBuffer(bytes: form.finished()))
    }

    private func form(user: String = "1", photos: [[UInt8]]) -> MultipartBody {
        var form = MultipartBody()
        form.field("user_id", user)
        form.field("message", "x")
        for (index, photo) in photos.enumerated() { form.file("photo", filename: "\(index).png", contentType: "image/png", photo) }
        return form
    }

    @Test func refusedMessagesLeaveNoFilesBehind() async throws {
        var harness = try ServerHarness()
        harness.configuration.maxUploadBytes = 64 * 1024
        harness.configuration.maxPhotosPerMessage = 2
        harness.configuration.rateLimitPerUser = 1
        defer { harness.remove() }
        let uploads = harness.configuration.uploadsDirectory
        let clock = TestClock()
        let ports = TestPorts()
        let app = try harness.build(ports: ports, clock: clock.function)
        try await app.application.test(.router) { client in
            let notImage = Array("#!/bin/sh\n".utf8)
            let tooLarge = tinyPNG + [UInt8](repeating: 0, count: 64 * 1024)
            // The second photo is not an image: the first, valid one is not kept either.
            #expect(try await send(client, form(photos: [tinyPNG, notImage])).status == .unsupportedMediaType)
            #expect(entries(uploads).isEmpty)
            #expect(try await send(client, form(photos: [tinyPNG, tooLarge])).status == .contentTooLarge)
            #expect(entries(uploads).isEmpty)
            #expect(try await send(client, form(photos: [tinyPNG, tinyPNG, tinyPNG])).status == .contentTooLarge)
            #expect(entries(uploads).isEmpty)
            var noUser = MultipartBody()
            noUser.field("message", "x")
            noUser.file("photo", filename: "a.png", contentType: "image/png", tinyPNG)
            #expect(try await send(client, noUser).status == .badRequest)
            #expect(entries(uploads).isEmpty)

            let accepted = try await send(client, form(user: "r", photos: [tinyPNG, tinyPNG]))
            #expect(accepted.status == .ok)
            #expect(accepted.json["photo_count"] as? Int == 2)
            let saved = entries(uploads)
            #expect(saved.count == 2 && saved.allSatisfy { $0.hasSuffix(".png") && !$0.hasPrefix(".") })
            // Over the user's limit: the photos were received, then removed.
            #expect(try await send(client, form(user: "r", photos: [tinyPNG])).status == .tooManyRequests)
            #expect(entries(uploads) == saved)
            // Staff got the accepted message only.
            await app.waitForDeliveries()
            #expect(ports.staffGroup.messages.map(\.kind) == [.album])
            #expect(ports.staffGroup.messages.first?.photos.count == 2)
        }
        #expect(ports.violations.isEmpty)
    }

    @Test func emptyPhotoFieldsAreNoPhotosAndOtherFilesAreIgnored() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let uploads = harness.configuration.uploadsDirectory
        let ports = TestPorts()
        let app = try harness.build(ports: ports)
        try await app.application.test(.router) { client in
            var form = form(photos: [[]])
            form.file("attachment", filename: "notes.txt", contentType: "text/plain", Array("not kept".utf8))
            let sent = try await send(client, form)
            #expect(sent.status == .ok)
            #expect(sent.json["photo_count"] as? Int == 0)
            #expect(entries(uploads).isEmpty)
            // Staff get the text alone.
            await app.waitForDeliveries()
            #expect(ports.staffGroup.messages.map(\.kind) == [.text])
            #expect(ports.staffGroup.messages.first?.plainText?.contains("notes.txt") == false)
        }
        #expect(ports.violations.isEmpty)
    }

    /// A body cut short (or never finished) is refused as such, whatever it lost: before,
    /// a lost last field read as an app that sent no message, and a lost photo was dropped
    /// without a word.
    @Test func aBodyWithoutItsClosingBoundaryIsRefusedAndLeavesNoFiles() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let uploads = harness.configuration.uploadsDirectory
        let ports = TestPorts()
        let app = try harness.build(ports: ports)
        try await app.application.test(.router) { client in
            var textOnly = MultipartBody()
            textOnly.field("user_id", "1")
            textOnly.field("message", "hello")
            let withPhoto = form(photos: [tinyPNG, tinyPNG])
            var photoLast = MultipartBody()
            photoLast.field("user_id", "1")
            photoLast.field("message", "x")
            photoLast.file("photo", filename: "a.png", contentType: "image/png", tinyPNG)
            let cut: [(String, MultipartBody, [UInt8])] = [
                ("no closing boundary at all", textOnly, textOnly.bytes),
                ("photos, then no closing boundary", withPhoto, withPhoto.bytes),
                ("cut inside the last photo", photoLast, Array(photoLast.bytes.dropLast(10))),
                ("a boundary line with no part after it", textOnly, textOnly.bytes + Array("--\(textOnly.boundary)\r\n".utf8)),
                ("cut inside the closing boundary", textOnly, Array(textOnly.finished().dropLast(4))),
            ]
            for (what, form, body) in cut {
                let answer = try await client.execute(
                    uri: "/send_message", method: .post, headers: [.contentType: form.contentType], body: ByteBuffer(bytes: body))
                #expect(answer.status == .badRequest, "\(what)")
                #expect(answer.json["success"] as? Bool == false, "\(what)")
                #expect((answer.json["error"] as? String)?.contains("closing boundary") == true, "\(what): \(answer.json["error"] ?? "no error")")
                #expect(entries(uploads).isEmpty, "\(what)")
            }
            // Finished, with the usual trailing line break or none, it is accepted.
            let finished = try await send(client, textOnly)
            #expect(finished.status == .ok)
            let bare = try await client.execute(
                uri: "/send_message", method: .post, headers: [.contentType: textOnly.contentType], body: ByteBuffer(bytes: textOnly.finished().dropLast(2)))
            #expect(bare.status == .ok)
            await app.waitForDeliveries()
            #expect(ports.staffGroup.messages.count == 2)
        }
    }

    /// The closing delimiter is found however the body is cut into chunks, and only where
    /// a part has just ended.
    @Test func theClosingDelimiterIsFoundAcrossChunks() {
        let body = Array("--b\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nhi\r\n--b--\r\n".utf8)
        for split in 1..<body.count {
            var watch = ClosingDelimiterWatch(boundary: "b")
            watch.read(ByteBuffer(bytes: body[..<split]), search: true)
            watch.read(ByteBuffer(bytes: body[split...]), search: true)
            #expect(watch.seen, "split at \(split)")
        }
        var open = ClosingDelimiterWatch(boundary: "b")
        open.read(ByteBuffer(bytes: Array("hi\r\n--b\r\n".utf8)), search: true)
        #expect(!open.seen)
        var skipped = ClosingDelimiterWatch(boundary: "b")
        skipped.read(ByteBuffer(bytes: Array("hi\r\n--b--".utf8)), search: false)
        #expect(!skipped.seen)
    }

    @Test func halfReceivedPhotosAreRemovedAtStart() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let uploads = harness.configuration.uploadsDirectory
        try FileManager.default.createDirectory(atPath: uploads, withIntermediateDirectories: true)
        // Left a moment ago by a server that crashed: nothing holds it any more.
        let leftover = uploads + "/" + UploadStore.stagingPrefix + "crashed"
        #expect(FileManager.default.createFile(atPath: leftover, contents: Data(tinyPNG)))
        // Still arriving at another server sharing the folder, which holds its lock.
        let arriving = uploads + "/" + UploadStore.stagingPrefix + "another-server"
        let lock = try #require(StagingLock.create(at: arriving))
        defer { lock.release() }
        _ = try harness.build()
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(FileManager.default.fileExists(atPath: arriving))
    }

    /// Sends the start of a multipart request that announces 50 MB, then `bytes`, and
    /// waits: only a server that checks what arrives as it arrives can answer now.
    private func answerToAStartedUpload(_ bytes: @escaping @Sendable (MultipartBody) -> [UInt8]) async throws -> (answer: String, uploads: [String]) {
        var harness = try ServerHarness()
        harness.configuration.maxUploadBytes = 64 * 1024
        defer { harness.remove() }
        let uploads = harness.configuration.uploadsDirectory
        return try await harness.build().application.test(.live) { client in
            let port = try #require(client.port)
            var form = MultipartBody()
            form.field("user_id", "1")
            form.field("message", "x")
            let head = "POST /send_message HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \(form.contentType)\r\nContent-Length: \(50 * 1024 * 1024)\r\n\r\n"
            let all = Array(head.utf8) + form.bytes + bytes(form)
            // Blocking socket calls run on a thread of their own: on the cooperative pool
            // (two threads here) they would starve the server under test.
            let answer = try await offThePool {
                let connection = try LoopbackConnection(port: port)
                defer { connection.close() }
                // In pieces, as a slow client sends them.
                for start in stride(from: 0, to: all.count, by: 4096) { try connection.send(Array(all[start..<min(start + 4096, all.count)])) }
                return try connection.receive(until: "\r\n\r\n", timeout: 20)
            }
            return (answer, entries(uploads))
        }
    }

    private func photoStart(_ form: MultipartBody) -> [UInt8] {
        Array("--\(form.boundary)\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"big.png\"\r\n\r\n".utf8)
    }

    @Test(.timeLimit(.minutes(5))) func anOversizedPhotoIsRefusedBeforeTheRestArrives() async throws {
        let (answer, uploads) = try await answerToAStartedUpload { photoStart($0) + tinyPNG + [UInt8](repeating: 0, count: 80 * 1024) }
        #expect(answer.hasPrefix("HTTP/1.1 413"), "answer was \(answer.prefix(200))")
        #expect(uploads.isEmpty)
    }

    @Test(.timeLimit(.minutes(5))) func aPhotoThatIsNotAnImageIsRefusedByItsFirstBytes() async throws {
        let (answer, uploads) = try await answerToAStartedUpload {
            photoStart($0) + Array("#!/bin/sh\necho not an image\n".utf8) + [UInt8](repeating: 0x41, count: 8 * 1024)
        }
        #expect(answer.hasPrefix("HTTP/1.1 415"), "answer was \(answer.prefix(200))")
        #expect(uploads.isEmpty)
    }

    @Test(.timeLimit(.minutes(5))) func aHeaderThatNeverEndsIsRefused() async throws {
        // The parser would hold (and copy on every chunk) a header line until it ends.
        let (answer, _) = try await answerToAStartedUpload { form in
            Array("--\(form.boundary)\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"".utf8) + [UInt8](repeating: 0x61, count: 100 * 1024)
        }
        #expect(answer.hasPrefix("HTTP/1.1 400"), "answer was \(answer.prefix(200))")
    }

    @Test func aPhotoOfManySmallPiecesIsStoredWhole() async throws {
        // CR bytes make the multipart parser hand the body over in tiny pieces.
        let photo = tinyPNG + [UInt8]((0..<40_000).map { $0 % 3 == 0 ? 0x0D : UInt8($0 % 251) })
        let harness = try ServerHarness()
        defer { harness.remove() }
        let ports = TestPorts()
        let app = try harness.build(ports: ports)
        try await app.application.test(.router) { client in
            let sent = try await send(client, form(photos: [photo]))
            #expect(sent.status == .ok)
            let url = try #require(sent.json["photo_url"] as? String)
            let served = try await client.execute(uri: url, method: .get)
            #expect(Array(served.body.readableBytesView) == photo)
            // And staff get it whole.
            await app.waitForDeliveries()
            #expect(ports.staffGroup.messages.first?.photos.map(\.data) == [Data(photo)])
        }
        #expect(ports.violations.isEmpty)
    }
}

/// A plain TCP connection to a loopback port, for requests no HTTP client would send.
final class LoopbackConnection {
    private let socket: Int32

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard socket >= 0, connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw POSIXError(.EPIPE) }
            offset += sent
        }
    }

    /// What arrives until `marker` is seen, the peer closes, or `timeout` seconds pass.
    func receive(until marker: String, timeout: Int) throws -> String {
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: received, as: UTF8.self).contains(marker) {
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += chunk[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    func close() {
        Glibc.close(socket)
    }
}
