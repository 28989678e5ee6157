import Foundation
import JWTKit

/// A Google service-account key file (the JSON downloaded from the Firebase console).
public struct ServiceAccount: Decodable, Sendable, Equatable {
    /// Always `service_account` for these files.
    public var type: String
    /// The Firebase / Google Cloud project the account belongs to.
    public var projectID: String
    /// The RSA private key in PEM form (`-----BEGIN PRIVATE KEY-----…`).
    public var privateKey: String
    /// The account's e-mail address, used as the JWT issuer.
    public var clientEmail: String
    /// The OAuth2 token endpoint to exchange the signed JWT at (`https://oauth2.googleapis.com/token`).
    public var tokenURI: String

    enum CodingKeys: String, CodingKey {
        case type
        case projectID = "project_id"
        case privateKey = "private_key"
        case clientEmail = "client_email"
        case tokenURI = "token_uri"
    }

    /// Creates a service account from its parts.
    public init(
        type: String = "service_account", projectID: String, privateKey: String, clientEmail: String,
        tokenURI: String = "https://oauth2.googleapis.com/token"
    ) {
        self.type = type
        self.projectID = projectID
        self.privateKey = privateKey
        self.clientEmail = clientEmail
        self.tokenURI = tokenURI
    }

    /// Reads and checks a service-account file.
    ///
    /// Throws a ``ServiceAccountError`` whose description is one line naming the file and the problem:
    /// missing file, not JSON, missing or empty field, wrong type, or a private key that is not an RSA PEM.
    public static func load(path: String) throws -> ServiceAccount {
        let url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw ServiceAccountError(path: path, problem: .fileMissing)
        }
        // Reading a folder fails with a Foundation error code that names neither.
        guard !isFolder.boolValue else { throw ServiceAccountError(path: path, problem: .isFolder) }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ServiceAccountError(path: path, problem: .unreadable(String(describing: error)))
        }
        return try parse(data, path: path)
    }

    /// Parses and checks the contents of a service-account file. `path` is only used in error messages.
    public static func parse(_ data: Data, path: String = "<service account>") throws -> ServiceAccount {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ServiceAccountError(path: path, problem: .notJSON)
        }
        guard let dictionary = object as? [String: Any] else {
            throw ServiceAccountError(path: path, problem: .notJSON)
        }
        for field in ["type", "project_id", "private_key", "client_email", "token_uri"] {
            guard let value = dictionary[field] else {
                throw ServiceAccountError(path: path, problem: .missingField(field))
            }
            guard let string = value as? String, !string.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ServiceAccountError(path: path, problem: .invalidField(field, "must be a non-empty string"))
            }
        }
        let account: ServiceAccount
        do {
            account = try JSONDecoder().decode(ServiceAccount.self, from: data)
        } catch {
            throw ServiceAccountError(path: path, problem: .notJSON)
        }
        guard account.type == "service_account" else {
            throw ServiceAccountError(path: path, problem: .invalidField("type", "is \"\(account.type)\", expected \"service_account\""))
        }
        guard let tokenURL = URL(string: account.tokenURI), let scheme = tokenURL.scheme?.lowercased(),
            scheme == "https" || scheme == "http", tokenURL.host != nil
        else {
            throw ServiceAccountError(path: path, problem: .invalidField("token_uri", "is not an http(s) URL"))
        }
        do {
            _ = try account.signingKey()
        } catch {
            throw ServiceAccountError(path: path, problem: .invalidPrivateKey(String(describing: error)))
        }
        return account
    }

    /// The private key parsed for RS256 signing.
    func signingKey() throws -> Insecure.RSA.PrivateKey {
        try Insecure.RSA.PrivateKey(pem: privateKey)
    }
}

/// Why a service-account file could not be used. `description` is a single line.
public struct ServiceAccountError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The specific problem.
    public enum Problem: Sendable, Equatable {
        /// No file at the path.
        case fileMissing
        /// The path is a folder, not the key file.
        case isFolder
        /// The file exists but could not be read.
        case unreadable(String)
        /// The file is not a JSON object.
        case notJSON
        /// A required field is absent.
        case missingField(String)
        /// A field is present but unusable.
        case invalidField(String, String)
        /// `private_key` is not an RSA private key in PEM form (or is shorter than 2048 bits).
        case invalidPrivateKey(String)
    }

    /// The file the problem was found in.
    public var path: String
    /// What is wrong.
    public var problem: Problem

    /// Creates an error.
    public init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public var description: String {
        let detail: String
        switch problem {
        case .fileMissing: detail = "file not found"
        case .isFolder: detail = "is a folder, not the service account's JSON key file"
        case .unreadable(let why): detail = "cannot read file: \(why)"
        case .notJSON: detail = "not a JSON object"
        case .missingField(let field): detail = "missing field \"\(field)\""
        case .invalidField(let field, let why): detail = "field \"\(field)\" \(why)"
        case .invalidPrivateKey(let why): detail = "private_key is not a valid RSA private key in PEM form (\(why))"
        }
        return "service account \(path): \(detail)".replacingOccurrences(of: "\n", with: " ")
    }
}
