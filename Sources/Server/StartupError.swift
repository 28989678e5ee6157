/// A configuration problem that stops `replyflow serve` before it listens: printed as
/// one line (or one line per flow error), never as a stack trace.
public struct StartupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
