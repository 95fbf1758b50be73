/// A message for the user: what is wrong, where, and how to fix it. Errors are converted to these
/// and travel to the reporters as events, so every output mode (the console, JSON) shows them in
/// its own form.
public struct Diagnostic: Sendable, Equatable, Codable {
    public enum Severity: String, Sendable, Codable {
        case error, warning, note
    }

    /// A place in a file: a config key, a source line.
    public struct Location: Sendable, Equatable, Codable {
        public var file: String
        public var line: Int?
        public var column: Int?

        public init(file: String, line: Int? = nil, column: Int? = nil) {
            self.file = file
            self.line = line
            self.column = column
        }

        /// `file:line:column`, as compilers print it.
        public var rendered: String {
            var text = file
            if let line { text += ":\(line)" }
            if let line = line.flatMap({ _ in column }) { text += ":\(line)" }
            return text
        }
    }

    public var severity: Severity
    public var message: String
    public var location: Location?
    /// Further facts, each shown on a `note:` line.
    public var notes: [String]
    /// How to fix it, shown on a `help:` line.
    public var help: String?

    public init(_ severity: Severity, _ message: String, at location: Location? = nil, notes: [String] = [], help: String? = nil) {
        self.severity = severity
        self.message = message
        self.location = location
        self.notes = notes
        self.help = help
    }

    /// The diagnostic of any error: its own where it has one.
    public init(of error: Error) {
        self = (error as? DiagnosticError)?.diagnostic ?? Diagnostic(.error, "\(error)")
    }

    /// The compiler-style text: `error: FILE:LINE:COLUMN: message`, then `note:` and `help:` lines.
    public var rendered: String {
        var lines = ["\(severity.rawValue): " + (location.map { $0.rendered + ": " } ?? "") + message]
        lines += notes.map { "note: " + $0 }
        if let help { lines.append("help: " + help) }
        return lines.joined(separator: "\n")
    }
}

/// An error that knows how to describe itself to the user. Each layer has its own error type; all
/// of them conform, so the driver reports any of them the same way.
public protocol DiagnosticError: Error, CustomStringConvertible {
    var diagnostic: Diagnostic { get }
}

extension DiagnosticError {
    public var description: String { diagnostic.rendered }
}
