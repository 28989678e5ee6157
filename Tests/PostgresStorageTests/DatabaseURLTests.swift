import Testing

@testable import PostgresStorage
import TestSupport

/// Every form `DATABASE_URL` takes, and every way it can be wrong: one line naming the
/// setting, and never the password.
@Suite("DatabaseURL", .machineShare)
struct DatabaseURLTests {
    private func failure(_ text: String, setting: String = "DATABASE_URL") -> String? {
        do {
            _ = try DatabaseURL.parse(text, setting: setting)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("postgres://USER:PASSWORD@HOST:PORT/DATABASE")
    func fullURL() throws {
        let url = try DatabaseURL.parse("postgres://rf:s3cret@db.internal:6543/replyflow")
        #expect(url == DatabaseURL(user: "rf", password: "s3cret", endpoint: .tcp(host: "db.internal", port: 6543), database: "replyflow", sslMode: .prefer))
    }

    @Test("postgresql:// too, the port defaults to 5432, no password is nil")
    func defaults() throws {
        let url = try DatabaseURL.parse("postgresql://rf@localhost/replyflow")
        #expect(url.endpoint == .tcp(host: "localhost", port: 5432))
        #expect(url.password == nil)
        #expect(try DatabaseURL.parse("POSTGRES://rf:@h/d").password == "")
    }

    @Test("user and password are percent-decoded; an unescaped @ / ? in the password still reads")
    func percentDecoding() throws {
        let url = try DatabaseURL.parse("postgres://r%20f:p%40ss%3Aw%2Fo%3Frd@h/d%2Dx")
        #expect(url.user == "r f")
        #expect(url.password == "p@ss:w/o?rd")
        #expect(url.database == "d-x")
        let raw = try DatabaseURL.parse("postgres://rf:p@ss/w?rd@h:5433/d?sslmode=disable")
        #expect(raw.password == "p@ss/w?rd")
        #expect(raw.endpoint == .tcp(host: "h", port: 5433))
        #expect(raw.sslMode == .disable)
    }

    @Test("sslmode disable, prefer, require")
    func sslModes() throws {
        for mode in DatabaseURL.SSLMode.allCases {
            #expect(try DatabaseURL.parse("postgres://rf@h/d?sslmode=\(mode.rawValue)").sslMode == mode)
        }
    }

    @Test("an IPv6 host in brackets")
    func ipv6() throws {
        let url = try DatabaseURL.parse("postgres://rf@[::1]:5433/d")
        #expect(url.endpoint == .tcp(host: "::1", port: 5433))
        #expect(url.place == "[::1]:5433")
    }

    @Test("?host=/folder is a Unix socket, the host part empty")
    func unixSocket() throws {
        let url = try DatabaseURL.parse("postgres://rf@/replyflow?host=/run/postgresql")
        #expect(url.endpoint == .unixSocket(directory: "/run/postgresql", port: 5432))
        #expect(url.unixSocketPath == "/run/postgresql/.s.PGSQL.5432")
        let withPort = try DatabaseURL.parse("postgres://rf:pw@:6000/replyflow?host=%2Ftmp%2Fpg&sslmode=disable")
        #expect(withPort.unixSocketPath == "/tmp/pg/.s.PGSQL.6000")
    }

    @Test("description redacts the password")
    func redacted() throws {
        let url = try DatabaseURL.parse("postgres://rf:hunter2-secret@h:5432/d?sslmode=require")
        #expect(url.description == "postgres://rf:[redacted]@h:5432/d?sslmode=require")
        #expect(!"\(url)".contains("hunter2"))
        #expect(try DatabaseURL.parse("postgres://rf@/d?host=/s").description == "postgres://rf@/d?host=/s")
    }

    @Test(
        "each mistake is one line naming the setting",
        arguments: [
            ("db.internal:5432/replyflow", "DATABASE_URL is not a URL"),
            ("", "DATABASE_URL is not a URL"),
            ("mysql://rf:pw@h/d", "DATABASE_URL has the scheme mysql://"),
            ("postgres://rf:pw@h", "DATABASE_URL names no database"),
            ("postgres://rf:pw@h/", "DATABASE_URL names no database"),
            ("postgres://rf:pw@h:54x2/d", "DATABASE_URL has a port that is not a number"),
            ("postgres://rf:pw@h:0/d", "DATABASE_URL has a port that is not a number"),
            ("postgres://rf:pw@h:70000/d", "DATABASE_URL has a port that is not a number"),
            ("postgres://rf:pw@h/d?sslmode=verify-full", "DATABASE_URL has sslmode=verify-full; use disable, prefer or require"),
            ("postgres://rf:pw@h/d?sslmode=", "DATABASE_URL has sslmode=;"),
            ("postgres://rf:pw@h/d?application_name=x", "DATABASE_URL has the parameter \"application_name\""),
            ("postgres://rf:pw@/d", "DATABASE_URL names no host"),
            ("postgres://:pw@h/d", "DATABASE_URL names no user"),
            ("postgres://rf:pw@h/d?host=relative", "DATABASE_URL has host=relative"),
            ("postgres://rf:pw@h/d?host=/run/postgresql", "DATABASE_URL names both the host h and the socket folder"),
            ("postgres://rf:pw%zz@h/d", "DATABASE_URL has a broken %-escape in its password"),
            ("postgres://rf:pw@[::1/d", "DATABASE_URL has an IPv6 host without its closing ]"),
        ])
    func mistakes(text: String, expected: String) {
        let message = failure(text)
        #expect(message?.hasPrefix(expected) == true, "\(text) -> \(message ?? "accepted")")
        #expect(message?.contains("\n") == false)
        #expect(message?.contains("pw") == false, "the password leaked: \(message ?? "")")
    }

    @Test("a password is never repeated, even when the URL is too broken to tell it apart")
    func passwordNeverRepeated() {
        // "@host" forgotten: what follows the colon looks like a port.
        for text in ["postgres://rf:Sup3rSecret/replyflow", "rf:Sup3rSecret@h/d", "http://rf:Sup3rSecret@h/d", "postgres://rf:Sup3rSecret@h/d?sslmode=on"] {
            let message = failure(text) ?? ""
            #expect(!message.isEmpty, "\(text) was accepted")
            #expect(!message.contains("Sup3rSecret"), "\(message)")
        }
    }

    @Test("the setting's name is the caller's (--to for migrate-to-postgres)")
    func settingName() {
        #expect(failure("postgres://rf@h", setting: "--to")?.hasPrefix("--to names no database") == true)
    }
}
