#if canImport(Glibc)
import Glibc
#endif

/// Directory-level operations: staging directories for tools that write many files, removing a
/// tree, and relative paths.
extension FileSystem {
    /// The temporary directory that stands for `directory` while a staged step runs (see
    /// `Step.stagingDirectory`). Like a temporary sibling it is hidden, lies on the same file
    /// system as its products, and carries this process's pid, so the stale-temporary sweep
    /// removes what a killed build left.
    public static func stagingDirectory(in directory: String) -> String {
        join(directory, ".\(stagingName).\(processID).\(temporarySuffix)")
    }

    package static let stagingName = "stage"

    /// `path` relative to `directory`, for a path inside it (both named the same way).
    public static func relative(_ path: String, to directory: String) -> String {
        if directory.isEmpty || directory == "." { return path }
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// Removes `path` and, when it is a directory, everything under it (symbolic links are
    /// removed, never followed). Returns whether nothing is left at `path`.
    @discardableResult
    public static func removeTree(_ path: String) -> Bool {
        var info = Glibc.stat()
        guard lstat(path, &info) == 0 else { return errno == ENOENT }
        if (info.st_mode & S_IFMT) != S_IFDIR { return unlink(path) == 0 }
        for name in list(path) ?? [] { removeTree(join(path, name)) }
        return rmdir(path) == 0
    }
}
