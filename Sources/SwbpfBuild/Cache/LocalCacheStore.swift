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
public struct LocalCacheStore: Sendable {
    public let directory: String
    package var base: String { FileSystem.join(directory, "v1") }
    package var statsLog: String { FileSystem.join(base, "stats") }

    public init(directory: String) { self.directory = directory }

    package func path(_ namespace: CacheNamespace, _ key: String) -> String {
        FileSystem.join(FileSystem.join(FileSystem.join(base, namespace.rawValue), String(key.prefix(2))), key)
    }

    /// The file's bytes, or nil when it is not there; a read marks it as recently used.
    package func read(_ namespace: CacheNamespace, _ key: String) -> [UInt8]? {
        let file = path(namespace, key)
        guard let bytes = FileSystem.read(file) else { return nil }
        // Best effort: a read-only cache still serves hits.
        utimensat(AT_FDCWD, file, nil, 0)
        return bytes
    }

    package func contains(_ namespace: CacheNamespace, _ key: String) -> Bool { FileSystem.exists(path(namespace, key)) }

    /// Stores `bytes` under `key`; the error says why it could not.
    package func write(_ namespace: CacheNamespace, _ key: String, _ bytes: [UInt8]) throws(CacheError) {
        let file = path(namespace, key)
        let directory = FileSystem.split(file).directory
        do { try FileSystem.createDirectory(directory) } catch {
            throw .cannotWrite(path: directory, reason: Diagnostic(of: error).message)
        }
        try Self.writeFile(file, bytes, executable: false)
    }

    /// Writes `bytes` to `path` through a temporary name unique to this write (several steps of
    /// one build may store the same blob at once) and a rename.
    package static func writeFile(_ path: String, _ bytes: [UInt8], executable: Bool) throws(CacheError) {
        let (directory, name) = FileSystem.split(path)
        let temporary = FileSystem.join(directory, ".\(name).\(getpid())-\(writeCounter.add(1, ordering: .relaxed).newValue).tmp")
        do { try writeWhole(temporary, bytes, mode: executable ? 0o755 : 0o644) } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .cannotWrite(path: path, reason: reason)
        }
    }

    private static let writeCounter = Atomic<Int>(0)

    /// Creates `path` (it must not exist) with exactly `mode`, whatever the umask, and writes it whole.
    package static func writeWhole(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(CacheError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        fchmod(fd, mode)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(path: path, reason: String(cString: strerror(errno)))
            }
            offset += n
        }
    }

    // MARK: Statistics

    /// Adds one build's counts to the log (one short line, appended in one write: builds running at
    /// once never interleave within a line).
    package func record(_ counts: CacheCounts) {
        guard counts.lookups > 0 || counts.stored > 0 else { return }
        try? FileSystem.createDirectory(base)
        let line = Array("b \(counts.localHits) \(counts.remoteHits) \(counts.misses) \(counts.stored)\n".utf8)
        let fd = open(statsLog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    /// Every build's counts, summed.
    package func totals() -> CacheCounts {
        var counts = CacheCounts()
        for line in (FileSystem.readText(statsLog) ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ").compactMap { Int($0) }
            guard line.hasPrefix("b "), fields.count == 4 else { continue }
            counts.localHits += fields[0]
            counts.remoteHits += fields[1]
            counts.misses += fields[2]
            counts.stored += fields[3]
        }
        return counts
    }

    // MARK: Size and trimming

    package struct StoredFile {
        package var path: String
        package var namespace: CacheNamespace
        package var size: Int64
        package var mtime: Int64

        package init(path: String, namespace: CacheNamespace, size: Int64, mtime: Int64) {
            self.path = path
            self.namespace = namespace
            self.size = size
            self.mtime = mtime
        }
    }

    /// Every stored file, with its size and when it was last used.
    package func storedFiles() -> [StoredFile] {
        var files: [StoredFile] = []
        for namespace in CacheNamespace.allCases {
            let top = FileSystem.join(base, namespace.rawValue)
            for shard in FileSystem.list(top) ?? [] where shard.utf8.count == 2 {
                let directory = FileSystem.join(top, shard)
                for name in FileSystem.list(directory) ?? [] where !name.hasPrefix(".") {
                    let path = FileSystem.join(directory, name)
                    guard let stat = FileSystem.stat(path), !stat.isDirectory else { continue }
                    files.append(StoredFile(path: path, namespace: namespace, size: stat.size, mtime: stat.mtimeNanoseconds))
                }
            }
        }
        return files
    }

    /// Removes the least recently used files until the cache holds at most `target` bytes;
    /// returns how many files and bytes went. Builds reading a removed file at that moment just
    /// miss (they verify everything they read).
    @discardableResult
    public func trim(to target: Int64) -> (files: Int, bytes: Int64) {
        let files = storedFiles()
        var total = files.reduce(0) { $0 + $1.size }
        var removed = (files: 0, bytes: Int64(0))
        guard total > target else { return removed }
        for file in files.sorted(by: { $0.mtime < $1.mtime }) {
            guard total > target else { break }
            if unlink(file.path) == 0 {
                total -= file.size
                removed.files += 1
                removed.bytes += file.size
            }
        }
        return removed
    }

    /// Removes everything, the statistics included.
    public func clear() -> (files: Int, bytes: Int64) {
        let removed = trim(to: -1)
        unlink(statsLog)
        return removed
    }
}

/// What one build (or, summed, every build) asked of the cache and got.
public struct CacheCounts: Sendable, Equatable {
    public var localHits = 0
    public var remoteHits = 0
    public var misses = 0
    public var stored = 0
    public init() {}
    public var lookups: Int { localHits + remoteHits + misses }
    public var hits: Int { localHits + remoteHits }
}
