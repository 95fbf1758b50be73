import SwbpfBasics

/// What GNU make knows after reading a Makefile, from one run of `make -pnR`: every variable the
/// Makefile sets, with its value expanded by make itself and the line that set it, and every rule
/// with its prerequisites (already expanded in make's database) and recipe. swbpf never parses
/// make syntax: make does, and this reads its answers.
package struct MakeDatabase: Equatable {
    package struct Variable: Equatable {
        package var name: String
        /// The value as make expands it (`$(BPFCFLAGS) -mcpu=v3` gives `-g -O2 -Wall -mcpu=v3`).
        package var value: String
        /// The makefile and line that set it last (`Makefile`, 42).
        package var file: String
        package var line: Int

        /// `Makefile:42 NAME`, as a comment names the origin of a learned setting.
        package var origin: String { "\(file):\(line) \(name)" }
        package var words: [String] { value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) }
    }

    package struct Rule: Equatable {
        package var target: String
        package var prerequisites: [String]
        /// The recipe as written (make prints it unexpanded), one line per command.
        package var recipe: [String]
        package var file: String?
        package var line: Int?
    }

    package var variables: [String: Variable] = [:]
    package var rules: [String: Rule] = [:]
    /// Pattern rules (`$(OUTPUT)/%.bpf.o: %.bpf.c`), targets expanded, in make's order.
    package var patternRules: [Rule] = []
    /// Target-specific variables (`softirqs.bpf.o: BPFCFLAGS += -mcpu=v3`), in make's order.
    package var targetVariables: [TargetVariable] = []

    /// One target-specific assignment, its value as written (make prints it unexpanded).
    package struct TargetVariable: Equatable {
        package var target: String
        package var name: String
        /// `+=`: added to the variable's value; otherwise the value replaces it for that target.
        package var appends: Bool
        package var value: String
        package var file: String
        package var line: Int

        /// `Makefile:14 softirqs.bpf.o: BPFCFLAGS`.
        package var origin: String { "\(file):\(line) \(target): \(name)" }
    }
    package var defaultGoal: String?

    /// The goal `make` is run with: its recipe prints every variable the makefiles set, expanded.
    package static let dumpGoal = "swbpf-init-variables"
    private static let marker = "swbpf-init-variable "

    /// make's arguments: print the database (-p), run no recipe (-n) but the dump goal's, which
    /// expands each makefile variable in make's own final state; no built-in rules or variables
    /// (-R), so only the Makefile's own settings are read. `.DEFAULT_GOAL :=` lets the Makefile's
    /// first rule stay the default goal although the dump rule comes first.
    ///
    /// A function meant for `$(call NAME,...)` (a recursive variable naming `$(1)` or `$1`, such as
    /// libbpf-bootstrap's `allow-override`, whose body runs `$(eval $(1) = $(2))`) is not expanded:
    /// without its arguments it means nothing, and its `$(eval)` stops make ("empty variable name").
    ///
    /// `variables` (`CARGO=`, `USE_BLAZESYM=0`) are the settings the user gives make on its
    /// command line, so that make reads the Makefile as their `make` does.
    package static func makeArguments(makefile: String, variables: [String] = []) -> [String] {
        let isFunction = "$(and $(filter recursive,$(flavor $(v))),$(or $(findstring $$(1),$(value $(v))),$(findstring $$1,$(value $(v)))))"
        let dump = "\(dumpGoal): ; @:$(foreach v,$(.VARIABLES),$(if $(filter file override,$(origin $(v))),$(if \(isFunction),,$(info \(marker)$(v)=$($(v))))))"
        return ["-pnR", "-f", makefile, "--eval", dump + "\n.DEFAULT_GOAL :="] + variables + [dumpGoal]
    }

    /// Whether `word` is a make variable setting, `NAME=VALUE` with NAME a plain identifier: on
    /// make's command line it can then be nothing else (never an option, never a goal).
    package static func isVariableSetting(_ word: String) -> Bool {
        guard let equals = word.firstIndex(of: "="), equals != word.startIndex else { return false }
        let name = word[..<equals]
        return name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true
            && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }

    /// Reads make's output: the expanded values (printed first) and the database.
    package static func parse(_ output: String) -> MakeDatabase {
        var database = MakeDatabase()
        var expanded: [String: String] = [:]
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var inFiles = false
        var inPatterns = false
        var index = 0
        while index < lines.count {
            let line = lines[index]
            defer { index += 1 }
            if line.hasPrefix(marker), let equals = line.firstIndex(of: "=") {
                let name = String(line[line.index(line.startIndex, offsetBy: marker.count)..<equals])
                expanded[name] = String(line[line.index(after: equals)...])
                continue
            }
            // make -p prints "# Implicit Rules" (ended by "# No implicit rules." or "# N implicit
            // rules, M terminal.") and then "# Files"; each section ends the one before.
            if line == "# Implicit Rules" { inPatterns = true; continue }
            if line == "# Files" { inFiles = true; inPatterns = false; continue }
            if line.hasPrefix("# files hash-table stats") { inFiles = false; continue }
            if line.hasPrefix(".DEFAULT_GOAL := ") { database.defaultGoal = String(line.dropFirst(".DEFAULT_GOAL := ".count)) }
            // In # Files, a makefile line names a target-specific variable: `TARGET: NAME += VALUE`.
            if inFiles, let origin = Self.fileOrigin(line), index + 1 < lines.count,
               let variable = Self.targetVariable(lines[index + 1], file: origin.file, line: origin.line) {
                database.targetVariables.append(variable)
                index += 1
                continue
            }
            if !inFiles, let origin = Self.fileOrigin(line), index + 1 < lines.count,
               let name = Self.assignedName(lines[index + 1]) {
                database.variables[name] = Variable(name: name, value: "", file: origin.file, line: origin.line)
                continue
            }
            // A rule: `target: prerequisites` at the start of a line, not a comment, in # Files or # Implicit Rules.
            guard inFiles || inPatterns, !line.hasPrefix("#"), !line.hasPrefix("\t"), !line.isEmpty,
                  index == 0 || lines[index - 1] != "# Not a target:",
                  let colon = line.firstIndex(of: ":") else { continue }
            let target = String(line[..<colon])
            var rest = String(line[line.index(after: colon)...])
            if rest.hasPrefix(":") { rest.removeFirst() }
            // Order-only prerequisites (after `|`) are directories and the like, not inputs.
            let prerequisites = rest.split(separator: "|", maxSplits: 1).first.map { $0.split(separator: " ").map(String.init) } ?? []
            var rule = Rule(target: target, prerequisites: prerequisites, recipe: [])
            var next = index + 1
            while next < lines.count, !lines[next].isEmpty {
                let text = lines[next]
                if text.hasPrefix("#  recipe to execute (from "), let origin = Self.origin(in: text) {
                    rule.file = origin.file
                    rule.line = origin.line
                } else if text.hasPrefix("\t") {
                    rule.recipe.append(String(text.dropFirst()))
                }
                next += 1
            }
            if inPatterns { database.patternRules.append(rule) } else { database.rules[target] = rule }
        }
        for name in database.variables.keys {
            database.variables[name]?.value = expanded[name] ?? ""
        }
        return database
    }

    /// The words of a recipe's commands (`$(CLANG) -D __X__ -O2 $(INCLUDES) -c $<` gives
    /// `["clang", "-D", "__X__", "-O2", "-I.output", "-c", "$"]`): a reference to a variable of
    /// `values` (the Makefile's own, as make expanded them) is replaced by its value, as make
    /// does; a word made with anything else (`$@`, `$(call ...)`, `$(FLAGS_$*)`) is `$`, since its
    /// value is not known here. Comments and line continuations are left out; commands are split
    /// at `&&`, `;`, `||`, and lose make's prefixes (`@`, `-`, `+`, also from `$(Q)`).
    package static func literalCommands(_ recipe: [String], values: [String: String] = [:]) -> [[String]] {
        var text = ""
        for line in recipe {
            var kept = ""
            var depth = 0
            var reference = ""
            var characters = Array(line)[...]
            while let character = characters.popFirst() {
                if depth == 0, character == "$", let next = characters.first {
                    characters.removeFirst()
                    if next == "(" || next == "{" { depth = 1; reference = "" } else { kept.append(variableMark) }
                    continue
                }
                if depth > 0 {
                    if character == "(" || character == "{" { depth += 1 }
                    if character == ")" || character == "}" { depth -= 1 }
                    if depth > 0 { reference.append(character); continue }
                    let isName = !reference.isEmpty && reference.allSatisfy { $0.isLetter || $0.isNumber || "_.-".contains($0) }
                    if isName, let value = values[reference] { kept += value } else { kept.append(variableMark) }
                    continue
                }
                if character == "#" { break }
                kept.append(character)
            }
            // A line ending in a backslash goes on; any other ends its command.
            text += kept.hasSuffix("\\") ? String(kept.dropLast()) + " " : kept + " ; "
        }
        var commands: [[String]] = [[]]
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) {
            if ["&&", ";", "||"].contains(word) {
                commands.append([])
            } else if commands[commands.count - 1].isEmpty {
                // make's prefixes: @ silent, - ignore errors, + always run.
                let command = String(word.drop { "@-+".contains($0) })
                if !command.isEmpty { commands[commands.count - 1].append(command.contains(variableMark) ? "$" : command) }
            } else {
                commands[commands.count - 1].append(word.contains(variableMark) ? "$" : word)
            }
        }
        return commands.filter { !$0.isEmpty }
    }

    /// Stands in a word of a recipe for a variable's value while the words are split.
    private static let variableMark: Character = "\u{1}"

    /// `# makefile (from 'Makefile', line 42)`: a variable the Makefile sets.
    private static func fileOrigin(_ line: String) -> (file: String, line: Int)? {
        guard line.hasPrefix("# makefile (from ") || line.hasPrefix("# 'override' directive (from ") else { return nil }
        return origin(in: line)
    }

    /// The file and line in `(from 'FILE', line N)`.
    private static func origin(in text: String) -> (file: String, line: Int)? {
        guard let from = text.firstRange(of: "(from '"), let quote = text[from.upperBound...].firstIndex(of: "'"),
              let lineWord = text[quote...].firstRange(of: ", line ") else { return nil }
        let number = text[lineWord.upperBound...].prefix { $0.isNumber }
        guard let line = Int(number) else { return nil }
        return (String(text[from.upperBound..<quote]), line)
    }

    /// `one.bpf.o: BPFCFLAGS += -mcpu=v3` as make prints a target-specific variable.
    private static func targetVariable(_ text: String, file: String, line: Int) -> TargetVariable? {
        guard let colon = text.firstRange(of: ": ") else { return nil }
        let assignment = text[colon.upperBound...]
        for separator in [" += ", " := ", " ::= ", " ?= ", " = "] {
            guard let range = assignment.firstRange(of: separator) else { continue }
            let name = String(assignment[..<range.lowerBound])
            guard !name.isEmpty, !name.contains(" ") else { return nil }
            return TargetVariable(target: String(text[..<colon.lowerBound]), name: name, appends: separator == " += ",
                                  value: String(assignment[range.upperBound...]), file: file, line: line)
        }
        return nil
    }

    /// The name in `NAME := value`, `NAME = value` (the database's two spellings).
    private static func assignedName(_ line: String) -> String? {
        for separator in [" := ", " = ", " ::= "] {
            if let range = line.firstRange(of: separator) {
                let name = String(line[..<range.lowerBound])
                if !name.isEmpty, !name.contains(" "), !name.hasPrefix("#") { return name }
            }
        }
        if line.hasSuffix(" :=") || line.hasSuffix(" =") {
            let name = String(line.prefix { $0 != " " })
            return name.isEmpty ? nil : name
        }
        return nil
    }

    package func value(_ name: String) -> Variable? { variables[name] }

    /// The first of `names` the Makefile sets.
    package func first(_ names: [String]) -> Variable? { names.lazy.compactMap { variables[$0] }.first }
}
