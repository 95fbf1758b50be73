import SwbpfBasics

/// The record of the last build that found nothing to do, so that the next identical one can say so
/// by stat alone, before it loads the project, resolves the toolchain, plans or reads the state.
///
/// It holds a digest of everything the decision depended on that is not a file (the command line,
/// the environment, the working directory, the swbpf binary: `key`), and every path the decision
/// looked at with its signature (`FileObserver`): swbpf.toml and the project directory's listing,
/// the state, the tool answers and the notes shown, each tool and PATH directory the resolver
/// tried, every source, header and product the dirty check compared, and, for a header that must
/// stay absent, its directory. If any of them differs, the build takes the normal path, which is
/// exact; so the record is never less exact than the normal path, only faster.
///
/// One file per command line, `<output>/.swbpf/noop/<key>`, in a directory of its own so that
/// writing it never changes a directory the decision looked at.
public struct NoopRecord: Equatable, Sendable {
    package static let header = "swbpf-noop 2\n"
    package static let directoryName = "noop"

    public var key: Digest
    /// How many steps the build found up to date (the count its "nothing to do" line prints).
    public var upToDate: Int
    public var paths: [ObservedPath]

    public init(key: Digest, upToDate: Int, paths: [ObservedPath]) {
        self.key = key
        self.upToDate = upToDate
        self.paths = paths
    }

    public static func path(stateDirectory: String, key: Digest) -> String {
        FileSystem.join(FileSystem.join(stateDirectory, directoryName), key.description)
    }

    /// Whether every path still holds what the recorded build saw. Stops at the first change.
    public var isCurrent: Bool { paths.allSatisfy(\.isUnchanged) }

    /// The step count of the record for `key` in `stateDirectory` when there is one this swbpf
    /// wrote whole and every path in it is unchanged; nil otherwise. Checked where it lies in the
    /// file (each path is stat'ed from the bytes read, no string made), so the check costs little
    /// more than the stats.
    public static func upToDateCount(stateDirectory: String, key: Digest) -> Int? {
        guard case .contents(let bytes) = FileSystem.readRegularFile(path(stateDirectory: stateDirectory, key: key), limit: BuildState.sizeLimit)
        else { return nil }
        return upToDateCount(bytes, key: key)
    }

    static func upToDateCount(_ bytes: [UInt8], key: Digest) -> Int? {
        bytes.withUnsafeBytes { buffer -> Int? in
            var reader = RecordReader(buffer)
            guard let head = reader.head(), head.key == key, let base = buffer.baseAddress else { return nil }
            for _ in 0..<head.count {
                guard let entry = reader.entry(), entry.isUnchanged(at: base + entry.pathOffset) else { return nil }
            }
            return reader.atEnd ? head.upToDate : nil
        }
    }

    /// The record in `bytes`, nil when it is not one this swbpf wrote whole.
    public static func parse(_ bytes: [UInt8]) -> NoopRecord? {
        bytes.withUnsafeBytes { buffer -> NoopRecord? in
            var reader = RecordReader(buffer)
            guard let head = reader.head() else { return nil }
            var paths: [ObservedPath] = []
            for _ in 0..<head.count {
                guard let entry = reader.entry() else { return nil }
                let name = UnsafeRawBufferPointer(rebasing: buffer[entry.pathOffset..<entry.pathOffset + entry.pathLength])
                paths.append(ObservedPath(path: String(decoding: name, as: UTF8.self), followsLinks: entry.followsLinks, signature: entry.signature))
            }
            return reader.atEnd ? NoopRecord(key: head.key, upToDate: head.upToDate, paths: paths) : nil
        }
    }

    /// How many command lines keep a record: a new environment (another terminal) makes a new
    /// one, so the oldest beyond this are removed.
    package static let recordsKept = 8

