/// What swbpf reads out of a kernel verifier log: the statistics (log level 4), the message the
/// verifier stopped with, and the source line it was checking, from the `; <code> @ file.bpf.c:23`
/// lines the kernel prints when the object carries BTF line info.
public struct VerifierLog: Sendable, Equatable {
    /// A line of the program's source, as the verifier quoted it.
    public struct SourceLine: Sendable, Equatable, Codable {
        /// The file's base name (the kernel prints no directory).
        public var file: String
        public var line: Int
        public var text: String

        package init(file: String, line: Int, text: String) {
            self.file = file
            self.line = line
            self.text = text
        }
    }

    public var instructionsProcessed: Int?
    public var peakStates: Int?
    public var totalStates: Int?
    public var verificationMicroseconds: Int?
    /// Bytes of stack per function, as the verifier counts them (`stack depth 16+32`): the
    /// program first, then each subprogram it calls.
    public var stackDepth: [Int]?
    /// The first line of the verifier's complaint, for a refused program.
    public var message: String?
    /// The lines after it that belong to the complaint (`R1 max value is outside of the allowed
    /// memory range`, `cur state: ...`).
    public var details: [String] = []
    /// The last source line quoted before the complaint: where the verifier stopped.
    public var source: SourceLine?
    /// The log's last lines before the statistics, for the report.
    public var lastLines: [String] = []

    public init(_ text: String, refused: Bool) {
        var body: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("processed "), line.contains(" insns") {
                instructionsProcessed = Self.number(after: "processed ", in: line)
                peakStates = Self.number(after: "peak_states ", in: line)
                totalStates = Self.number(after: "total_states ", in: line)
            } else if line.hasPrefix("verification time ") {
                verificationMicroseconds = Self.number(after: "verification time ", in: line)
            } else if line.hasPrefix("stack depth ") {
                stackDepth = line.dropFirst("stack depth ".count).split(separator: "+").compactMap { Int($0.trimmed([" "])) }
            } else if !Self.isNoise(line) {
                body.append(line)
            }
        }
        lastLines = body.suffix(12).map(String.init)
        guard refused else { return }
        // The complaint is what follows the last instruction, state or source line.
        let start = body.lastIndex(where: Self.isTrace).map { $0 + 1 } ?? 0
        let complaint = body[start...].map(String.init)
        message = complaint.first
        details = Array(complaint.dropFirst())
        source = body[..<start].last(where: { $0.hasPrefix("; ") }).flatMap(Self.sourceLine)
    }

    /// `; value = arr[idx]; @ file.bpf.c:23` as its parts.
    package static func sourceLine(_ line: Substring) -> SourceLine? {
        guard let at = line.ranges(of: " @ ").last else { return nil }
        let location = line[at.upperBound...]
        guard let colon = location.lastIndex(of: ":"), let number = Int(location[location.index(after: colon)...]) else { return nil }
        return SourceLine(file: String(location[..<colon]), line: number, text: line[line.index(line.startIndex, offsetBy: 2)..<at.lowerBound].trimmed())
    }

    /// An instruction (`12: (79) r2 = ...`), a state (`12: R0=...`), a source line (`; ...`) or
    /// a branch note (`from 5 to 11: ...`): the verifier's trace, as opposed to its complaint.
    package static func isTrace(_ line: Substring) -> Bool {
        if line.hasPrefix("; ") || line.hasPrefix("from ") { return true }
        guard let colon = line.firstIndex(of: ":"), !line[..<colon].isEmpty else { return false }
        return line[..<colon].allSatisfy(\.isNumber)
    }

    /// Lines of the verifier's own bookkeeping that say nothing about the program's fault.
    package static func isNoise(_ line: Substring) -> Bool {
        line.hasPrefix("mark_precise:") || line.hasPrefix("(0) frame ") || line.hasPrefix("(0) live stack")
            || line.hasPrefix("Live regs before insn:") || line.hasPrefix("      ") || line.hasPrefix("func#")
            || line.hasPrefix("arg#") || line.hasPrefix("Validating ") || line.hasPrefix("Func#")
    }

    package static func number(after prefix: String, in line: Substring) -> Int? {
        guard let range = line.firstRange(of: prefix) else { return nil }
        return Int(line[range.upperBound...].prefix(while: \.isNumber))
    }
}
