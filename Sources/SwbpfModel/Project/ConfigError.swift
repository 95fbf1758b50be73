import SwbpfBasics

/// A swbpf.toml that cannot be used: its syntax, keys and values, or the file itself.
public enum ConfigError: DiagnosticError, Equatable {
    case syntax(file: String, line: Int, column: Int, message: String)
    case unknownKey(file: String, line: Int, key: String, known: [String])
    case wrongType(file: String, line: Int, key: String, expected: String)
    case invalidValue(file: String, line: Int, column: Int? = nil, key: String, message: String)
    case notAFile(path: String, kind: String)
    case tooLarge(path: String, size: Int64, limit: Int)
    /// An ARCH (knob, --arch or swbpf.toml arch) that names no target swbpf knows.
    case unknownArch(value: String, origin: String, accepted: String)

    public var diagnostic: Diagnostic {
        switch self {
        case .syntax(let file, let line, let column, let message):
            return Diagnostic(.error, message, at: .init(file: file, line: line, column: column),
                              help: "fix the TOML syntax at that position")
        case .unknownKey(let file, let line, let key, let known):
            return Diagnostic(.error, "unknown key '\(key)'", at: .init(file: file, line: line),
                              help: "the keys allowed here are: \(known.joined(separator: ", "))")
        case .wrongType(let file, let line, let key, let expected):
            return Diagnostic(.error, "key '\(key)' must be \(expected)", at: .init(file: file, line: line),
                              help: "for example: \(Self.example(for: expected, key: key))")
        case .invalidValue(let file, let line, let column, let key, let message):
            return Diagnostic(.error, "key '\(key)': \(message)", at: .init(file: file, line: line, column: column))
        case .notAFile(let path, let kind):
            return Diagnostic(.error, "'\(path)' is \(kind), not a regular file, so swbpf cannot read its settings from it",
                              help: "make it a regular file (a symbolic link to one is fine), or remove it to use the defaults")
        case .tooLarge(let path, let size, let limit):
            return Diagnostic(.error, "'\(path)' is \(size) bytes, more than the \(limit / 1024 / 1024) MiB a swbpf.toml may have",
                              help: "a project's settings fit in a few lines: check that this is the right file")
        case .unknownArch(let value, let origin, let accepted):
            return Diagnostic(.error, "'\(value)' (\(origin)) is not an architecture swbpf can build for",
                              help: "use one of: \(accepted) (the kernel's name or Debian's), or leave it out to build for this machine")
        }
    }

    private static func example(for expected: String, key: String) -> String {
        if expected.contains("list") { return "\(key) = [\"...\"]" }
        if expected.contains("table") { return "[\(key)]" }
        return "\(key) = \"...\""
    }
}
