import SwbpfBasics

/// What tools said about themselves (versions, clang's include directories, pkg-config's libbpf)
/// and what source trees say about themselves (a libbpf tree's version), so that a build whose
/// tools did not change asks none of them: a question costs a process, clang's tens of
/// milliseconds. One small file, `<output>/.swbpf/tools`, apart from the build state.
///
/// Each answer is filed under its subject (which tool, run how; which files read) with the
/// identity it was given for (the executable's stat data, or the files'): an answer whose identity
/// no longer matches is not used, and a fresh one replaces it, so the file holds one answer per
/// subject. A missing, unreadable or malformed file is an empty cache: the tools are asked again,
/// which costs time and never gives a wrong answer.
public struct ToolAnswers: Sendable {
    /// Where an answer is filed, and what it is valid for.
    public struct Key: Hashable, Sendable, CustomStringConvertible {
        /// What was asked: the tool's role, path and leading arguments, or the facts' name and files.
        public var subject: String
        /// The stat data the answer holds for: a rebuilt tool or an edited file is asked again.
        public var identity: String

        package init(subject: String, identity: String) {
            self.subject = subject
            self.identity = identity
        }

        public var description: String { "\(subject) (\(identity))" }
    }

    public static let fileName = "tools"
    package static let header = "swbpf-tools 1"
    /// Far more than any project's answers (a few KB); a larger file is not one swbpf wrote.
    package static let sizeLimit = 4 << 20

    private var answers: [String: (identity: String, values: [String])] = [:]

    public init() {}

    public var count: Int { answers.count }

    /// The answer for `key`, while its identity matches.
    public subscript(key: Key) -> [String]? {
        get {
            guard let answer = answers[key.subject], answer.identity == key.identity else { return nil }
            return answer.values
        }
        set { answers[key.subject] = newValue.map { (key.identity, $0) } }
    }

    /// The answers in `path`; empty when there are none usable.
    public static func load(path: String) -> ToolAnswers {
        guard case .contents(let bytes) = FileSystem.readRegularFile(path, limit: sizeLimit) else { return ToolAnswers() }
        return parse(bytes) ?? ToolAnswers()
    }

    /// Lines of `subject`, `identity` and the values, tab-separated; nil when malformed.
    package static func parse(_ bytes: [UInt8]) -> ToolAnswers? {
        bytes.withUnsafeBufferPointer { buffer -> ToolAnswers? in
            var reader = LineReader(buffer)
            guard let first = reader.nextLine(), String(decoding: first, as: UTF8.self) == header else { return nil }
            var parsed = ToolAnswers()
            while let line = reader.nextLine() {
                var fields = FieldReader(line, separator: 0x09)
                guard let subject = fields.next(), let identity = fields.next() else { return nil }
                var values: [String] = []
                while let value = fields.next() { values.append(RecordText.field(value)) }
                parsed[Key(subject: RecordText.field(subject), identity: RecordText.field(identity))] = values
            }
            return parsed
        }
    }

    package var bytes: [UInt8] {
        let lines = answers.sorted { $0.key < $1.key }.map { subject, answer in
            ([subject, answer.identity] + answer.values).map(RecordText.escape).joined(separator: "\t")
        }
        return Array(([Self.header] + lines).joined(separator: "\n").utf8 + [0x0A])
    }

    /// Adds `fresh` to the answers in `path` (as they are now: another build may have added its
    /// own since this one read them) and replaces the file atomically.
    public static func save(_ fresh: [(key: Key, values: [String])], to path: String) throws {
        guard !fresh.isEmpty else { return }
        var merged = load(path: path)
        for answer in fresh { merged[answer.key] = answer.values }
        try FileSystem.writeAtomically(path, merged.bytes)
    }
}
