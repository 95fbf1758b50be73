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
    package static let header = "swbpf-noop 1"
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

    /// The record for `key` in `stateDirectory` if there is a readable one that is still current.
    public static func current(stateDirectory: String, key: Digest) -> NoopRecord? {
        guard case .contents(let bytes) = FileSystem.readRegularFile(path(stateDirectory: stateDirectory, key: key), limit: BuildState.sizeLimit),
              let record = parse(bytes), record.key == key, record.isCurrent else { return nil }
        return record
    }

    /// How many command lines keep a record: a new environment (another terminal) makes a new
    /// one, so the oldest beyond this are removed.
    package static let recordsKept = 8

    /// Writes the record into the records' directory (made with the output directories; the
    /// decision never reads it). It is only an accelerator, so the caller may ignore a failure.
    public func save(stateDirectory: String) throws {
        let directory = FileSystem.join(stateDirectory, Self.directoryName)
        try FileSystem.writeAtomically(Self.path(stateDirectory: stateDirectory, key: key), bytes)
        let records = (FileSystem.list(directory) ?? []).compactMap { name in
            FileSystem.stat(FileSystem.join(directory, name)).map { (name: name, mtime: $0.mtimeNanoseconds) }
        }
        for old in records.sorted(by: { $0.mtime > $1.mtime }).dropFirst(Self.recordsKept) {
            _ = FileSystem.remove(FileSystem.join(directory, old.name))
        }
    }

    // MARK: The file

    /// `swbpf-noop 1`, the key, the count, then one line per path: `f` (followed) or `l` (lstat),
    /// then the device, inode, size, mtime and ctime in nanoseconds and mode, or `-` when nothing
    /// was there, and the path; tab-separated.
    public var bytes: [UInt8] {
        var lines = [Self.header, key.description, String(upToDate)]
        for observed in paths {
            var fields = [observed.followsLinks ? "f" : "l"]
            if let signature = observed.signature {
                // Device and inode as the signed integers the reader takes (the same bits).
                fields += [String(Int64(bitPattern: signature.device)), String(Int64(bitPattern: signature.inode)),
                           String(signature.size), String(signature.mtimeNanoseconds),
                           String(signature.ctimeNanoseconds), String(signature.mode)]
            } else {
                fields.append("-")
            }
            fields.append(RecordText.escape(observed.path))
            lines.append(fields.joined(separator: "\t"))
        }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    /// The record in `bytes`, nil when it is not one this swbpf wrote whole.
    public static func parse(_ bytes: [UInt8]) -> NoopRecord? {
        bytes.withUnsafeBufferPointer { buffer -> NoopRecord? in
            var reader = LineReader(buffer)
            guard let first = reader.nextLine(), first.elementsEqual(header.utf8),
                  let keyLine = reader.nextLine(), let key = Digest(hex: keyLine),
                  let countLine = reader.nextLine(), let upToDate = BuildState.integer(countLine), upToDate >= 0 else { return nil }
            var paths: [ObservedPath] = []
            while let line = reader.nextLine() {
                var fields = FieldReader(line, separator: 0x09)
                guard let how = fields.next(), how.count == 1, how.first == UInt8(ascii: "f") || how.first == UInt8(ascii: "l"),
                      let first = fields.next() else { return nil }
                var signature: FileSignature?
                if !first.elementsEqual("-".utf8) {
                    guard let device = BuildState.integer(first), let inode = fields.next().flatMap(BuildState.integer),
                          let size = fields.next().flatMap(BuildState.integer), let mtime = fields.next().flatMap(BuildState.integer),
                          let ctime = fields.next().flatMap(BuildState.integer), let mode = fields.next().flatMap(BuildState.integer),
                          let mode = UInt32(exactly: mode) else { return nil }
                    signature = FileSignature(device: UInt64(bitPattern: device), inode: UInt64(bitPattern: inode), size: size,
                                              mtimeNanoseconds: mtime, ctimeNanoseconds: ctime, mode: mode)
                }
                guard let name = fields.next(), fields.atEnd else { return nil }
                paths.append(ObservedPath(path: RecordText.field(name), followsLinks: how.first == UInt8(ascii: "f"), signature: signature))
            }
            // A last line without its newline is a torn write: not a record.
            guard reader.position == buffer.count else { return nil }
            return NoopRecord(key: key, upToDate: Int(upToDate), paths: paths)
        }
    }
}
