import Synchronization
import SwbpfBasics
#if canImport(Glibc)
import Glibc
#endif

/// The two kinds of thing the cache holds, named as the Bazel remote-cache protocol names them:
/// `cas` for outputs (named by the SHA-256 of their bytes), `ac` for manifests and entries
/// (named by their key).
public enum CacheNamespace: String, Sendable, CaseIterable {
    case cas, ac
}

/// The local, content-addressed store every project of the user shares: `DIR/v1/cas/XX/NAME` and
/// `DIR/v1/ac/XX/NAME`, plus a log of hit counts. Every file is written under a unique temporary
/// name and renamed into place, so builds of several projects can use it at once; readers check
/// what they read (entries parse, blobs match their SHA-256), so a torn or corrupt file is a miss.
/// Reading a file refreshes its mtime, which is what least-recently-used trimming goes by.
///
/// Another user must not be able to plant outputs in it, nor make swbpf (often root) follow a
/// link out of it: every operation works relative to directories opened without following a link
/// and checked to be owned by this user (or root) and writable by no one else, and opens entries
/// without following a link or blocking. Anything in it that is not a regular file or a directory
/// swbpf makes is foreign: never read, followed or removed (clear and trim report it).
public final class LocalCacheStore: Sendable {
    public let directory: String
    private let base: Int32
    private let namespaces: [CacheNamespace: Int32]

    /// Manifests and entries are small; a larger one is not swbpf's.
    package static let recordLimit = 4 << 20
    /// The statistics log is summed into one line once it is larger than this.
    package static let statsLimit = 64 << 10
    /// Builds whose writes the size ledger adds up before it is measured again (see `estimatedSize`).
    package static let ledgerBuilds = 128

    private init(directory: String, base: Int32, namespaces: [CacheNamespace: Int32]) {
        self.directory = directory
        self.base = base
        self.namespaces = namespaces
    }

    deinit {
        close(base)
        namespaces.values.forEach { close($0) }
    }

    /// Opens the cache at `directory`, creating it (and `v1/cas`, `v1/ac`) when `create` is set;
    /// nil when it does not exist and `create` is not set. Throws when it, or a directory in it,
    /// is not one swbpf may use.
    public static func open(_ directory: String, create: Bool) throws(CacheError) -> LocalCacheStore? {
        var made = false
        if create && !FileSystem.exists(directory) {
            // The directories above are the user's configuration; the cache's own is made here.
            try? FileSystem.createDirectory(FileSystem.split(directory).directory)
            made = mkdir(directory, 0o755) == 0
        }
        let root = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else {
            if errno == ENOENT && !create { return nil }
            throw untrusted(directory, openError: errno, in: AT_FDCWD, name: directory)
        }
        defer { close(root) }
        if made { fchmod(root, 0o755) }
        try checkTrusted(root, path: directory)
        let basePath = FileSystem.join(directory, "v1")
        guard let base = try openDirectory("v1", in: root, path: basePath, create: create) else { return nil }
        var namespaces: [CacheNamespace: Int32] = [:]
        for namespace in CacheNamespace.allCases {
            let fd: Int32?
            do { fd = try openDirectory(namespace.rawValue, in: base, path: FileSystem.join(basePath, namespace.rawValue), create: create) } catch {
                close(base)
                namespaces.values.forEach { close($0) }
                throw error
            }
            if let fd { namespaces[namespace] = fd }
        }
        return LocalCacheStore(directory: directory, base: base, namespaces: namespaces)
    }

