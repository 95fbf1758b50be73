import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import SwbpfBasics
import SwbpfModel

/// Where a restored step's outputs came from.
public enum CacheSource: String, Sendable, Codable {
    case local, remote
}

/// What the executor knows of a step that must run, before it runs: enough to look it up.
public struct CacheQuery: Sendable {
    public var step: Step
    /// The first level of the key (`CacheKey.manifest`).
    public var manifestKey: String
    /// Content digests already known (declared inputs, the headers of the last build); the cache
    /// hashes anything else it needs.
    public var knownDigests: [String: Digest]

    package init(step: Step, manifestKey: String, knownDigests: [String: Digest]) {
        self.step = step
        self.manifestKey = manifestKey
        self.knownDigests = knownDigests
    }
}

/// A step found in the cache: its products are in their temporaries, verified, ready to commit.
public struct CacheHit: Sendable {
    public var source: CacheSource
    /// The second level of the key, which names the entry.
    public var entryKey: String
    /// The headers the step read when it ran: recorded as if it had run here.
    public var headers: [String]
    /// The content digest of each product, from the SHA-256 it was checked against.
    public var digests: [String: Digest]

    package init(source: CacheSource, entryKey: String, headers: [String], digests: [String: Digest]) {
        self.source = source
        self.entryKey = entryKey
        self.headers = headers
        self.digests = digests
    }
}

public struct CacheLookup: Sendable {
    public var hit: CacheHit?
    /// Why something could not be used (the remote is down, the cache unwritable...).
    public var notes: [String] = []

    package init(hit: CacheHit? = nil, notes: [String] = []) {
        self.hit = hit
        self.notes = notes
    }
}

/// What a step that ran read, to store its outputs under.
public struct CacheStoreRequest: Sendable {
    public var step: Step
    public var manifestKey: String
    public var headers: [Header]
    /// The products as they were recorded: read and hashed once, for the state and the cache.
    public var products: [Product]

    public struct Product: Sendable {
        public var path: String
        public var bytes: [UInt8]
        public var sha256: String
        public var executable: Bool

        package init(path: String, bytes: [UInt8], sha256: String, executable: Bool) {
            self.path = path
            self.bytes = bytes
            self.sha256 = sha256
            self.executable = executable
        }
    }

    public struct Header: Sendable {
        public var path: String
        public var digest: Digest

        package init(path: String, digest: Digest) {
            self.path = path
            self.digest = digest
        }
    }

    package init(step: Step, manifestKey: String, headers: [Header], products: [Product]) {
        self.step = step
        self.manifestKey = manifestKey
        self.headers = headers
        self.products = products
    }
}

/// The executor's view of the shared cache: asked before a step that must run is launched, told
/// after one succeeds. Nothing it does can fail a build: every problem is a note and a miss.
public protocol StepCache: Sendable {
    /// On a hit, writes every product of the step to its temporary sibling, each checked against
    /// the SHA-256 the entry names, and returns the hit; on a miss, writes nothing.
    func restore(_ query: CacheQuery, files: any BuildFileSystem) async -> CacheLookup
    /// Stores the step's products (already in place) and its manifest and entry; returns notes.
    func store(_ request: CacheStoreRequest, files: any BuildFileSystem) async -> [String]
    /// After the build: records the hit counts and trims the local cache; returns notes.
    func finishBuild() async -> [String]
}

/// The local store, with the remote one behind it when configured: lookups try the local store,
/// then the remote (copying what it finds into the local store); stores go to both. The first
/// remote failure turns the remote off for the rest of the build, so a server that is down costs
/// one timeout, not one per step.
public final class SharedCache: StepCache {
    /// The local cache's directory, opened (and created) on the first lookup or store.
    public let directory: String
    package let remote: RemoteCache?
    package let sizeLimit: Int64
    private let state = Mutex(State())

    private struct State {
        var counts = CacheCounts()
        /// Bytes this build wrote to the local cache, for its size ledger.
        var written: Int64 = 0
        var remoteDown = false
        var localUnwritable = false
        var remoteBrokenSaid = false
        var local = LocalStore.unopened
    }

    private enum LocalStore {
        case unopened
        case opened(LocalCacheStore)
        /// Missing, or not one swbpf may trust: said once, then no local cache for this build.
        case unusable
    }

    public init(settings: CacheSettings) {
        directory = settings.directory
        remote = settings.remote.map(RemoteCache.init)
        sizeLimit = settings.sizeLimit
    }

