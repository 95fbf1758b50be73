import FoundationEssentials
import SwbpfBasics
#if canImport(Glibc)
import Glibc
#endif


/// What one finished step was built from, recorded only after its outputs were in place.
public struct StepRecord: Equatable, Sendable {
    public enum InputKind: Equatable, Sendable {
        /// Named by the step (its sources and objects).
        case declared
        /// A header the compiler said it read (its depfile).
        case discovered
        /// A file that did not exist when the step ran and would change what it reads if it
        /// appeared: a header of the same name earlier on the include path.
        case mustStayAbsent
        /// A source tree read as a whole (`Step.treeInputs`); its digest is the tree's fingerprint.
        case tree
    }

    public struct Input: Equatable, Sendable {
        public var path: String
        public var digest: Digest
        public var kind: InputKind
        public var discovered: Bool { kind == .discovered }

        package init(path: String, digest: Digest, kind: InputKind) {
            self.path = path
            self.digest = digest
            self.kind = kind
        }
    }
    public struct Output: Equatable, Sendable {
        public var path: String
        public var stat: FileStat

        package init(path: String, stat: FileStat) {
            self.path = path
            self.stat = stat
        }
    }

    /// The step's primary output, which identifies it across builds.
    public var key: String
    public var toolRole: String
    public var toolVersion: String
    public var toolIdentity: String
    /// The command as printed (without swbpf's own depfile flags), words joined by U+001F.
    public var commandLine: String
    public var inputs: [Input]
    public var outputs: [Output]

    public var command: [String] { commandLine.split(separator: "\u{1f}", omittingEmptySubsequences: false).map(String.init) }

    package static func commandLine(_ words: [String]) -> String { words.joined(separator: "\u{1f}") }

