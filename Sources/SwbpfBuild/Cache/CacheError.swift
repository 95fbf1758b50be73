import SwbpfBasics

/// What went wrong with the shared cache. None of these fails a build: the executor turns them
/// into notes and builds the step itself; `swbpf cache` and the settings report them as errors.
public enum CacheError: DiagnosticError, Equatable {
    case cannotWrite(path: String, reason: String)
    case remote(url: String, reason: String)
    case badSetting(name: String, value: String, expected: String)
    case noCacheDirectory
    /// The cache, or a directory in it, is not one swbpf may trust: another user could plant outputs there.
    case untrusted(path: String, reason: String)

    public var diagnostic: Diagnostic {
        switch self {
        case .cannotWrite(let path, let reason):
            return Diagnostic(.note, "cache: cannot write \(path): \(reason); building without storing there",
                              help: "check the permissions and free space of the cache directory, or set SWBPF_CACHE_DIR")
        case .remote(let url, let reason):
            return Diagnostic(.note, "remote cache \(url): \(reason); building locally")
        case .badSetting(let name, let value, let expected):
            return Diagnostic(.error, "\(name) is '\(value)', expected \(expected)")
        case .noCacheDirectory:
            return Diagnostic(.note, "cache: HOME, XDG_CACHE_HOME and SWBPF_CACHE_DIR are all unset, so there is no cache directory; building without the cache",
                              help: "set SWBPF_CACHE_DIR to a directory")
        case .untrusted(let path, let reason):
            // Builds show notes without help: the fix is in the message.
            return Diagnostic(.note, "cache: '\(path)' \(reason), so the cache is not used: swbpf uses a cache only if it and every "
                                  + "directory in it are real directories owned by you (or root) and writable by no one else (fix that, "
                                  + "or set SWBPF_CACHE_DIR to a directory of your own)")
        }
    }
}
