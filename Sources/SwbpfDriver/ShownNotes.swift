import SwbpfBasics
import SwbpfBuild
import SwbpfModel

/// The notes a build shows only when what they say changes (which toolchain it uses and the trees
/// it passed over; which apps a bare build leaves out), as last shown: `<output>/.swbpf/announced`,
/// one line per subject. What the console said is neither a build record nor a tool's answer, so
/// it has a file of its own; a missing or malformed file means nothing was shown yet.
package struct ShownNotes {
    package static let fileName = "announced"
    package static let header = "swbpf-announced 1"

    private var texts: [String: String] = [:]
    /// Whether a subject's text changed since the file was read: then it is saved.
    package private(set) var changed = false

    package init() {}

    package static func load(project: Project) -> ShownNotes {
        guard case .contents(let bytes) = FileSystem.readRegularFile(path(of: project), limit: 1 << 16) else { return ShownNotes() }
        return parse(bytes) ?? ShownNotes()
    }

    /// Lines of a subject and its text, tab-separated; nil when malformed.
    package static func parse(_ bytes: [UInt8]) -> ShownNotes? {
        bytes.withUnsafeBufferPointer { buffer -> ShownNotes? in
            var reader = LineReader(buffer)
            guard let first = reader.nextLine(), String(decoding: first, as: UTF8.self) == header else { return nil }
            var parsed = ShownNotes()
            while let line = reader.nextLine() {
                var fields = FieldReader(line, separator: 0x09)
                guard let subject = fields.next(), let text = fields.next(), fields.next() == nil else { return nil }
                parsed.texts[RecordText.field(subject)] = RecordText.field(text)
            }
            return parsed
        }
    }

    package var bytes: [UInt8] {
        let lines = texts.sorted { $0.key < $1.key }.map { RecordText.escape($0.key) + "\t" + RecordText.escape($0.value) }
        return Array(([Self.header] + lines).joined(separator: "\n").utf8 + [0x0A])
    }

    /// The text last shown under `subject`.
    package subscript(subject: String) -> String? { texts[subject] }

    /// Reports `diagnostics` when they differ from what was last shown under `subject`, and
    /// records them. A subject never shown is reported only when `worthSaying` (a build with
    /// nothing notable to say stays silent); once shown, any change is reported.
    package mutating func report(_ diagnostics: [Diagnostic], as subject: String, worthSaying: Bool, to reporter: BuildReporter) {
        let text = diagnostics.map(\.rendered).joined(separator: "\n")
        let shown = texts[subject]
        guard shown != text, shown != nil || worthSaying else { return }
        diagnostics.forEach { reporter.handle(.diagnostic($0)) }
        texts[subject] = text
        changed = true
    }

    package func save(project: Project) throws {
        try FileSystem.writeAtomically(Self.path(of: project), bytes)
    }

    private static func path(of project: Project) -> String {
        FileSystem.join(OpenedProject.stateDirectory(of: project), fileName)
    }
}
