import SwbpfBasics

/// The file operations the executor and the dirty check perform, on paths as steps name them
/// (relative to the project root, or absolute). The executor is handed one, so its scheduling,
/// up-to-date decisions and failure paths can be tested against an in-memory file system.
public protocol BuildFileSystem: Sendable {
    /// The project root (absolute, normalised): the working directory of every step.
    var root: String { get }
    /// Whether the project root is still there: a watched project's directory can be moved away
    /// while a step runs, and the step's outputs then land nowhere swbpf looks.
    var rootIsPresent: Bool { get }
    /// The absolute path of `path`, for a child process or the build state.
    func absolute(_ path: String) -> String
    func stat(_ path: String) -> FileStat?
    /// The content digest of the file, or nil when it cannot be read.
    func digest(_ path: String) -> Digest?
    func read(_ path: String) -> [UInt8]?
    /// Creates `path` (a step's temporary) holding `bytes`, executable or not: how an output
    /// restored from the cache is written before it is committed like a tool's.
    func write(_ path: String, _ bytes: [UInt8], executable: Bool) throws
    /// Moves a finished temporary into place; the error says why it could not.
    func rename(_ from: String, to: String) throws
    func remove(_ path: String)
    /// The names in a directory with whether each is a directory, sorted; nil when it cannot be read.
    func entries(_ directory: String) -> [(name: String, isDirectory: Bool)]?
    /// Creates a directory and its parents (for a staged step's stage and its products' places).
    func createDirectory(_ path: String) throws
    /// Removes a file, or a directory with everything in it (a staged step's stage).
    func removeTree(_ path: String)
    /// Removes temporaries that builds which are no longer running left in `directory`.
    func removeStaleTemporaries(in directory: String)
}

/// The real file system, with relative paths taken from the project root (swbpf never changes
/// its working directory).
public struct ProjectFileSystem: BuildFileSystem {
    public let root: String

    public init(root: String) { self.root = root }

    public var rootIsPresent: Bool { FileSystem.isDirectory(root) }

    public func absolute(_ path: String) -> String { FileSystem.join(root, path) }
    public func stat(_ path: String) -> FileStat? { FileSystem.stat(absolute(path)) }
    public func digest(_ path: String) -> Digest? { ContentHash.of(file: absolute(path)) }
    public func read(_ path: String) -> [UInt8]? { FileSystem.read(absolute(path)) }
    public func write(_ path: String, _ bytes: [UInt8], executable: Bool) throws {
        let file = absolute(path)
        // A temporary left by a killed build of this pid would make the exclusive create fail.
        FileSystem.remove(file)
        try LocalCacheStore.writeWhole(file, bytes, mode: executable ? 0o755 : 0o644)
    }
    public func rename(_ from: String, to: String) throws { try FileSystem.rename(absolute(from), to: absolute(to)) }
    public func remove(_ path: String) { FileSystem.remove(absolute(path)) }
    public func entries(_ directory: String) -> [(name: String, isDirectory: Bool)]? { FileSystem.entries(absolute(directory)) }
    public func createDirectory(_ path: String) throws { try FileSystem.createDirectory(absolute(path)) }
    public func removeTree(_ path: String) { FileSystem.removeTree(absolute(path)) }
    public func removeStaleTemporaries(in directory: String) { FileSystem.removeStaleTemporaries(in: absolute(directory)) }
}
