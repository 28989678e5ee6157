import Storage

/// What makes a user name and a password acceptable, shared by `replyflow users` and the
/// users page so both say the same thing.
public enum StaffRules {
    public static let minimumPasswordLength = 10
    /// bcrypt reads at most 72 bytes; a longer password would be cut without a word.
    public static let maximumPasswordBytes = 72
    public static let maximumUsernameLength = 64

    /// Why `username` is not acceptable, or nil: 1 to 64 letters, digits, `.`, `_` and `-`.
    public static func usernameProblem(_ username: String) -> String? {
        if username.isEmpty { return "the user name is empty" }
        if username.count > maximumUsernameLength { return "the user name is longer than \(maximumUsernameLength) characters" }
        let allowed = username.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "." || scalar == "_" || scalar == "-")
        }
        if !allowed { return "the user name may hold only letters a-z, digits and . _ - (got \"\(username)\")" }
        return nil
    }

    /// Why `password` is not acceptable, or nil.
    public static func passwordProblem(_ password: String) -> String? {
        if password.count < minimumPasswordLength { return "the password must have at least \(minimumPasswordLength) characters" }
        if password.utf8.count > maximumPasswordBytes { return "the password must have at most \(maximumPasswordBytes) bytes (bcrypt reads no more)" }
        return nil
    }

    /// The role named `name` (any case), or nil.
    public static func role(named name: String) -> StaffRole? {
        StaffRole(rawValue: name.lowercased())
    }

    public static let unknownRoleHint = "use agent, editor or admin"
}
