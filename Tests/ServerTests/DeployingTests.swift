import Foundation
import TestSupport
import Testing

/// What `docs/deploying.md` tells an operator to install, tried for real: the systemd units
/// pass `systemd-analyze verify`, the backup script makes a checked copy and keeps uploads,
/// and the nginx example carries TLS, Server-Sent Events, socket.io's WebSocket and the
/// admin panel's Secure cookie through to `replyflow serve`. The doc shows the files as
/// they are in `deploy/`.
@Suite("Deploying: the files of docs/deploying.md", .serialized, .machineShare)
struct DeployingTests {
    static let deploy = ServerHarness.repositoryRoot + "/deploy"

    @Test func theDocShowsEachFileAsItIs() throws {
        let doc = try String(contentsOfFile: ServerHarness.repositoryRoot + "/docs/deploying.md", encoding: .utf8)
        for name in ["replyflow.service", "nginx.conf", "replyflow-backup.sh", "replyflow-backup.service", "replyflow-backup.timer"] {
            let file = try String(contentsOfFile: Self.deploy + "/" + name, encoding: .utf8)
            #expect(doc.contains(file), "docs/deploying.md does not show deploy/\(name) as it is: copy the file into the doc again")
        }
    }

    @Test func theSystemdUnitsPassSystemdAnalyzeVerify() async throws {
        let analyze = "/usr/bin/systemd-analyze"
        try #require(FileManager.default.isExecutableFile(atPath: analyze), "systemd-analyze is missing: apt-get install systemd (.ci/run does)")
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The units name where the binaries are installed; here they are in the build folder.
        var paths: [String] = []
        for name in ["replyflow.service", "replyflow-backup.service", "replyflow-backup.timer"] {
            let unit = try String(contentsOfFile: Self.deploy + "/" + name, encoding: .utf8)
                .replacingOccurrences(of: "/usr/local/bin/replyflow-backup", with: Self.deploy + "/replyflow-backup.sh")
                .replacingOccurrences(of: "/usr/local/bin/replyflow ", with: binary + " ")
            try unit.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
            paths.append(folder + "/" + name)
        }
        let (status, output) = try await Self.run(analyze, ["verify"] + paths)
        #expect(status == 0 && output.isEmpty, "systemd-analyze verify: \(output)")
    }