    package init(key: String, toolRole: String, toolVersion: String, toolIdentity: String, commandLine: String, inputs: [Input], outputs: [Output]) {
        self.key = key
        self.toolRole = toolRole
        self.toolVersion = toolVersion
        self.toolIdentity = toolIdentity
        self.commandLine = commandLine
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// The build state: one append-only, versioned text file in `<output>/.swbpf/state`.
///
/// Lines are `P` (a path and its number; other lines refer to paths by number), `F` (a file's stat
/// data and content digest) and `S` (a step record). Tool answers are not kept here (`ToolAnswers`
/// has its own file); the `T` lines that held them in files written before are skipped, and the
/// next write leaves them out. A step's lines are
/// appended in one write after its outputs are renamed into place, so a build killed at any instant
/// leaves a state that is either silent about that step (it reruns) or correct. Later lines win;
/// the file is rewritten compactly when most of it is stale.
public final class BuildState: @unchecked Sendable {
    /// 2: paths are numbered (`P` lines) and digests are 32 hex digits. 3: inputs that must stay
    /// absent (`a`), for headers that would shadow the ones a compile read. 4: source trees read
    /// as a whole (`t`).
    public static let formatVersion = 4
    package static let header = "swbpf-state \(formatVersion)"

    public struct FileRecord: Equatable, Sendable {
        public var stat: FileStat
        public var digest: Digest

        package init(stat: FileStat, digest: Digest) {
            self.stat = stat
            self.digest = digest
        }
    }

    public let path: String
    public private(set) var files: [String: FileRecord] = [:]
    public private(set) var steps: [String: StepRecord] = [:]
    /// False when there was no state file (a first build, or a deleted output directory).
    public private(set) var existed = false
    /// Whether a state file existed when the build started (unlike `existed`, never changes).
    public private(set) var existedAtStart = false
    /// The file ends in a line torn by a killed build: appending after it would merge the two, so
    /// the next write rewrites the file instead.
    private var tornTail = false
    /// A record was dropped: only a rewrite can say so.
    private var mustRewrite = false
    /// Set when the file could not be used; the build then starts from nothing.
    public private(set) var warning: String?
    /// The numbered paths of the file (`P` lines), by number.
    private var numberedPaths: [String] = []
    /// Their numbers by path: built only when a line is written, so reading costs no hashing.
    private var pathNumbers: [String: Int] = [:]
    private var lineCount = 0
    private var pending: [String] = []

    public init(path: String) {
        self.path = path
    }

    /// The largest state file swbpf reads. A state grows by about 6 KB per app (measured: 21 KB
    /// for one app, 66 KB for eight, most of it the headers their compiles read), so 256 MiB is
    /// some forty thousand apps; a larger file is not a state swbpf wrote (a sparse file, say), and
    /// reading it whole could exhaust memory.
    package static let sizeLimit = 256 << 20

    /// Reads the state file. A missing file is a first build; an unreadable, corrupt or
    /// future-version file, or one that is not a regular file of a sane size (a symbolic link, a
    /// FIFO, a sparse giant), gives a warning and an empty state (so everything rebuilds), and the
    /// first write replaces it with a regular file.
    public static func load(path: String) -> BuildState {
        let state = BuildState(path: path)
        let bytes: [UInt8]
        switch FileSystem.readRegularFile(path, limit: sizeLimit) {
        case .missing: return state
        case .contents(let contents): bytes = contents
        case .refused(let reason): bytes = []; state.warning = warning(path: path, problem: reason)
        }
        state.existed = true
        state.existedAtStart = true
        state.tornTail = bytes.last != 0x0A
        if state.warning != nil { return state }
        if let problem = state.parse(bytes) {
            state.warning = warning(path: path, problem: problem)
            state.files = [:]
            state.steps = [:]
            state.pathNumbers = [:]
            state.numberedPaths = []
            state.lineCount = 0
        }
        return state
    }

    private static func warning(path: String, problem: String) -> String {
        "ignoring build state \(path): \(problem); rebuilding everything"
    }

    // MARK: Reading

    /// Parses the file. Every no-op build pays for this, so it walks the bytes once with a cursor:
    /// no array per line or field, each path becomes a String once whatever the number of steps
    /// that name it, and digests are never strings.
    private func parse(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = LineReader(buffer)
            guard let header = reader.nextLine() else { return "it is empty" }
            let headerLine = String(decoding: header, as: UTF8.self)
            guard headerLine.hasPrefix("swbpf-state ") else { return "it is not a swbpf state file" }
            guard headerLine == Self.header else {
                return "it has format '\(headerLine.dropFirst(12))', this swbpf reads \(Self.formatVersion)"
            }
            var paths: [String] = []
            var number = 1
            // A line without its newline was torn by a build killed while appending: nextLine drops it.
            while let line = reader.nextLine() {
                number += 1
                guard parseLine(line, paths: &paths) else { return "line \(number) is malformed" }
            }
            numberedPaths = paths
            lineCount = number
            return nil
        }
    }

    private func parseLine(_ line: UnsafeBufferPointer<UInt8>.SubSequence, paths: inout [String]) -> Bool {
        var fields = FieldReader(line, separator: 0x09)
        guard let kind = fields.next(), kind.count == 1 else { return false }
        func path(_ field: UnsafeBufferPointer<UInt8>.SubSequence?) -> String? {
            guard let field, let id = Self.integer(field), id >= 0, Int(id) < paths.count else { return nil }
            return paths[Int(id)]
        }
        switch kind.first {
        case UInt8(ascii: "P"):
            guard let id = fields.next().flatMap(Self.integer), Int(id) == paths.count, let text = fields.next(), fields.atEnd
            else { return false }
            let name = RecordText.field(text)
            paths.append(name)
        case UInt8(ascii: "F"):
            guard let name = path(fields.next()), let size = fields.next().flatMap(Self.integer),
                  let mtime = fields.next().flatMap(Self.integer), let inode = fields.next().flatMap(Self.integer),
                  let digest = fields.next().flatMap(Digest.init(hex:)), fields.atEnd else { return false }
            files[name] = FileRecord(stat: FileStat(size: size, mtimeNanoseconds: mtime, inode: UInt64(inode)), digest: digest)
        case UInt8(ascii: "T"):
            guard fields.next() != nil else { return false }
            mustRewrite = true
        case UInt8(ascii: "S"):
            guard let key = path(fields.next()), let role = fields.next(), let version = fields.next(),
                  let identity = fields.next(), let command = fields.next(), let inputField = fields.next(),
                  let outputField = fields.next(), fields.atEnd else { return false }
            var inputs: [StepRecord.Input] = []
            var entries = FieldReader(inputField, separator: 0x1E)
            while let entry = entries.next() {
                var parts = FieldReader(entry, separator: 0x1F)
                guard let name = path(parts.next()), let digest = parts.next().flatMap(Digest.init(hex:)),
                      let flag = parts.next(), parts.atEnd else { return false }
                let kind: StepRecord.InputKind
                switch flag.first {
                case UInt8(ascii: "i"): kind = .declared
                case UInt8(ascii: "h"): kind = .discovered
                case UInt8(ascii: "a"): kind = .mustStayAbsent
                case UInt8(ascii: "t"): kind = .tree
                default: return false
                }
                inputs.append(.init(path: name, digest: digest, kind: kind))
            }
            var outputs: [StepRecord.Output] = []
            entries = FieldReader(outputField, separator: 0x1E)
            while let entry = entries.next() {
                var parts = FieldReader(entry, separator: 0x1F)
                guard let name = path(parts.next()), let size = parts.next().flatMap(Self.integer),
                      let mtime = parts.next().flatMap(Self.integer), let inode = parts.next().flatMap(Self.integer), parts.atEnd
                else { return false }
                outputs.append(.init(path: name, stat: FileStat(size: size, mtimeNanoseconds: mtime, inode: UInt64(inode))))
            }
            steps[key] = StepRecord(key: key, toolRole: RecordText.field(role), toolVersion: RecordText.field(version),
                                    toolIdentity: RecordText.field(identity), commandLine: Self.commandLine(command),
                                    inputs: inputs, outputs: outputs)
        default:
            return false
        }
        return true
    }

    /// The stored command: words separated by U+001F, each percent-decoded.
    private static func commandLine(_ field: UnsafeBufferPointer<UInt8>.SubSequence) -> String {
        guard field.contains(0x25) else { return String(decoding: field, as: UTF8.self) }
        var words: [String] = []
        var reader = FieldReader(field, separator: 0x1F)
        while let word = reader.next() { words.append(RecordText.field(word)) }
        return words.joined(separator: "\u{1f}")
    }

    /// A decimal integer (optionally negative), as this file's writer prints them.
    private static func integer<C: Collection>(_ bytes: C) -> Int64? where C.Element == UInt8 {
        var value: Int64 = 0
        var negative = false
        var digits = 0
        for byte in bytes {
            if byte == UInt8(ascii: "-") && digits == 0 && !negative { negative = true; continue }
            guard byte >= 48 && byte <= 57 else { return nil }
            value = value &* 10 &+ Int64(byte - 48)
            digits += 1
        }
        return digits > 0 ? (negative ? -value : value) : nil
    }

    // MARK: Content digests, computed only when stat data changed

    /// The content digest of `path` now, or nil when it does not exist. Reuses the recorded digest
    /// while the stat data matches; otherwise hashes the file and remembers the new stat data, so
    /// that a `touch` costs one hash once and nothing after.
    public func currentDigest(of path: String, stat: FileStat? = nil, files fileSystem: BuildFileSystem) -> Digest? {
        guard let stat = stat ?? fileSystem.stat(path) else { return nil }
        if let known = files[path], known.stat.sameVersion(as: stat) { return known.digest }
        guard let digest = fileSystem.digest(path) else { return nil }
        let record = FileRecord(stat: stat, digest: digest)
        files[path] = record
        pending.append(fileLine(path, record))
        return digest
    }

    /// Records the digest of a file swbpf just wrote from bytes it had hashed already (an output
    /// restored from the cache, checked against its SHA-256), so that it is not read again.
    public func remember(_ path: String, stat: FileStat, digest: Digest) {
        let record = FileRecord(stat: stat, digest: digest)
        files[path] = record
        pending.append(fileLine(path, record))
    }

    // MARK: Writing

    /// Records a finished step and appends it, with any refreshed file records, in one write.
    public func record(_ record: StepRecord) throws {
        steps[record.key] = record
        pending.append(stepLine(record))
        try flush()
    }

    /// Drops the record of the step that made `path` (the file was removed as stale or cleaned).
    /// The state file is rewritten at the next flush, since appended lines can only add.
    public func forgetOutput(_ path: String) {
        for (key, record) in steps where record.outputs.contains(where: { $0.path == path }) {
            steps[key] = nil
            mustRewrite = true
        }
    }

    /// Appends whatever is not yet on disk; rewrites the file compactly when most of it is stale.
    public func flush() throws {
        let stale = (warning != nil && existed) || mustRewrite
        guard !pending.isEmpty || stale else { return }
        let live = numberedPaths.count + files.count + steps.count + 1
        if !FileSystem.exists(path) || stale || tornTail || lineCount > 2 * live + 64 {
            try rewrite()
            return
        }
        let bytes = Array((pending.joined(separator: "\n") + "\n").utf8)
        // Never through a symbolic link, nor blocking on a FIFO: what cannot be appended to is
        // replaced by the rewrite's rename.
        let fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { try rewrite(); return }
        defer { close(fd) }
        // One write per flush (unless the disk fills): a crash leaves at most one torn last line,
        // which the reader drops and the next flush rewrites.
        do { try FileSystem.writeAll(bytes, to: fd, path: path) } catch {
            tornTail = true
            throw error
        }
        lineCount += pending.count
        pending.removeAll()
    }

    private func rewrite() throws {
        pathNumbers = [:]
        numberedPaths = []
        pending = []
        var body: [String] = []
        for (path, record) in files.sorted(by: { $0.key < $1.key }) { body.append(fileLine(path, record)) }
        for record in steps.values.sorted(by: { $0.key < $1.key }) { body.append(stepLine(record)) }
        // Numbering paths above queued their P lines in `pending`; they must come before their uses.
        let lines = [Self.header] + pending + body
        try FileSystem.writeAtomically(path, Array((lines.joined(separator: "\n") + "\n").utf8))
        lineCount = lines.count
        pending.removeAll()
        warning = nil
        existed = true
        tornTail = false
        mustRewrite = false
    }

    /// The number of `path`, declaring it (a queued `P` line) the first time it is used.
    private func number(of path: String) -> Int {
        if pathNumbers.isEmpty, !numberedPaths.isEmpty {
            for (id, name) in numberedPaths.enumerated() { pathNumbers[name] = id }
        }
        if let known = pathNumbers[path] { return known }
        let id = numberedPaths.count
        numberedPaths.append(path)
        pathNumbers[path] = id
        pending.append("P\t\(id)\t\(RecordText.escape(path))")
        return id
    }

    private func stepLine(_ record: StepRecord) -> String {
        let inputs = record.inputs.map { input -> String in
            let flag: String
            switch input.kind {
            case .declared: flag = "i"
            case .discovered: flag = "h"
            case .mustStayAbsent: flag = "a"
            case .tree: flag = "t"
            }
            return "\(number(of: input.path))\u{1f}\(input.digest)\u{1f}\(flag)"
        }
        let outputs = record.outputs.map {
            "\(number(of: $0.path))\u{1f}\($0.stat.size)\u{1f}\($0.stat.mtimeNanoseconds)\u{1f}\($0.stat.inode)"
        }
        let command = record.command.map(RecordText.escape).joined(separator: "\u{1f}")
        return ["S", String(number(of: record.key)), RecordText.escape(record.toolRole), RecordText.escape(record.toolVersion),
                RecordText.escape(record.toolIdentity), command, inputs.joined(separator: "\u{1e}"),
                outputs.joined(separator: "\u{1e}")].joined(separator: "\t")
    }

    private func fileLine(_ path: String, _ record: FileRecord) -> String {
        ["F", String(number(of: path)), String(record.stat.size), String(record.stat.mtimeNanoseconds),
         String(record.stat.inode), record.digest.description].joined(separator: "\t")
    }
}