    public var counts: CacheCounts { state.withLock { $0.counts } }

    /// The local store, or nil (with a note the first time) when it cannot be used.
    private func local(notes: inout [String]) -> LocalCacheStore? {
        var failure: CacheError?
        let store = state.withLock { state -> LocalCacheStore? in
            switch state.local {
            case .opened(let store): return store
            case .unusable: return nil
            case .unopened:
                switch Result(catching: { () throws(CacheError) in try LocalCacheStore.open(directory, create: true) }) {
                case .success(let store):
                    state.local = store.map(LocalStore.opened) ?? .unusable
                    return store
                case .failure(let error):
                    state.local = .unusable
                    failure = error
                    return nil
                }
            }
        }
        if let failure { notes.append(failure.diagnostic.message) }
        return store
    }

    /// A directory of the local store turned out not to be trustworthy: no local cache from now on.
    private func localUntrusted(_ error: CacheError, notes: inout [String]) {
        let first = state.withLock { state in
            defer { state.local = .unusable }
            if case .unusable = state.local { return false }
            return true
        }
        if first { notes.append(error.diagnostic.message) }
    }

    // MARK: Reading

    /// What the local store holds under `key`, read up to `limit` bytes.
    private func localRead(_ namespace: CacheNamespace, _ key: String, limit: Int, notes: inout [String]) -> [UInt8]? {
        guard let local = local(notes: &notes) else { return nil }
        do { return try local.read(namespace, key, limit: limit) } catch {
            localUntrusted(error, notes: &notes)
            return nil
        }
    }

    /// A manifest or an entry: local first, then remote.
    private func fetchRecord(_ key: String, notes: inout [String]) async -> (bytes: [UInt8], source: CacheSource)? {
        if let bytes = localRead(.ac, key, limit: LocalCacheStore.recordLimit, notes: &notes) { return (bytes, .local) }
        guard let remote, !state.withLock({ $0.remoteDown }) else { return nil }
        switch await remote.getRecord(key) {
        case .success(let bytes?): return (bytes, .remote)
        case .success(nil): return nil
        case .failure(let error):
            remoteFailed(error, notes: &notes)
            return nil
        }
    }

    /// The blob an entry names, checked against its size and SHA-256: local first, then remote,
    /// which is streamed to an unnamed file in the cache directory and read back only when its
    /// size is the declared one, so a server that sends more costs neither memory nor disk.
    private func fetchBlob(_ output: CacheEntry.Output, notes: inout [String]) async -> (bytes: [UInt8], source: CacheSource)? {
        if let bytes = localRead(.cas, output.sha256, limit: output.size, notes: &notes), Self.matches(bytes, output) { return (bytes, .local) }
        guard let remote, !state.withLock({ $0.remoteDown }), output.size <= FileSystem.readLimit else { return nil }
        let fd: Int32
        do throws(CacheError) { fd = try unnamedFile(notes: &notes) } catch {
            remoteFailed(error, notes: &notes)
            return nil
        }
        defer { close(fd) }
        // A 404 page may be longer than a small blob: the bound is the declared size, or 64 KiB.
        switch await remote.download(output.sha256, size: max(output.size, 1 << 16), into: fd) {
        case .success(true): break
        case .success(false): return nil
        case .failure(let error):
            remoteFailed(error, notes: &notes)
            return nil
        }
        guard let bytes = FileSystem.read("/proc/self/fd/\(fd)", limit: output.size), Self.matches(bytes, output) else {
            remoteBroken("its blob \(output.sha256.prefix(12))… is not the \(output.size) bytes of that SHA-256 its entry names", notes: &notes)
            return nil
        }
        return (bytes, .remote)
    }

    /// Where cc and clang find headers without being told: /usr/include, /usr/local/include, and
    /// their own directories under /usr/lib (gcc's lib/gcc/TRIPLE/N/include, clang's resource directory).
    private static let systemHeaderPlaces = ["/usr/include", "/usr/local/include", "/usr/lib"]

    /// A cross toolchain's headers: /usr/TRIPLE/include.
    private static func isCrossHeader(_ path: String) -> Bool {
        let parts = path.split(separator: "/")
        return parts.count > 3 && parts[0] == "usr" && parts[2] == "include"
    }

