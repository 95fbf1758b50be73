import SwbpfBasics

/// What keeps a build from writing its outputs: the output directory, the lock, a file that is not swbpf's.
public enum OutputError: DiagnosticError, Equatable {
    case outputDirectoryNotWritable(path: String, reason: String)
    case lockTimeout(path: String, seconds: Int, holder: String)
    /// A file or directory swbpf creates itself is something else (a planted symbolic link).
    case notSwbpfsOwn(path: String, problem: String)
    /// A product would replace a file that swbpf did not make.
    case wouldOverwriteUserFile(path: String, key: String)

    public var diagnostic: Diagnostic {
        switch self {
        case .outputDirectoryNotWritable(let path, let reason):
            return Diagnostic(.error, "cannot write to output directory '\(path)': \(reason)",
                              help: "fix its permissions, or choose another one with 'output = \"DIR\"' in swbpf.toml")
        case .lockTimeout(let path, let seconds, let holder):
            return Diagnostic(.error, "another swbpf build (\(holder)) has held '\(path)' for \(seconds) s",
                              help: "wait for it to finish, or stop it; raise the wait with --lock-timeout SECONDS")
        case .notSwbpfsOwn(let path, let problem):
            return Diagnostic(.error, "'\(path)' \(problem); swbpf creates it itself and never writes through a link or into a file it did not make",
                              help: "remove it ('rm \(Shell.quote(path))') and run swbpf again")
        case .wouldOverwriteUserFile(let path, let key):
            return Diagnostic(.error, "'\(path)' exists and swbpf did not make it: building would overwrite it",
                              help: "move or remove it if it is not yours to keep, or set '\(key) = \"DIR\"' in swbpf.toml to build elsewhere")
        }
    }
}
