import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The stat fields swbpf compares to decide whether a file may have changed.
public struct FileStat: Equatable, Sendable {
    public var size: Int64
    public var mtimeNanoseconds: Int64
    public var inode: UInt64
    public var isDirectory: Bool
    public var isExecutable: Bool

    public init(size: Int64, mtimeNanoseconds: Int64, inode: UInt64, isDirectory: Bool = false, isExecutable: Bool = false) {
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
        self.inode = inode
        self.isDirectory = isDirectory
        self.isExecutable = isExecutable
    }

    /// Only what identifies a file's version: size, mtime and inode.
    public func sameVersion(as other: FileStat) -> Bool {
        size == other.size && mtimeNanoseconds == other.mtimeNanoseconds && inode == other.inode
    }
}

/// Thin, fast wrappers over the system calls swbpf needs. Paths are plain strings: relative ones are
/// relative to the process's working directory, which swbpf sets to the project directory.
public enum FileSystem {
    public static func stat(_ path: String) -> FileStat? {
        FileObserver.note(path)
        var info = Glibc.stat()
        guard systemStat(path, &info) == 0 else { return nil }
        return FileStat(
            size: Int64(info.st_size),
            mtimeNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            inode: UInt64(info.st_ino),
            isDirectory: (info.st_mode & S_IFMT) == S_IFDIR,
            isExecutable: (info.st_mode & S_IFMT) == S_IFREG && (info.st_mode & 0o111) != 0
        )
    }

    public static func exists(_ path: String) -> Bool {
        FileObserver.note(path)
        return access(path, F_OK) == 0
    }

    /// What the file at `path` (through a symbolic link) is when it exists and is neither a regular
    /// file nor a directory ("a FIFO", ...); nil otherwise.
    public static func irregularKind(_ path: String) -> String? {
        FileObserver.note(path)
        var info = Glibc.stat()
        guard systemStat(path, &info) == 0 else { return nil }
        let type = info.st_mode & S_IFMT
        return type == S_IFREG || type == S_IFDIR ? nil : kind(of: info.st_mode)
    }

    public static func isDirectory(_ path: String) -> Bool { stat(path)?.isDirectory ?? false }

    public static func isExecutableFile(_ path: String) -> Bool { stat(path)?.isExecutable ?? false }

    public static func isWritableDirectory(_ path: String) -> Bool {
        FileObserver.note(path)
        return access(path, W_OK | X_OK) == 0
    }

    /// The names in a directory, without `.` and `..`, sorted so every run sees the same order.
    public static func list(_ directory: String) -> [String]? {
        entries(directory)?.map(\.name)
    }