    /// A file with no name for a download: in the local store, or (when it may not be used) in the
    /// temporary directory, where no other user can reach a file that has no name either.
    private func unnamedFile(notes: inout [String]) throws(CacheError) -> Int32 {
        if let local = local(notes: &notes) { return try local.unnamedFile() }
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        let fd = open(directory, LocalCacheStore.unnamedFileFlags, 0o600)
        guard fd >= 0 else { throw .cannotWrite(path: directory, reason: FileSystem.lastError()) }
        return fd
    }

    private static func matches(_ bytes: [UInt8], _ output: CacheEntry.Output) -> Bool {
        bytes.count == output.size && SHA256Hex.of(bytes) == output.sha256
    }

    /// A remote that answers with something no honest server stores: one note per build, and the step is built here.
    private func remoteBroken(_ what: String, notes: inout [String]) {
        guard let remote else { return }
        let first = state.withLock { state in
            defer { state.remoteBrokenSaid = true }
            return !state.remoteBrokenSaid
        }
        if first {
            notes.append("remote cache \(remote.settings.displayURL) is broken or hostile: \(what); building locally (tell whoever runs the server)")
        }
    }

    private func remoteFailed(_ error: CacheError, notes: inout [String]) {
        let first = state.withLock { state in
            defer { state.remoteDown = true }
            return !state.remoteDown
        }
        if first { notes.append(error.diagnostic.message + " (the remote cache is not used for the rest of this build)") }
    }

    private func keepLocally(_ namespace: CacheNamespace, _ key: String, _ bytes: [UInt8], notes: inout [String]) {
        guard !state.withLock({ $0.localUnwritable }), let local = local(notes: &notes) else { return }
        do {
            try local.write(namespace, key, bytes)
            state.withLock { $0.written += Int64(bytes.count) }
        } catch {
            if case .untrusted = error { return localUntrusted(error, notes: &notes) }
            let first = state.withLock { state in
                defer { state.localUnwritable = true }
                return !state.localUnwritable
            }
            if first { notes.append(error.diagnostic.message) }
        }
    }

    public func restore(_ query: CacheQuery, files: any BuildFileSystem) async -> CacheLookup {
        var lookup = CacheLookup()
        let hit = await find(query, files: files, notes: &lookup.notes)
        state.withLock { state in
            switch hit?.source {
            case .local?: state.counts.localHits += 1
            case .remote?: state.counts.remoteHits += 1
            case nil: state.counts.misses += 1
            }
        }
        lookup.hit = hit
        return lookup
    }

    private func find(_ query: CacheQuery, files: any BuildFileSystem, notes: inout [String]) async -> CacheHit? {
        let step = query.step
        guard let (manifestBytes, manifestSource) = await fetchRecord(query.manifestKey, notes: &notes),
              let manifest = CacheManifest(bytes: manifestBytes) else { return nil }
        // A step reads headers only from the project, its include directories and the compilers'
        // own: a manifest that names anything else (/dev/zero, ~/.ssh/id_rsa) was not written by a build.
        let places = [files.root] + step.includeSearchOrder.map { FileSystem.absolute($0, base: files.root) } + Self.systemHeaderPlaces
        if let stray = manifest.headers.first(where: { header in
            let path = FileSystem.absolute(header, base: files.root)
            return !places.contains { path.hasPrefix($0 == "/" ? "/" : $0 + "/") } && !Self.isCrossHeader(path)
        }) {
            if manifestSource == .remote {
                remoteBroken("a manifest names \(stray.escapedForDisplay()), outside the project and its include directories", notes: &notes)
            }
            return nil
        }
        // The files the names stand for in this checkout: each is hashed here, wherever the
        // manifest was written.
        let paths = manifest.headers.map { CacheManifest.header(named: $0, root: files.root) }
        // A header that would now be found before one the step read changes what it reads.
        let candidates = Executor.shadowingCandidates(of: paths, searchOrder: step.includeSearchOrder, root: files.root)
        let known = Set(step.inputs + paths)
        guard candidates.allSatisfy({ known.contains($0) || files.stat($0) == nil }) else { return nil }
        var headers: [(path: String, digest: Digest)] = []
        for (name, path) in zip(manifest.headers, paths) {
            guard let digest = query.knownDigests[path] ?? files.digest(path) else { return nil }
            headers.append((name, digest))
        }
        let entryKey = CacheKey.entry(manifest: query.manifestKey, headers: headers)
        guard let (entryBytes, entrySource) = await fetchRecord(entryKey, notes: &notes), let entry = CacheEntry(bytes: entryBytes),
              entry.outputs.map(\.path) == step.products else { return nil }
        var source = entrySource == .remote || manifestSource == .remote ? CacheSource.remote : .local
        var written: [String] = []
        var digests: [String: Digest] = [:]
        func abandon() -> CacheHit? {
            written.forEach(files.remove)
            return nil
        }
        for (output, temporary) in zip(entry.outputs, step.temporaryProducts) {
            // Never a wrong output: a blob that is not what the entry names is a miss.
            guard let (bytes, blobSource) = await fetchBlob(output, notes: &notes) else { return abandon() }
            if blobSource == .remote {
                source = .remote
                keepLocally(.cas, output.sha256, bytes, notes: &notes)
            }
            do {
                // A staged step's products wait in its staging directory, where the executor commits them from.
                if step.stagingDirectory != nil { try files.createDirectory(FileSystem.split(temporary).directory) }
                try files.write(temporary, bytes, executable: output.executable)
            } catch { return abandon() }
            written.append(temporary)
            digests[output.path] = Digest(hex: Array(output.sha256.utf8.prefix(32)))
        }
        if source == .remote {
            keepLocally(.ac, entryKey, entryBytes, notes: &notes)
            keepLocally(.ac, query.manifestKey, manifestBytes, notes: &notes)
        }
        return CacheHit(source: source, entryKey: entryKey, headers: paths, digests: digests)
    }