    /// Writes the record into the records' directory (made with the output directories; the
    /// decision never reads it). It is only an accelerator, so the caller may ignore a failure.
    public func save(stateDirectory: String) throws {
        let directory = FileSystem.join(stateDirectory, Self.directoryName)
        // A link planted there would take the record, and the pruning, elsewhere.
        guard !FileSystem.isSymbolicLink(directory) else { return }
        try FileSystem.writeAtomically(Self.path(stateDirectory: stateDirectory, key: key), bytes)
        let records = (FileSystem.list(directory) ?? []).compactMap { name in
            FileSystem.stat(FileSystem.join(directory, name)).map { (name: name, mtime: $0.mtimeNanoseconds) }
        }
        for old in records.sorted(by: { $0.mtime > $1.mtime }).dropFirst(Self.recordsKept) {
            _ = FileSystem.remove(FileSystem.join(directory, old.name))
        }
    }

    // MARK: The file

    /// `swbpf-noop 2` and a newline, then in this machine's byte order: the key (two 64-bit
    /// words), the step count and the number of paths (64-bit), then per path a byte (bit 0: the
    /// path was followed, not lstat'ed; bit 1: something was there), then when something was, the
    /// device, inode, size, mtime and ctime in nanoseconds (64-bit) and mode (32-bit), then the
    /// path's length (32-bit) and the path with a NUL after it, so it can be stat'ed where it lies.
    /// Binary because the record is only ever read by the machine that wrote it (device and inode
    /// numbers mean nothing elsewhere), and parsing decimal text was most of the check's cost.
    public var bytes: [UInt8] {
        var out = Array(Self.header.utf8)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value) { out += $0 } }
        append(key.high)
        append(key.low)
        append(Int64(upToDate))
        append(Int64(paths.count))
        for observed in paths {
            append(UInt8((observed.followsLinks ? 1 : 0) | (observed.signature == nil ? 0 : 2)))
            if let signature = observed.signature {
                append(signature.device)
                append(signature.inode)
                append(signature.size)
                append(signature.mtimeNanoseconds)
                append(signature.ctimeNanoseconds)
                append(signature.mode)
            }
            let name = Array(observed.path.utf8)
            append(UInt32(name.count))
            out += name
            out.append(0)
        }
        return out
    }
}

/// Reads the binary record (`NoopRecord.bytes`), every length checked against the bytes there.
private struct RecordReader {
    struct Head {
        var key: Digest
        var upToDate: Int
        var count: Int
    }

    struct Entry {
        var followsLinks: Bool
        var signature: FileSignature?
        var pathOffset: Int
        var pathLength: Int

        /// Whether the path (NUL-terminated at `path`, in the record) still has the signature.
        func isUnchanged(at path: UnsafeRawPointer) -> Bool {
            FileSignature.of(path.assumingMemoryBound(to: CChar.self), followingLinks: followsLinks) == signature
        }
    }

    let buffer: UnsafeRawBufferPointer
    var position = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    var atEnd: Bool { position == buffer.count }

    mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard buffer.count - position >= MemoryLayout<T>.size else { return nil }
        defer { position += MemoryLayout<T>.size }
        return buffer.loadUnaligned(fromByteOffset: position, as: T.self)
    }

    mutating func head() -> Head? {
        let magic = Array(NoopRecord.header.utf8)
        guard buffer.count >= magic.count, buffer.prefix(magic.count).elementsEqual(magic) else { return nil }
        position = magic.count
        guard let high = read(UInt64.self), let low = read(UInt64.self), let upToDate = read(Int64.self), let count = read(Int64.self),
              upToDate >= 0, count >= 0, count <= buffer.count else { return nil }
        return Head(key: Digest(high: high, low: low), upToDate: Int(upToDate), count: Int(count))
    }

    mutating func entry() -> Entry? {
        guard let flags = read(UInt8.self), flags <= 3 else { return nil }
        var signature: FileSignature?
        if flags & 2 != 0 {
            guard let device = read(UInt64.self), let inode = read(UInt64.self), let size = read(Int64.self),
                  let mtime = read(Int64.self), let ctime = read(Int64.self), let mode = read(UInt32.self) else { return nil }
            signature = FileSignature(device: device, inode: inode, size: size, mtimeNanoseconds: mtime, ctimeNanoseconds: ctime, mode: mode)
        }
        guard let length = read(UInt32.self).map(Int.init), buffer.count - position > length, buffer[position + length] == 0 else { return nil }
        defer { position += length + 1 }
        return Entry(followsLinks: flags & 1 != 0, signature: signature, pathOffset: position, pathLength: length)
    }
}
