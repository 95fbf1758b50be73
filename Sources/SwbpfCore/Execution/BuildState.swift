import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What one finished step was built from, recorded only after its outputs were in place.
public struct StepRecord: Equatable, Sendable {
    public struct Input: Equatable, Sendable {
        public var path: String
        public var hash: String
        /// True for headers discovered through the compiler's depfile, false for declared inputs.
        public var discovered: Bool
    }
    public struct Output: Equatable, Sendable {
        public var path: String
        public var stat: FileStat
    }

    /// The step's primary output, which identifies it across builds.
    public var key: String
    public var toolRole: String
    public var toolVersion: String
    public var toolIdentity: String
    /// The command as printed (without swbpf's own depfile flags).
    public var command: [String]
    public var inputs: [Input]
    public var outputs: [Output]
}

/// The build state: one append-only, versioned text file in `<output>/.swbpf/state`.
///
/// Lines are `F` (a file's stat data and content hash), `S` (a step record) and `T` (a cached tool
/// query). A step's lines are appended in one write after its outputs are renamed into place, so a
/// build killed at any instant leaves a state that is either silent about that step (it reruns) or
/// correct. Later lines win; the file is rewritten compactly when it has grown too long.
public final class BuildState: @unchecked Sendable {
    public static let formatVersion = 1
    static let header = "swbpf-state \(formatVersion)"

    public struct FileRecord: Equatable, Sendable {
        public var stat: FileStat
        public var hash: String
    }

    public let path: String
    public private(set) var files: [String: FileRecord] = [:]
    public private(set) var steps: [String: StepRecord] = [:]
    public private(set) var probes: [String: [String]] = [:]
    /// False when there was no state file (a first build, or a deleted output directory).
    public private(set) var existed = false
    /// Set when the file could not be used; the build then starts from nothing.
    public private(set) var warning: String?
    private var lineCount = 0
    private var pending: [String] = []

    public init(path: String) {
        self.path = path
    }

    /// Reads the state file. A missing file is a first build; an unreadable, corrupt or
    /// future-version file gives a warning and an empty state (so everything rebuilds).
    public static func load(path: String) -> BuildState {
        let state = BuildState(path: path)
        guard let bytes = FileSystem.read(path) else { return state }
        state.existed = true
        if let problem = state.parse(bytes) {
            state.warning = "warning: ignoring build state \(path): \(problem); rebuilding everything"
            state.files = [:]
            state.steps = [:]
            state.probes = [:]
            state.lineCount = 0
        }
        return state
    }

    /// Parses the file on bytes: every no-op build pays for this, so it makes no String for
    /// anything but the paths and words it keeps.
    private func parse(_ bytes: [UInt8]) -> String? {
        var lines = Self.split(bytes[...], on: 0x0A)
        // A build killed while appending leaves a last line without its newline: drop it (when the
        // file ends with a newline, the last piece is empty and goes too).
        lines.removeLast()
        guard let first = lines.first else { return "it is empty" }
        let headerLine = String(decoding: first, as: UTF8.self)
        guard headerLine.hasPrefix("swbpf-state ") else { return "it is not a swbpf state file" }
        guard headerLine == Self.header else {
            return "it has format '\(headerLine.dropFirst(12))', this swbpf reads \(Self.formatVersion)"
        }
        for (number, line) in lines.enumerated().dropFirst() {
            let fields = Self.split(line, on: 0x09)
            switch (fields.first?.first, fields.count) {
            case (UInt8(ascii: "F"), 6):
                guard let size = Self.integer(fields[2]), let mtime = Self.integer(fields[3]),
                      let inode = Self.integer(fields[4]) else { return "line \(number + 1) is malformed" }
                files[Self.atom(fields[1])] = FileRecord(stat: FileStat(size: size, mtimeNanoseconds: mtime, inode: UInt64(inode)),
                                                         hash: Self.atom(fields[5]))
            case (UInt8(ascii: "T"), 2...):
                probes[Self.atom(fields[1])] = fields[2...].map(Self.atom)
            case (UInt8(ascii: "S"), 8):
                guard let record = Self.decodeStep(fields) else { return "line \(number + 1) is malformed" }
                steps[record.key] = record
            default:
                return "line \(number + 1) is malformed"
            }
        }
        lineCount = lines.count
        return nil
    }

    private static func split(_ bytes: ArraySlice<UInt8>, on separator: UInt8) -> [ArraySlice<UInt8>] {
        bytes.split(separator: separator, omittingEmptySubsequences: false)
    }

