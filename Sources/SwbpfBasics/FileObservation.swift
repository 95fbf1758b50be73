#if canImport(Glibc)
import Glibc
#endif

/// What identifies one version of a path: the stat data that changes whenever the file, its
/// permissions or its owner change (ctime moves with every chmod, chown, write and rename), or its
/// absence.
public struct FileSignature: Equatable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var mtimeNanoseconds: Int64
    public var ctimeNanoseconds: Int64
    public var mode: UInt32

    public init(device: UInt64, inode: UInt64, size: Int64, mtimeNanoseconds: Int64, ctimeNanoseconds: Int64, mode: UInt32) {
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
        self.ctimeNanoseconds = ctimeNanoseconds
        self.mode = mode
    }

    /// The path's signature now (through symbolic links unless `followingLinks` is false), nil
    /// when nothing is there.
    public static func of(_ path: String, followingLinks: Bool = true) -> FileSignature? {
        var info = Glibc.stat()
        guard (followingLinks ? systemStat(path, &info) : lstat(path, &info)) == 0 else { return nil }
        return FileSignature(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                             mtimeNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                             ctimeNanoseconds: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec),
                             mode: UInt32(info.st_mode))
    }
}

/// One path a build looked at, and what was there when it looked.
public struct ObservedPath: Equatable, Sendable {
    public var path: String
    /// Whether the path itself was looked at (lstat) rather than what it leads to.
    public var followsLinks: Bool
    /// Nil: nothing was there.
    public var signature: FileSignature?

    public init(path: String, followsLinks: Bool, signature: FileSignature?) {
        self.path = path
        self.followsLinks = followsLinks
        self.signature = signature
    }

    /// Whether the path still holds what was observed.
    public var isUnchanged: Bool { FileSignature.of(path, followingLinks: followsLinks) == signature }
}

/// Records every path `FileSystem` looks at while it is `current`, each with its signature taken
/// before the look: a file that changes after it was read then no longer matches. The no-op record
/// is made of these, so a later build can tell, by stat alone, that nothing the decision read changed.
///
/// A missing path is recorded as its parent directory when that exists: any entry added to a
/// directory moves its mtime, so one stat of an include directory stands for every header that
/// must stay absent from it.
public final class FileObserver: @unchecked Sendable {
    /// The observer of the running thread's decision, if one is recording. A task-local binds it to
    /// the thread (or task) that set it, so builds started in parallel (tests) never mix.
    @TaskLocal public static var current: FileObserver?

    private var seen: [String: Int] = [:]
    public private(set) var observed: [ObservedPath] = []

    public init() {}

    /// Records `path` (once: the first look is the one the decision is based on).
    public func observe(_ path: String, followingLinks: Bool = true) {
        let key = followingLinks ? path : "\u{0}" + path
        guard seen[key] == nil else { return }
        seen[key] = observed.count
        let signature = FileSignature.of(path, followingLinks: followingLinks)
        let parent = FileSystem.split(path).directory
        if signature == nil, !parent.isEmpty, parent != path {
            // Nothing can appear here without the parent (or, if it is missing too, an ancestor) changing.
            return observe(parent)
        }
        observed.append(ObservedPath(path: path, followsLinks: followingLinks, signature: signature))
    }

    /// Records `path` with the observer of the running decision, if any.
    @inline(__always)
    public static func note(_ path: String, followingLinks: Bool = true) {
        current?.observe(path, followingLinks: followingLinks)
    }
}