    @Test func theBackupScriptMakesACheckedCopyKeepsUploadsAndForgetsOldCopies() async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let harness = try ServerHarness()
        defer { harness.remove() }
        _ = try harness.build()  // creates the database
        let backups = harness.directory + "/backups", uploads = harness.configuration.uploadsDirectory
        try FileManager.default.createDirectory(atPath: uploads, withIntermediateDirectories: true)
        try Data("photo one".utf8).write(to: URL(fileURLWithPath: uploads + "/one.jpg"))
        let envFile = harness.directory + "/replyflow.env"
        try "DATABASE_PATH=\(harness.configuration.databasePath)\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: true)
        let old = backups + "/replyflow-20200101T000000Z.sqlite"
        try Data("old".utf8).write(to: URL(fileURLWithPath: old))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-20 * 86_400)], ofItemAtPath: old)
        let environment = ["REPLYFLOW": binary, "ENV_FILE": envFile, "BACKUP_DIR": backups, "UPLOADS_DIR": uploads, "KEEP_DAYS": "14"]

        let (status, output) = try await Self.run(Self.deploy + "/replyflow-backup.sh", [], environment: environment)
        #expect(status == 0, "replyflow-backup.sh: \(output)")
        let copies = try FileManager.default.contentsOfDirectory(atPath: backups).filter { $0.hasPrefix("replyflow-") }
        #expect(copies.count == 1 && copies.first != "replyflow-20200101T000000Z.sqlite", "copies: \(copies)")
        #expect(FileManager.default.contents(atPath: backups + "/uploads/one.jpg") == Data("photo one".utf8))
        let header = try #require(FileManager.default.contents(atPath: backups + "/" + (copies.first ?? ""))).prefix(16)
        #expect(String(decoding: header, as: UTF8.self) == "SQLite format 3\0", "the copy is not an SQLite database")
    }

    /// The nginx example of docs/deploying.md in front of the real server, on loopback ports,
    /// with a certificate made for the test; `python/proxy_story.py` plays the clients.
    @Test(.timeLimit(.minutes(5))) func theNginxExampleCarriesStreamsWebSocketsAndTheSecureCookie() async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let nginx = "/usr/sbin/nginx", openssl = "/usr/bin/openssl"
        try #require(FileManager.default.isExecutableFile(atPath: nginx), "nginx is missing: apt-get install nginx (.ci/run does)")
        try #require(FileManager.default.isExecutableFile(atPath: openssl), "openssl is missing: apt-get install openssl")
        let harness = try ServerHarness()
        defer { harness.remove() }
        let folder = harness.directory + "/nginx"
        try FileManager.default.createDirectory(atPath: folder + "/logs", withIntermediateDirectories: true)
        let (madeCertificate, opensslOutput) = try await Self.run(
            openssl,
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", folder + "/key.pem", "-out",
                folder + "/cert.pem",
            ])
        try #require(madeCertificate == 0, "openssl: \(opensslOutput)")

        let serverPort = try ServerProcess.freePort(), httpPort = try ServerProcess.freePort(), httpsPort = try ServerProcess.freePort()
        let apiKey = "proxy-story-key", adminPassword = "lead-password-1"
        var environment = ServerProcess.environment(harness, port: serverPort)
        environment["API_KEY"] = apiKey
        environment["TRUSTED_PROXIES"] = "127.0.0.1"
        let server = try ServerProcess(binary: binary, environment: environment, logPath: harness.directory + "/server.log")
        defer { server.kill() }
        try await server.waitForHealth()
        try InboxBrowserStoryTests.users(
            binary, ["add", "lead", "--role", "admin", "--password-stdin", "--db", harness.configuration.databasePath], input: adminPassword)

        // The example as it is, but for its ports and certificate.
        let site = try String(contentsOfFile: Self.deploy + "/nginx.conf", encoding: .utf8)
            .replacingOccurrences(of: "listen 80;", with: "listen 127.0.0.1:\(httpPort);")
            .replacingOccurrences(of: "listen 443 ssl;", with: "listen 127.0.0.1:\(httpsPort) ssl;")
            .replacingOccurrences(of: "server 127.0.0.1:5000;", with: "server 127.0.0.1:\(serverPort);")
            .replacingOccurrences(of: "/etc/letsencrypt/live/support.example.com/fullchain.pem", with: folder + "/cert.pem")
            .replacingOccurrences(of: "/etc/letsencrypt/live/support.example.com/privkey.pem", with: folder + "/key.pem")
        #expect(site.contains("127.0.0.1:\(httpsPort) ssl") && site.contains("127.0.0.1:\(serverPort)"), "deploy/nginx.conf changed its ports")
        try site.write(toFile: folder + "/replyflow.conf", atomically: true, encoding: .utf8)
        try """
        daemon off;
        master_process off;
        pid \(folder)/nginx.pid;
        error_log \(folder)/logs/error.log;
        events { worker_connections 64; }
        http {
            access_log off;
            client_body_temp_path \(folder)/body;
            proxy_temp_path \(folder)/proxy;
            fastcgi_temp_path \(folder)/fastcgi;
            uwsgi_temp_path \(folder)/uwsgi;
            scgi_temp_path \(folder)/scgi;
            include \(folder)/replyflow.conf;
        }
        """.write(toFile: folder + "/nginx.conf", atomically: true, encoding: .utf8)
        let proxy = try ChatClientProcess(executable: nginx, arguments: ["-p", folder, "-c", folder + "/nginx.conf", "-e", folder + "/logs/error.log"])
        defer { proxy.stop() }

        let story = try ChatClientProcess(script: "proxy_story.py", arguments: ["https://127.0.0.1:\(httpsPort)", apiKey, adminPassword])
        defer { story.stop() }
        do {
            _ = try await story.line("the end of the story", timeout: .seconds(60)) { $0 == "story: done" }
        } catch {
            let nginxLog = (try? String(contentsOfFile: folder + "/logs/error.log", encoding: .utf8)) ?? ""
            Issue.record("\(error)\nnginx's error log:\n\(nginxLog.suffix(2000))")
        }
    }

    static func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "replyflow-deploy-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs a program to its end: its exit status and everything it printed.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32, String) {
        try await offThePool { try runBlocking(executable, arguments, environment: environment) }
    }

    private static func runBlocking(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> (Int32, String) {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, printed)
    }
}