    // MARK: Writing

    public func store(_ request: CacheStoreRequest, files: any BuildFileSystem) async -> [String] {
        var notes: [String] = []
        var outputs: [CacheEntry.Output] = []
        var blobs: [(key: String, bytes: [UInt8])] = []
        for product in request.products {
            outputs.append(.init(path: product.path, sha256: product.sha256, size: product.bytes.count, executable: product.executable))
            blobs.append((product.sha256, product.bytes))
        }
        let names = request.headers.map { CacheManifest.name(of: $0.path, searchOrder: request.step.includeSearchOrder, root: files.root) }
        let manifest = CacheManifest(headers: names).bytes
        let entryKey = CacheKey.entry(manifest: request.manifestKey, headers: zip(names, request.headers).map { ($0, $1.digest) })
        let entry = CacheEntry(outputs: outputs).bytes
        // Blobs before the entry that names them, the entry before the manifest that leads to it.
        let stored = local(notes: &notes)
        for blob in blobs where stored?.contains(.cas, blob.key) != true { keepLocally(.cas, blob.key, blob.bytes, notes: &notes) }
        keepLocally(.ac, entryKey, entry, notes: &notes)
        keepLocally(.ac, request.manifestKey, manifest, notes: &notes)
        state.withLock { $0.counts.stored += 1 }
        guard let remote, !remote.settings.readOnly else { return notes }
        for blob in blobs {
            guard !state.withLock({ $0.remoteDown }), !Task.isCancelled else { return notes }
            switch await remote.contains(.cas, blob.key) {
            case .success(true): continue
            case .success(false):
                if case .failure(let error) = await remote.put(.cas, blob.key, blob.bytes) { remoteFailed(error, notes: &notes) }
            case .failure(let error): remoteFailed(error, notes: &notes)
            }
        }
        for (key, bytes) in [(entryKey, entry), (request.manifestKey, manifest)] {
            guard !state.withLock({ $0.remoteDown }), !Task.isCancelled else { return notes }
            if case .failure(let error) = await remote.put(.ac, key, bytes) { remoteFailed(error, notes: &notes) }
        }
        return notes
    }

    public func finishBuild() async -> [String] {
        var notes: [String] = []
        let counts = self.counts
        guard counts.lookups > 0 || counts.stored > 0, let local = local(notes: &notes) else { return notes }
        local.record(counts)
        // Trimming walks the cache: only worth it after a build that added to it, and only when
        // the size ledger cannot say it is under the limit.
        guard counts.stored > 0 || counts.remoteHits > 0 else { return notes }
        if let estimate = local.estimatedSize(adding: state.withLock({ $0.written })), estimate <= sizeLimit { return notes }
        var size = local.inventory().size
        if size > sizeLimit {
            let removal = local.trim(to: sizeLimit / 10 * 9)
            size -= removal.bytes
            if let note = removal.foreignNote { notes.append(note) }
        }
        local.measuredSize(size)
        return notes
    }
}