    /// Opens the directory `name` in `parent`, never through a link, and checks it may be trusted;
    /// nil when it is not there and `create` is not set.
    private static func openDirectory(_ name: String, in parent: Int32, path: String, create: Bool) throws(CacheError) -> Int32? {
        // Made with exactly 0755 whatever the umask: a group-writable directory would be refused.
        let made = create && mkdirat(parent, name, 0o755) == 0
        let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw untrusted(path, openError: errno, in: parent, name: name)
        }
        if made { fchmod(fd, 0o755) }
        do { try checkTrusted(fd, path: path) } catch {
            close(fd)
            throw error
        }
        return fd
    }

    private static func untrusted(_ path: String, openError: Int32, in parent: Int32, name: String) -> CacheError {
        var info = Glibc.stat()
        if fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 && (info.st_mode & S_IFMT) != S_IFDIR {
            let target = FileSystem.linkTarget(name, in: parent).map { " to '\($0)'" } ?? ""
            return .untrusted(path: path, reason: "is \(FileSystem.kind(of: info.st_mode))\(target), not a directory swbpf made")
        }
        return .untrusted(path: path, reason: "cannot be opened: \(String(cString: strerror(openError)))")
    }

    /// A directory of the cache must be this user's (or root's) and writable by no one else.
    private static func checkTrusted(_ fd: Int32, path: String) throws(CacheError) {
        var info = Glibc.stat()
        guard fstat(fd, &info) == 0 else { throw .untrusted(path: path, reason: "cannot be examined: \(FileSystem.lastError())") }
        let user = geteuid()
        guard info.st_uid == user || info.st_uid == 0 else {
            throw .untrusted(path: path, reason: "is owned by uid \(info.st_uid), not by you (uid \(user)) or root")
        }
        guard info.st_mode & 0o022 == 0 else {
            let writers = [(0o020, "its group"), (0o002, "others")].filter { info.st_mode & mode_t($0.0) != 0 }.map(\.1)
            throw .untrusted(path: path, reason: "is writable by \(writers.joined(separator: " and ")) (mode \(String(info.st_mode & 0o7777, radix: 8)))")
        }
    }

    /// Where `key` is stored (for messages and tests; never opened by this path).
    package func path(_ namespace: CacheNamespace, _ key: String) -> String {
        FileSystem.join(FileSystem.join(FileSystem.join(basePath, namespace.rawValue), Self.shardName(key)), key)
    }

    private var basePath: String { FileSystem.join(directory, "v1") }

    /// The shard directory of `key` (`XX`), opened and checked; nil when it is not there.
    private func shard(_ namespace: CacheNamespace, _ name: String, create: Bool) throws(CacheError) -> Int32? {
        guard let parent = namespaces[namespace] else {
            guard create else { return nil }
            throw .cannotWrite(path: FileSystem.join(basePath, namespace.rawValue), reason: "it is missing")
        }
        return try Self.openDirectory(name, in: parent, path: FileSystem.join(FileSystem.join(basePath, namespace.rawValue), name), create: create)
    }

    private static func shardName(_ key: String) -> String { String(key.prefix(2)) }

    /// The file's bytes, or nil when it is not there, is not a regular file, or is larger than
    /// `limit` (a blob's size is the one its entry declares); a read marks it as recently used.
    /// Throws when its directory may not be trusted.
    package func read(_ namespace: CacheNamespace, _ key: String, limit: Int) throws(CacheError) -> [UInt8]? {
        guard let shard = try shard(namespace, Self.shardName(key), create: false) else { return nil }
        defer { close(shard) }
        guard case .contents(let bytes) = FileSystem.readRegularFile(key, in: shard, limit: limit) else { return nil }
        // Best effort: a read-only cache still serves hits.
        utimensat(shard, key, nil, AT_SYMLINK_NOFOLLOW)
        return bytes
    }

    /// O_TMPFILE (a macro Swift does not import; the same value on every Linux architecture swbpf
    /// builds for), to open a directory as a new file with no name.
    package static let unnamedFileFlags = Int32(0o20000000) | O_DIRECTORY | O_RDWR | O_CLOEXEC

    /// A new file with no name in the store (a download lands there before it is checked): no one
    /// can open it, and it vanishes when closed.
    package func unnamedFile() throws(CacheError) -> Int32 {
        let fd = openat(base, ".", Self.unnamedFileFlags, 0o600)
        guard fd >= 0 else { throw .cannotWrite(path: basePath, reason: FileSystem.lastError()) }
        return fd
    }

    /// Whether a regular file is stored under `key`.
    package func contains(_ namespace: CacheNamespace, _ key: String) -> Bool {
        guard let shard = try? shard(namespace, Self.shardName(key), create: false) else { return false }
        defer { close(shard) }
        return Self.regularFile(key, in: shard) != nil
    }

    /// The stat data of `name` in `directory` when it is a regular file (a link is not followed).
    private static func regularFile(_ name: String, in directory: Int32) -> Glibc.stat? {
        var info = Glibc.stat()
        guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return info
    }

    /// Stores `bytes` under `key`; the error says why it could not.
    package func write(_ namespace: CacheNamespace, _ key: String, _ bytes: [UInt8]) throws(CacheError) {
        guard let shard = try shard(namespace, Self.shardName(key), create: true) else {
            throw .cannotWrite(path: path(namespace, key), reason: "its directory could not be made")
        }
        defer { close(shard) }
        // The rename would replace what was planted at the name: foreign, it is left alone.
        var info = Glibc.stat()
        if fstatat(shard, key, &info, AT_SYMLINK_NOFOLLOW) == 0 && (info.st_mode & S_IFMT) != S_IFREG { return }
        try Self.writeFile(key, in: shard, bytes, display: path(namespace, key))
    }

    /// Writes `bytes` to `name` in `directory` through a temporary name unique to this write
    /// (several steps of one build may store the same blob at once) and a rename, which replaces
    /// whatever was planted at the name rather than writing through it.
    private static func writeFile(_ name: String, in directory: Int32, _ bytes: [UInt8], display: String) throws(CacheError) {
        let temporary = ".\(name).\(getpid())-\(writeCounter.add(1, ordering: .relaxed).newValue).tmp"
        do { try writeWhole(temporary, in: directory, bytes, mode: 0o644, display: display) } catch {
            unlinkat(directory, temporary, 0)
            throw error
        }
        guard renameat(directory, temporary, directory, name) == 0 else {
            let reason = FileSystem.lastError()
            unlinkat(directory, temporary, 0)
            throw .cannotWrite(path: display, reason: reason)
        }
    }

    private static let writeCounter = Atomic<Int>(0)

    /// Creates `path` (relative to `directory`; it must not exist, and a link there is not
    /// followed) with exactly `mode`, whatever the umask, and writes it whole.
    package static func writeWhole(_ path: String, in directory: Int32 = AT_FDCWD, _ bytes: [UInt8], mode: mode_t, display: String? = nil) throws(CacheError) {
        let fd = openat(directory, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .cannotWrite(path: display ?? path, reason: FileSystem.lastError()) }
        defer { close(fd) }
        fchmod(fd, mode)
        do { try FileSystem.writeAll(bytes, to: fd, path: display ?? path) } catch FileError.cannotWrite(_, let reason) {
            throw .cannotWrite(path: display ?? path, reason: reason)
        } catch {
            throw .cannotWrite(path: display ?? path, reason: "\(error)")
        }
    }

    // MARK: Statistics

    /// Adds one build's counts to the log: one short line, appended in one write (builds running
    /// at once never interleave within a line). A log grown past `statsLimit` is replaced by its
    /// sum in one line (a count another build appends meanwhile may be lost: they are statistics).
    /// A log that is not a regular file is left alone.
    package func record(_ counts: CacheCounts) {
        guard counts.lookups > 0 || counts.stored > 0 else { return }
        let fd = openat(base, "stats", O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var info = Glibc.stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return }
        guard info.st_size + 64 > Self.statsLimit else {
            _ = try? FileSystem.writeAll(Self.statsLine(counts), to: fd, path: "stats")
            return
        }
        var sum = (try? totals()) ?? CacheCounts()
        sum.add(counts)
        try? Self.writeFile("stats", in: base, Self.statsLine(sum), display: FileSystem.join(basePath, "stats"))
    }

    private static func statsLine(_ counts: CacheCounts) -> [UInt8] {
        Array("b \(counts.localHits) \(counts.remoteHits) \(counts.misses) \(counts.stored)\n".utf8)
    }

    /// Every build's counts, summed; the error says why the log cannot be read.
    package func totals() throws(CacheError) -> CacheCounts {
        var counts = CacheCounts()
        let text: [UInt8]
        switch FileSystem.readRegularFile("stats", in: base, limit: Self.statsLimit) {
        case .missing: return counts
        case .contents(let bytes): text = bytes
        case .refused(let reason):
            throw .untrusted(path: FileSystem.join(basePath, "stats"), reason: "cannot be read: \(reason)")
        }
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ").compactMap { Int($0) }
            // Bounded, so no sum of them can overflow.
            guard line.hasPrefix("b "), fields.count == 4, fields.allSatisfy({ (0..<(1 << 40)).contains($0) }) else { continue }
            counts.add(CacheCounts(localHits: fields[0], remoteHits: fields[1], misses: fields[2], stored: fields[3]))
        }
        return counts
    }

    // MARK: Size and trimming

    package struct StoredFile {
        package var namespace: CacheNamespace
        package var shard: String
        package var name: String
        package var size: Int64
        package var mtime: Int64
    }

    /// Every stored file, with its size and when it was last used, and what the cache holds that
    /// swbpf did not make (each as its path and what it is).
    package struct Inventory {
        package var files: [StoredFile] = []
        package var foreign: [String] = []
        package var size: Int64 { files.reduce(0) { $0 + $1.size } }
        package init() {}
    }

    package func inventory() -> Inventory {
        var inventory = Inventory()
        for namespace in CacheNamespace.allCases {
            guard let parent = namespaces[namespace] else { continue }
            let top = FileSystem.join(basePath, namespace.rawValue)
            for shardName in FileSystem.names(in: parent) ?? [] {
                let shardPath = FileSystem.join(top, shardName)
                let shard: Int32
                switch Result(catching: { () throws(CacheError) in shardName.utf8.count == 2 ? try self.shard(namespace, shardName, create: false) : nil }) {
                case .success(let opened?): shard = opened
                case .success(nil):
                    inventory.foreign.append(Self.describe(shardName, in: parent, path: shardPath))
                    continue
                case .failure(let error):
                    if case .untrusted(_, let reason) = error { inventory.foreign.append("\(shardPath) (it \(reason))") }
                    continue
                }
                defer { close(shard) }
                for name in FileSystem.names(in: shard) ?? [] {
                    let info = Self.regularFile(name, in: shard)
                    // Temporaries of writes in progress are another build's, and no one's to report.
                    if name.hasPrefix(".") && name.hasSuffix(".tmp") && info != nil { continue }
                    guard let info, !name.hasPrefix(".") else {
                        inventory.foreign.append(Self.describe(name, in: shard, path: FileSystem.join(shardPath, name)))
                        continue
                    }
                    inventory.files.append(StoredFile(namespace: namespace, shard: shardName, name: name, size: Int64(info.st_size),
                                                      mtime: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)))
                }
            }
        }
        return inventory
    }

    /// `PATH (a symbolic link to 'TARGET')`: a foreign file, as clear and trim report it.
    private static func describe(_ name: String, in directory: Int32, path: String) -> String {
        var info = Glibc.stat()
        guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return path }
        return "\(path) (\(FileSystem.kind(of: info.st_mode))\(FileSystem.linkTarget(name, in: directory).map { " to '\($0)'" } ?? ""))"
    }

    /// What trimming or clearing removed, and the foreign files it left alone.
    public struct Removal: Sendable {
        public var files = 0
        public var bytes: Int64 = 0
        public var foreign: [String] = []

        public init(foreign: [String] = []) { self.foreign = foreign }

        /// The note that names what was left alone, if anything was.
        public var foreignNote: String? {
            guard !foreign.isEmpty else { return nil }
            return "cache: left alone \(foreign.count) thing\(foreign.count == 1 ? "" : "s") swbpf did not make (never followed nor removed): "
                + foreign.prefix(5).joined(separator: ", ") + (foreign.count > 5 ? ", …" : "")
        }
    }

    /// Removes the least recently used files until the cache holds at most `target` bytes.
    /// Builds reading a removed file at that moment just miss (they verify everything they read).
    @discardableResult
    public func trim(to target: Int64) -> Removal {
        let inventory = inventory()
        var removal = Removal(foreign: inventory.foreign)
        var total = inventory.size
        for file in inventory.files.sorted(by: { $0.mtime < $1.mtime }) {
            guard total > target else { break }
            guard let shard = try? shard(file.namespace, file.shard, create: false) else { continue }
            defer { close(shard) }
            // Still a regular file: what replaced it since is not removed.
            if Self.regularFile(file.name, in: shard) != nil, unlinkat(shard, file.name, 0) == 0 {
                total -= file.size
                removal.files += 1
                removal.bytes += file.size
            }
        }
        return removal
    }

    /// Removes everything, the statistics and the size ledger included.
    public func clear() -> Removal {
        var removal = trim(to: -1)
        var info = Glibc.stat()
        for name in ["stats", Self.ledger] {
            if Self.regularFile(name, in: base) != nil {
                unlinkat(base, name, 0)
            } else if fstatat(base, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
                removal.foreign.append(Self.describe(name, in: base, path: FileSystem.join(basePath, name)))
            }
        }
        return removal
    }

    // MARK: Size ledger

    /// The size ledger: `= BYTES`, what the last walk measured, then `+ BYTES` for what each build
    /// wrote since, each line appended in one write. It lets a build that stored decide whether to
    /// trim without walking every directory of the cache (thousands of stats in a full one).
    private static let ledger = "size"

    /// Adds what one build wrote to the ledger and returns the size it now adds up to; nil when a
    /// walk must measure it: no ledger yet, one that is not a regular file or does not parse, or
    /// one adding up `ledgerBuilds` builds (a line another build appended while the ledger was
    /// restarted is lost, and files are removed and replaced behind its back: a walk now and then
    /// bounds what it can miss). Replacing a file swbpf stored counts it twice: the ledger errs
    /// towards a walk, never towards a cache over its limit for long.
    package func estimatedSize(adding written: Int64) -> Int64? {
        guard case .contents(let bytes) = FileSystem.readRegularFile(Self.ledger, in: base, limit: Self.statsLimit) else { return nil }
        var measured: Int64?
        var added: Int64 = 0
        var builds = 0
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            // Bounded, so no sum of them can overflow.
            guard let value = Int64(line.dropFirst(2)), (0..<(1 << 50)).contains(value) else { return nil }
            switch line.prefix(2) {
            case "= " where measured == nil: measured = value
            case "+ " where measured != nil:
                added += value
                builds += 1
            default: return nil
            }
        }
        guard let measured, builds < Self.ledgerBuilds else { return nil }
        let fd = openat(base, Self.ledger, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = Glibc.stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
              (try? FileSystem.writeAll(Array("+ \(written)\n".utf8), to: fd, path: Self.ledger)) != nil else { return nil }
        return measured + added + written
    }

    /// Restarts the ledger from the size a walk just measured.
    package func measuredSize(_ size: Int64) {
        // Something there that is not a regular file is foreign: left alone, and builds walk.
        var info = Glibc.stat()
        guard fstatat(base, Self.ledger, &info, AT_SYMLINK_NOFOLLOW) != 0 || (info.st_mode & S_IFMT) == S_IFREG else { return }
        try? Self.writeFile(Self.ledger, in: base, Array("= \(size)\n".utf8), display: FileSystem.join(basePath, Self.ledger))
    }
}

/// What one build (or, summed, every build) asked of the cache and got.
public struct CacheCounts: Sendable, Equatable {
    public var localHits = 0
    public var remoteHits = 0
    public var misses = 0
    public var stored = 0
    public init() {}
    package init(localHits: Int, remoteHits: Int, misses: Int, stored: Int) {
        self.localHits = localHits
        self.remoteHits = remoteHits
        self.misses = misses
        self.stored = stored
    }
    package mutating func add(_ other: CacheCounts) {
        localHits += other.localHits
        remoteHits += other.remoteHits
        misses += other.misses
        stored += other.stored
    }
    public var lookups: Int { localHits + remoteHits + misses }
    public var hits: Int { localHits + remoteHits }
}
