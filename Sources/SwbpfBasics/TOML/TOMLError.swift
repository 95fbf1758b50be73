/// Why a document is not valid TOML 1.0, and where: every error has a line and a column.
public struct TOMLError: Error, Equatable, Sendable, CustomStringConvertible {
    public let position: TOMLPosition
    /// One sentence, lower case, no position: the caller decides how to show where.
    public let message: String

    public init(_ message: String, at position: TOMLPosition) {
        self.message = message
        self.position = position
    }

    public var description: String { "\(position): \(message)" }
}