    /// A decimal integer (optionally negative) written by this file's writer.
    private static func integer(_ bytes: ArraySlice<UInt8>) -> Int64? {
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

    /// One field: its bytes, percent-decoded where the writer escaped a separator.
    private static func atom(_ bytes: ArraySlice<UInt8>) -> String {
        guard bytes.contains(0x25) else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == 0x25, index + 2 < bytes.endIndex,
               let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                out.append(value)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func decodeStep(_ fields: [ArraySlice<UInt8>]) -> StepRecord? {
        func items(_ field: ArraySlice<UInt8>, _ separator: UInt8) -> [ArraySlice<UInt8>] {
            field.isEmpty ? [] : split(field, on: separator)
        }
        var inputs: [StepRecord.Input] = []
        for entry in items(fields[6], 0x1E) {
            let parts = items(entry, 0x1F)
            guard parts.count == 3 else { return nil }
            inputs.append(.init(path: atom(parts[0]), hash: atom(parts[1]), discovered: parts[2].first == UInt8(ascii: "h")))
        }
        var outputs: [StepRecord.Output] = []
        for entry in items(fields[7], 0x1E) {
            let parts = items(entry, 0x1F)
            guard parts.count == 4, let size = integer(parts[1]), let mtime = integer(parts[2]), let inode = integer(parts[3]) else {
                return nil
            }
            outputs.append(.init(path: atom(parts[0]), stat: FileStat(size: size, mtimeNanoseconds: mtime, inode: UInt64(inode))))
        }
        return StepRecord(key: atom(fields[1]), toolRole: atom(fields[2]), toolVersion: atom(fields[3]),
                          toolIdentity: atom(fields[4]), command: items(fields[5], 0x1F).map(atom),
                          inputs: inputs, outputs: outputs)
    }

    // MARK: Content hashes, computed only when stat data changed

    /// The content hash of `path` now, or nil when it does not exist. Reuses the recorded hash while
    /// the stat data matches; otherwise hashes the file and remembers the new stat data, so that a
    /// `touch` costs one hash once and nothing after.
    public func currentHash(of path: String, stat: FileStat? = nil) -> String? {
        guard let stat = stat ?? FileSystem.stat(path) else { return nil }
        if let known = files[path], known.stat.sameVersion(as: stat) { return known.hash }
        guard let hash = ContentHash.of(file: path) else { return nil }
        files[path] = FileRecord(stat: stat, hash: hash)
        pending.append(Self.fileLine(path, files[path]!))
        return hash
    }

    // MARK: Tool queries

    public func probe(_ key: String) -> [String]? { probes[key] }

    public func storeProbe(_ key: String, _ values: [String]) {
        probes[key] = values
        pending.append(Self.probeLine(key, values))
    }

    // MARK: Writing

    /// Records a finished step and appends it, with any refreshed file records, in one write.
    public func record(_ record: StepRecord) throws {
        steps[record.key] = record
        pending.append(Self.stepLine(record))
        try flush()
    }

    /// Forgets a step, so that it reruns (used when its outputs are removed).
    public func forget(stepKey: String) { steps[stepKey] = nil }

    /// Appends whatever is not yet on disk; rewrites the file compactly when most of it is stale.
    public func flush() throws {
        guard !pending.isEmpty || needsRewrite else { return }
        let live = files.count + steps.count + probes.count + 1
        if !FileSystem.exists(path) || needsRewrite || lineCount > 2 * live + 64 {
            try rewrite()
            return
        }
        let text = pending.joined(separator: "\n") + "\n"
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { try rewrite(); return }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw SwbpfError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        lineCount += pending.count
        pending.removeAll()
    }

    private var needsRewrite: Bool { warning != nil && existed }

    private func rewrite() throws {
        var lines = [Self.header]
        for (path, record) in files.sorted(by: { $0.key < $1.key }) { lines.append(Self.fileLine(path, record)) }
        for (key, values) in probes.sorted(by: { $0.key < $1.key }) { lines.append(Self.probeLine(key, values)) }
        for record in steps.values.sorted(by: { $0.key < $1.key }) { lines.append(Self.stepLine(record)) }
        try FileSystem.writeAtomically(path, Array((lines.joined(separator: "\n") + "\n").utf8))
        lineCount = lines.count
        pending.removeAll()
        warning = nil
        existed = true
    }

    private static func stepLine(_ record: StepRecord) -> String {
        let inputs = record.inputs.map { "\(escape($0.path))\u{1f}\($0.hash)\u{1f}\($0.discovered ? "h" : "i")" }
        let outputs = record.outputs.map {
            "\(escape($0.path))\u{1f}\($0.stat.size)\u{1f}\($0.stat.mtimeNanoseconds)\u{1f}\($0.stat.inode)"
        }
        return ["S", escape(record.key), escape(record.toolRole), escape(record.toolVersion), escape(record.toolIdentity),
                record.command.map(escape).joined(separator: "\u{1f}"), inputs.joined(separator: "\u{1e}"),
                outputs.joined(separator: "\u{1e}")].joined(separator: "\t")
    }

    private static func probeLine(_ key: String, _ values: [String]) -> String {
        (["T", key] + values).map(escape).joined(separator: "\t")
    }

    private static func fileLine(_ path: String, _ record: FileRecord) -> String {
        ["F", escape(path), String(record.stat.size), String(record.stat.mtimeNanoseconds), String(record.stat.inode), record.hash]
            .joined(separator: "\t")
    }

    // MARK: Escaping: tabs, newlines and the two item separators are percent-encoded in every atom.

    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x25 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0x1E || $0 == 0x1F })
        else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "%", "\t", "\n", "\r", "\u{1e}", "\u{1f}":
                out += "%" + String(format: "%02X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
