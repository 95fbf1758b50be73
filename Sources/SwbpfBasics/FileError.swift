/// A file or directory that cannot be read, written or created.
public enum FileError: DiagnosticError, Equatable {
    case cannotCreateDirectory(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case cannotRead(path: String, reason: String)

    public var diagnostic: Diagnostic {
        switch self {
        case .cannotCreateDirectory(let path, let reason):
            return Diagnostic(.error, "cannot create directory '\(path)': \(reason)", help: "check the permissions of its parent directory")
        case .cannotWrite(let path, let reason):
            return Diagnostic(.error, "cannot write '\(path)': \(reason)")
        case .cannotRead(let path, let reason):
            return Diagnostic(.error, "cannot read '\(path)': \(reason)", help: "check the file's permissions")
        }
    }
}
