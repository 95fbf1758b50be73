/// The Makefile-syntax dependency files that `-MD -MF` makes clang and gcc write.
///
/// The syntax is make's, as gcc's and clang's writers quote names for it:
/// - any number of rules `target...: prerequisite...`, one per logical line; a rule without
///   prerequisites (`header.h:`, what `-MP` adds for every header) is phony and gives nothing;
/// - a backslash before a newline (LF or CRLF) continues the line;
/// - a space or tab after 2N+1 backslashes is N backslashes and a space inside the name; after 2N
///   backslashes it is N backslashes and the end of the name (GNU make's rule, which gcc follows);
/// - `\#` is `#`, an unescaped `#` starts a comment, `$$` is `$`;
/// - the targets end at a `:` followed by a blank or the end of the line; any other `:` is part
///   of a name (gcc and clang do not escape colons: `dir/a:b.h:` is a phony rule for `dir/a:b.h`);
/// - every other backslash is an ordinary character.
public struct Depfile: Equatable, Sendable {
    public struct Rule: Equatable, Sendable {
        public var targets: [String]
        public var prerequisites: [String]

        public init(targets: [String], prerequisites: [String]) {
            self.targets = targets
            self.prerequisites = prerequisites
        }

        public var isPhony: Bool { prerequisites.isEmpty }
    }

    public struct SyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The line (1-based, counting physical lines) where the rule that does not parse starts.
        public var line: Int
        public var message: String

        public var description: String { "line \(line): \(message)" }

        package init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }

    public var rules: [Rule]

    public init(rules: [Rule]) {
        self.rules = rules
    }

    public init(parsing text: String) throws(SyntaxError) {
        var parser = Parser(Array(text.utf8))
        rules = try parser.rules()
    }

    /// The prerequisites of the rules that name `target`, or of every rule when `target` is nil or
    /// no rule names it; each once, in order of first appearance. Phony rules contribute nothing.
    public func dependencies(of target: String? = nil) -> [String] {
        let named = target.map { target in rules.filter { $0.targets.contains(target) } } ?? []
        var seen = Set<String>()
        var result: [String] = []
        for rule in named.isEmpty ? rules : named {
            for prerequisite in rule.prerequisites where seen.insert(prerequisite).inserted { result.append(prerequisite) }
        }
        return result
    }

    /// What a step read, from the depfile its compiler wrote. A depfile that does not parse (no
    /// compiler writes one, but a truncated file could) yields every name in it: the step may then
    /// run again needlessly, but it can never miss a header change.
    public static func dependencies(in text: String) -> [String] {
        do {
            return try Depfile(parsing: text).dependencies()
        } catch {
            var parser = Parser(Array(text.utf8))
            var seen = Set<String>()
            return parser.allNames().filter { seen.insert($0).inserted }
        }
    }
}

/// A single pass over the bytes: names are byte strings until the end, so UTF-8 passes through.
private struct Parser {
    private let bytes: [UInt8]
    private var position = 0
    private var line = 1

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// What ends a name, and what the parser saw there.
    private enum Delimiter {
        case blank, colon, lineEnd, end
    }

    private enum Byte {
        static let backslash = UInt8(ascii: "\\"), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        static let newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
        static let hash = UInt8(ascii: "#"), dollar = UInt8(ascii: "$"), colon = UInt8(ascii: ":")
    }

    mutating func rules() throws(Depfile.SyntaxError) -> [Depfile.Rule] {
        var rules: [Depfile.Rule] = []
        var targets: [String] = []
        var prerequisites: [String] = []
        var inPrerequisites = false
        var ruleLine = 1
        while true {
            if targets.isEmpty && !inPrerequisites { ruleLine = line }
            let (name, delimiter) = nextName(colonEndsTargets: !inPrerequisites)
            if let name { if inPrerequisites { prerequisites.append(name) } else { targets.append(name) } }
            switch delimiter {
            case .blank:
                continue
            case .colon:
                guard !targets.isEmpty else {
                    throw Depfile.SyntaxError(line: ruleLine, message: "a rule with no target before ':'")
                }
                inPrerequisites = true
            case .lineEnd, .end:
                if inPrerequisites {
                    rules.append(Depfile.Rule(targets: targets, prerequisites: prerequisites))
                } else if !targets.isEmpty {
                    let names = targets.joined(separator: " ")
                    throw Depfile.SyntaxError(line: ruleLine, message: "expected ':' after '\(names)'")
                }
                targets = []
                prerequisites = []
                inPrerequisites = false
                if delimiter == .end { return rules }
            }
        }
    }