    /// The names in a directory with whether each is a directory, from readdir's d_type where the
    /// file system gives it (no stat per entry), sorted by name.
    public static func entries(_ directory: String) -> [(name: String, isDirectory: Bool)]? {
        FileObserver.noteListing(directory)
        guard let dir = opendir(directory) else { return nil }
        defer { closedir(dir) }
        var result: [(name: String, isDirectory: Bool)] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            let type = entry.pointee.d_type
            // Symbolic links and unknown types are followed with stat, as the build will follow them.
            let isDirectory = type == UInt8(DT_DIR) || ((type == UInt8(DT_UNKNOWN) || type == UInt8(DT_LNK))
                && Self.isDirectory(join(directory, name)))
            result.append((name, isDirectory))
        }
        return result.sorted { $0.name < $1.name }
    }

    /// The most `read` returns: far above any source, header, object or binary a build handles.
    public static let readLimit = 1 << 30

    /// The bytes of the regular file at `path` (a symbolic link to one is followed), nil when it is
    /// missing, unreadable, not a regular file (a FIFO would block the open until a writer came)
    /// or larger than `limit`.
    public static func read(_ path: String, limit: Int = readLimit) -> [UInt8]? {
        if case .contents(let bytes) = readRegularFile(path, limit: limit, followingLinks: true) { return bytes }
        return nil
    }

    /// The names in the open directory `fd` (left open, read from its start), without `.` and `..`.
    package static func names(in fd: Int32) -> [String]? {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return nil
        }
        defer { closedir(dir) }
        // The copy shares the original's offset: start from the top whatever read it before.
        rewinddir(dir)
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func readText(_ path: String) -> String? {
        read(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The bytes of a regular file of at most `limit` bytes, read without following a symbolic link
    /// (unless `followingLinks`) and without blocking on a FIFO; anything else is refused with the
    /// reason, in words. With `directory`, `path` is relative to that open directory.
    public static func readRegularFile(
        _ path: String, in directory: Int32 = AT_FDCWD, limit: Int, followingLinks: Bool = false
    ) -> BoundedRead {
        if directory == AT_FDCWD { FileObserver.note(path, followingLinks: followingLinks) }
        let fd = openat(directory, path, O_RDONLY | (followingLinks ? 0 : O_NOFOLLOW) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            switch errno {
            case ENOENT: return .missing
            case ELOOP: return .refused("it is a symbolic link" + (linkTarget(path, in: directory).map { " to '\($0)'" } ?? ""))
            default: return .refused(lastError())
            }
        }
        defer { close(fd) }
        var info = Glibc.stat()
        guard fstat(fd, &info) == 0 else { return .refused(lastError()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .refused("it is \(kind(of: info.st_mode)), not a regular file") }
        guard info.st_size <= limit else { return .refused("it is \(info.st_size) bytes, more than the \(limit) bytes allowed") }
        // Sized from fstat, but bounded by `limit` even if the file grows while it is read.
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var length = 0
        while true {
            if length == bytes.count {
                guard bytes.count <= limit else { return .refused("it grew past \(limit) bytes while it was read") }
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, limit + 1 - bytes.count)))
            }
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + length, $0.count - length) }
            if n < 0 { if errno == EINTR { continue }; return .refused(lastError()) }
            if n == 0 { break }
            length += n
        }
        bytes.removeLast(bytes.count - length)
        return .contents(bytes)
    }

    public enum BoundedRead: Equatable {
        case missing
        case contents([UInt8])
        /// Why the file was not read, as a clause: "it is a FIFO, not a regular file".
        case refused(String)
    }

    /// "a directory", "a FIFO", ...: what kind of file a mode says.
    public static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFLNK: return "a symbolic link"
        case S_IFREG: return "a regular file"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "a special file"
        }
    }

    /// What the symbolic link at `path` (relative to `directory` when given) points to, or nil
    /// when it is not one.
    public static func linkTarget(_ path: String, in directory: Int32 = AT_FDCWD) -> String? {
        if directory == AT_FDCWD { FileObserver.note(path, followingLinks: false) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(directory, path, &buffer, buffer.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `path` itself is a symbolic link (lstat: the link is not followed).
    public static func isSymbolicLink(_ path: String) -> Bool {
        FileObserver.note(path, followingLinks: false)
        var info = Glibc.stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// Creates `path` for writing, only if nothing at all is there: an existing file is never
    /// truncated and a symbolic link (even a dangling one) is never followed. Returns the
    /// descriptor (close-on-exec), which the caller closes.
    public static func createExclusively(_ path: String, mode: mode_t = 0o644) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError.cannotWrite(path: path, reason: lastError()) }
        return fd
    }

    /// Writes all of `bytes` to `fd`. An error, or a write that makes no progress (a full disk),
    /// throws with `path` and the system's reason.
    public static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw FileError.cannotWrite(path: path, reason: n == 0 ? String(cString: strerror(ENOSPC)) : lastError())
            }
            offset += n
        }
    }

    /// Writes a whole file through a temporary sibling and a rename, so readers (and a later build
    /// after a crash) see either the old file or the new one, never a half-written one. The
    /// temporary is created exclusively (whatever was left or planted at its name is unlinked
    /// first, never followed) and synced before the rename; the rename replaces `path` itself,
    /// so a symbolic link there is replaced, not written through.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws {
        let (directory, base) = split(path)
        let temporary = temporarySibling(of: path)
        removeStaleTemporaries(in: directory, base: base)
        let fd: Int32
        do { fd = try createExclusively(temporary) } catch FileError.cannotWrite(_, let reason) {
            throw FileError.cannotWrite(path: path, reason: "cannot create its temporary \(temporary): \(reason)")
        }
        do {
            try writeAll(bytes, to: fd, path: path)
            guard fsync(fd) == 0 else { throw FileError.cannotWrite(path: path, reason: lastError()) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        // close reports late write errors on some file systems (NFS).
        guard close(fd) == 0 else {
            let reason = lastError()
            unlink(temporary)
            throw FileError.cannotWrite(path: path, reason: reason)
        }
        guard Glibc.rename(temporary, path) == 0 else {
            let reason = lastError()
            unlink(temporary)
            throw FileError.cannotWrite(path: path, reason: reason)
        }
    }

    /// The system's message for the last error.
    package static func lastError() -> String { String(cString: strerror(errno)) }

    /// The temporary name an output is produced under before it is renamed into place. It sits in
    /// the same directory (a rename never crosses file systems), is hidden, and carries this
    /// process's pid: a tool orphaned by a killed build can never write into the next build's file.
    public static func temporarySibling(of path: String) -> String {
        let (directory, base) = split(path)
        return join(directory, ".\(base).\(processID).\(temporarySuffix)")
    }

    public static let temporarySuffix = "swbpf-tmp"
    package static let processID = getpid()

    /// Removes temporaries left in `directory` by builds that are no longer running (killed ones),
    /// and those their tools made from them: a tool killed with swbpf leaves its own, such as
    /// clang's `.NAME.PID-RANDOM.swbpf-tmp.tmp`. Those that carry this process's own pid are stale
    /// too: this process has not made them (an earlier process with the same pid did, or someone
    /// planted them, perhaps as a symbolic link for a tool to write through), so call this before
    /// this process makes its own temporaries there. With `base`, only those of that output name.
    /// Unlinking removes a link, never its target.
    @discardableResult
    public static func removeStaleTemporaries(in directory: String, base: String? = nil) -> [String] {
        var removed: [String] = []
        for name in list(directory.isEmpty ? "." : directory) ?? [] where name.hasPrefix(".") && name.contains("." + temporarySuffix) {
            let parts = name.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
            guard let marker = parts.indices.dropFirst(2).first(where: { parts[$0] == temporarySuffix }),
                  let pid = Int32(parts[marker - 1].prefix { $0 != "-" }) else { continue }
            if let base, parts[..<(marker - 1)].joined(separator: ".") != base { continue }
            // Another live process (EPERM: one of another user) may still be writing it.
            if pid != processID && (kill(pid, 0) == 0 || errno == EPERM) { continue }
            let path = join(directory, name)
            // A staged step's stage is a directory; a directory under any other temporary name is not ours.
            let isStage = parts[..<(marker - 1)].joined(separator: ".") == stagingName
            if remove(path) || (isStage && removeTree(path)) { removed.append(path) }
        }
        return removed
    }

    public static func createDirectory(_ path: String) throws {
        FileObserver.note(path)
        if isDirectory(path) { return }
        let parent = split(path).directory
        if !parent.isEmpty && parent != "." && parent != "/" { try createDirectory(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw FileError.cannotCreateDirectory(path: path, reason: String(cString: strerror(errno)))
        }
    }

    @discardableResult
    public static func remove(_ path: String) -> Bool { unlink(path) == 0 }

    public static func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else {
            throw FileError.cannotWrite(path: to, reason: String(cString: strerror(errno)))
        }
    }

    /// The first executable `program` in the directories of `searchPath` (a PATH value; the
    /// usual directories when it is nil).
    public static func onPath(_ program: String, searchPath: String?) -> String? {
        for directory in (searchPath ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let path = join(String(directory), program)
            if isExecutableFile(path) { return path }
        }
        return nil
    }

    public static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func changeDirectory(_ path: String) -> Bool { chdir(path) == 0 }

    // MARK: Path strings

    public static func split(_ path: String) -> (directory: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    public static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty || directory == "." { return name }
        if name.hasPrefix("/") { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// `path` with every symbolic link resolved, absolute; nil when it does not exist.
    public static func resolved(_ path: String) -> String? {
        FileObserver.note(path)
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Lexically normalises a path: drops `.` parts and empty parts and folds `x/..`.
    public static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            if part == "..", absolute, parts.isEmpty { continue }
            parts.append(part)
        }
        // Joined by hand, through String's own Substring append: the generic `joined(separator:)`
        // and `+=` look their conformances up at run time, a fifth of a fast no-op the first time.
        var joined = ""
        for (index, part) in parts.enumerated() {
            if index > 0 { joined.append("/") }
            joined.append(contentsOf: part)
        }
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// `path` as swbpf shows and records it: relative to `root` when it lies inside it, else absolute.
    public static func display(_ path: String, relativeTo root: String) -> String {
        let absolute = normalize(path.hasPrefix("/") ? path : join(root, path))
        if absolute == root { return "." }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        if absolute.hasPrefix(prefix) { return String(absolute.dropFirst(prefix.count)) }
        return absolute
    }

    /// `path` named from `root`, with `..` for each level it is outside (`../vmlinux/x86`); nil
    /// when they share nothing but `/`, where the absolute path says it best.
    public static func relativeWithParents(_ path: String, to root: String) -> String? {
        let target = absolute(path, base: root).split(separator: "/")
        let base = normalize(root).split(separator: "/")
        var common = 0
        while common < min(target.count, base.count), target[common] == base[common] { common += 1 }
        if common == 0 { return nil }
        let parts = Array(repeating: "..", count: base.count - common) + target[common...].map(String.init)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    public static func absolute(_ path: String, base: String) -> String {
        normalize(path.hasPrefix("/") ? path : join(base, path))
    }
}

/// `stat(2)`, named apart from `FileSystem.stat` so that the call inside it is unambiguous.
private func systemStat(_ path: String, _ info: inout Glibc.stat) -> Int32 { stat(path, &info) }
