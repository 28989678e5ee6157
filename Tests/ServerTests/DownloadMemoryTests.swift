import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `/uploads/...` is streamed: clients that read slowly (here: not at all) hold the server
/// to what NIO's write buffers and the file reader keep, never to whole files.
@Suite("Download memory", .serialized, .machineShare)
struct DownloadMemoryTests {
    /// The process's resident memory, in bytes (Linux).
    static func residentBytes(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    @Test(.timeLimit(.minutes(5))) func stalledDownloadsOfABigPhotoDoNotHoldItInMemory() async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let harness = try ServerHarness()
        defer { harness.remove() }
        let server = try ServerProcess(
            binary: binary, environment: ServerProcess.environment(harness, port: try ServerProcess.freePort()), logPath: harness.directory + "/server.log")
        defer { server.kill() }
        try await server.waitForHealth()
        let name = "0123456789abcdef0123456789abcdef.jpg"
        let size = 40 * 1024 * 1024
        try Data([0xFF, 0xD8, 0xFF, 0xE0] + [UInt8](repeating: 0x42, count: size - 4)).write(
            to: URL(fileURLWithPath: harness.configuration.uploadsDirectory + "/" + name))
        // A first download (a part of it): what serving a file costs at all is in the baseline.
        #expect(try await server.request("GET", "/uploads/" + name, headers: ["Range": "bytes=0-1023"]).body.count == 1024)
        let baseline = try #require(Self.residentBytes(server.processIdentifier))

        let downloads = 20
        // Connecting and sending a request head are quick: no need to leave the test's task.
        let connections = try (0..<downloads).map { _ in
            let connection = try LoopbackConnection(port: server.port)
            try connection.send(Array("GET /uploads/\(name) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
            return connection
        }
        defer { for connection in connections { connection.close() } }
        // The server writes until every connection's buffers are full, then waits.
        try await Task.sleep(for: .seconds(3))
        let during = try #require(Self.residentBytes(server.processIdentifier))
        let grown = during - baseline
        // Whole files would be 20 × 40 MB. Streamed, each holds the file reader's read-ahead
        // (8 pieces of 128 KB) and what the allocator keeps around it: a few MB, whatever
        // the file's size (measured: about 4 MB).
        #expect(grown < 250 * 1024 * 1024, "the server grew by \(grown / 1024 / 1024) MB for \(downloads) stalled downloads of a 40 MB file")
    }
}