    /// Every name, targets and prerequisites alike, whatever the rules look like.
    mutating func allNames() -> [String] {
        var names: [String] = []
        while true {
            let (name, delimiter) = nextName(colonEndsTargets: true)
            if let name { names.append(name) }
            if delimiter == .end { return names }
        }
    }

    /// The next name (nil when only blanks, a comment or a continuation came first) and what ended it.
    private mutating func nextName(colonEndsTargets: Bool) -> (String?, Delimiter) {
        var name: [UInt8] = []
        func result(_ delimiter: Delimiter) -> (String?, Delimiter) {
            (name.isEmpty ? nil : String(decoding: name, as: UTF8.self), delimiter)
        }
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case Byte.space, Byte.tab:
                position += 1
                if !name.isEmpty { return result(.blank) }
            case Byte.newline:
                position += 1
                line += 1
                return result(.lineEnd)
            case Byte.carriageReturn:
                // CRLF ends a line; a lone CR is a blank.
                position += 1
                if position < bytes.count, bytes[position] == Byte.newline { continue }
                if !name.isEmpty { return result(.blank) }
            case Byte.colon where colonEndsTargets && endsTargets(colonAt: position):
                position += 1
                return result(.colon)
            case Byte.hash:
                skipComment()
            case Byte.dollar:
                // `$$` is one `$`; a lone `$` is kept as it is.
                name.append(byte)
                position += position + 1 < bytes.count && bytes[position + 1] == Byte.dollar ? 2 : 1
            case Byte.backslash:
                if let ended = escape(into: &name) { return result(ended) }
            default:
                name.append(byte)
                position += 1
            }
        }
        return result(.end)
    }

    /// Whether the `:` at `index` ends a target list: a blank, a line end, a continuation or the
    /// end of the text follows it.
    private func endsTargets(colonAt index: Int) -> Bool {
        let next = index + 1
        guard next < bytes.count else { return true }
        switch bytes[next] {
        case Byte.space, Byte.tab, Byte.newline, Byte.carriageReturn: return true
        case Byte.backslash:
            return next + 1 < bytes.count && (bytes[next + 1] == Byte.newline || bytes[next + 1] == Byte.carriageReturn)
        default: return false
        }
    }

    /// Reads a run of backslashes and what it escapes; returns a delimiter when the run ends the name.
    private mutating func escape(into name: inout [UInt8]) -> Delimiter? {
        var run = 0
        while position < bytes.count, bytes[position] == Byte.backslash { run += 1; position += 1 }
        // NUL stands for the end: it escapes nothing, like every byte the cases below do not name.
        let next = position < bytes.count ? bytes[position] : 0
        func backslashes(_ count: Int) { name.append(contentsOf: repeatElement(Byte.backslash, count: count)) }
        switch next {
        case Byte.space, Byte.tab:
            backslashes(run / 2)
            if run % 2 == 1 { name.append(next); position += 1; return nil }
            return name.isEmpty ? nil : .blank
        case Byte.hash:
            // gcc escapes `#` with one backslash and leaves those before it alone.
            backslashes(run - 1)
            name.append(Byte.hash)
            position += 1
            return nil
        case Byte.newline:
            backslashes(run - 1)
            position += 1
            line += 1
            return name.isEmpty ? nil : .blank
        case Byte.carriageReturn where position + 1 < bytes.count && bytes[position + 1] == Byte.newline:
            backslashes(run - 1)
            position += 2
            line += 1
            return name.isEmpty ? nil : .blank
        default:
            backslashes(run)
            return nil
        }
    }

    /// Skips to the end of the line; a comment continued with a backslash goes on with the next.
    private mutating func skipComment() {
        while position < bytes.count, bytes[position] != Byte.newline {
            if bytes[position] == Byte.backslash, position + 1 < bytes.count, bytes[position + 1] == Byte.newline {
                position += 1
                line += 1
            }
            position += 1
        }
    }
}
