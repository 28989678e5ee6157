import Foundation
import Logging
import PostgresStorage
import Testing

@testable import Server
import TestSupport

/// `DATABASE_URL` as `replyflow serve` reads it: parsed at start, one line per mistake,
/// the password kept out of every line, and an honest refusal to serve on it yet.
@Suite("DATABASE_URL setting", .machineShare)
struct DatabaseURLSettingTests {
    func configurationError(_ environment: [String: String], dotEnv: [String: String] = [:]) -> String? {
        do {
            _ = try ServerConfiguration.load(environment: environment, dotEnv: dotEnv)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func aValidURLIsRead() throws {
        let configuration = try ServerConfiguration.load(environment: [:], dotEnv: ["DATABASE_URL": "postgres://rf:pw-123456@db:5433/replyflow"])
        #expect(configuration.databaseURL == DatabaseURL(user: "rf", password: "pw-123456", endpoint: .tcp(host: "db", port: 5433), database: "replyflow"))
        #expect(try ServerConfiguration.load(environment: [:]).databaseURL == nil)
    }

    @Test func aBadURLIsOneLineWithoutThePassword() {
        let error = configurationError(["DATABASE_URL": "postgres://rf:Secret-Pw-1@db:port/replyflow"])
        #expect(error == "DATABASE_URL has a port that is not a number from 1 to 65535: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        #expect(configurationError(["DATABASE_URL": "mysql://rf:Secret-Pw-1@db/replyflow"])?.hasPrefix("DATABASE_URL has the scheme mysql://") == true)
    }

    @Test func bothDatabaseSettingsAreRefused() {
        #expect(
            configurationError(["DATABASE_URL": "postgres://rf@db/replyflow"], dotEnv: ["DATABASE_PATH": "data/replyflow.sqlite"])
                == "DATABASE_URL and DATABASE_PATH are both set: keep DATABASE_URL for PostgreSQL or DATABASE_PATH for SQLite")
    }

    @Test func theLogRedactorKnowsThePassword() throws {
        // A short password with no URL around it is still taken out by value.
        let configuration = try ServerConfiguration.load(environment: ["DATABASE_URL": "postgres://rf:Xq7-pw-zz@db/replyflow"])
        let redactor = SecretRedactor(configuration: configuration)
        #expect(redactor.redact("auth failed with Xq7-pw-zz") == "auth failed with [redacted]")
        #expect(!redactor.redact("postgres://rf:anything@db/replyflow").contains("anything"))
    }
}
