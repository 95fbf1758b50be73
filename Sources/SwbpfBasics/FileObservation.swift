#if canImport(Glibc)
import Glibc
#endif
import Synchronization

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
        path.withCString { of($0, followingLinks: followingLinks) }
    }

    /// The same for a NUL-terminated path (read from a record, where no string is made).
    public static func of(_ path: UnsafePointer<CChar>, followingLinks: Bool) -> FileSignature? {
        var info = Glibc.stat()
        guard (followingLinks ? stat(path, &info) : lstat(path, &info)) == 0 else { return nil }
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
/// A missing path is recorded as missing, so that it appearing is a change, and nothing else is: a
/// sibling created next to it (another project beside this one) does not cost the next no-op. It
/// is left out only when its directory was listed before it was looked at, and changed more than
/// two seconds before: that listing's signature then changes when any entry is added.
public final class FileObserver: @unchecked Sendable {
    /// The observer of the running thread's decision, if one is recording. A task-local binds it to
    /// the thread (or task) that set it, so builds started in parallel (tests) never mix; the tasks
    /// the decision starts (tool questions) inherit it, hence the lock.
    @TaskLocal public static var current: FileObserver?

    private struct Record {
        var seen: Set<String> = []
        var listed: Set<String> = []
        var observed: [ObservedPath] = []
        var ranProcess = false
    }
    private let record = Mutex(Record())

    public init() {}

    public var observed: [ObservedPath] { record.withLock { $0.observed } }

    /// Whether the decision ran a program (a tool question): what it answered is not a file, so
    /// such a decision is never recorded (the next one reads the answer saved in the state).
    public var ranProcess: Bool { record.withLock { $0.ranProcess } }

    /// Records `path` (once: the first look is the one the decision is based on). A relative
    /// path is recorded from the working directory it was looked up in (joined as is, never
    /// normalized, so `..` after a symbolic link means what it meant), as the record is checked
    /// before swbpf enters the project directory.
    public func observe(_ path: String, followingLinks: Bool = true, listing: Bool = false) {
        let path = path.hasPrefix("/") ? path : FileSystem.currentDirectory() + "/" + path
        let key = followingLinks ? path : "\u{0}" + path
        record.withLock { record in
            guard record.seen.insert(key).inserted else { return }
            let signature = FileSignature.of(path, followingLinks: followingLinks)
            if listing, let signature, Self.isSettled(signature) { record.listed.insert(path) }
            if signature == nil, record.listed.contains(FileSystem.split(path).directory) { return }
            record.observed.append(ObservedPath(path: path, followsLinks: followingLinks, signature: signature))
        }
    }

    /// Whether a directory's mtime is far enough in the past to stand for its entries. A file made
    /// in the same tick of the file system's clock as the directory's last change leaves its mtime
    /// as it was (the kernel stamps times from a coarse clock, some file systems keep only
    /// seconds), so a directory changed in the last two seconds has its missing entries watched
    /// one by one instead (git's "racily clean" entries, for directories).
    static func isSettled(_ signature: FileSignature) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return signature.mtimeNanoseconds < Int64(now.tv_sec - 2) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// Records `path` with the observer of the running decision, if any.
    @inline(__always)
    public static func note(_ path: String, followingLinks: Bool = true) {
        current?.observe(path, followingLinks: followingLinks)
    }

    /// Records that the decision listed `directory` (its signature stands for its missing entries).
    @inline(__always)
    public static func noteListing(_ directory: String) {
        current?.observe(directory, listing: true)
    }

    /// Records that the decision ran a program.
    public static func noteProcess() {
        current?.record.withLock { $0.ranProcess = true }
    }
}
