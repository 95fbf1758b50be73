import SwbpfBasics
import SwbpfModel

/// The swbpf.toml a Makefile implies, learned from make's database (`MakeDatabase`): which apps
/// its default goal builds, their aliases and extra programs, per-app and project-wide flags,
/// libraries, and the libbpf, bpftool and vmlinux.h it uses. Every setting keeps the Makefile line
/// it came from; what cannot be expressed is listed, never dropped in silence.
package struct MakefileImport: Equatable {
    package enum Value: Equatable {
        case string(String)
        case strings([String])
        case bool(Bool)
    }

    /// One line of the swbpf.toml to write: `key = value` in `table`, and where it came from.
    package struct Setting: Equatable {
        /// nil for the top level, else `libbpf`, `app.NAME`, `program.NAME`.
        package var table: String?
        package var key: String
        package var value: Value
        /// `Makefile:42 BPFCFLAGS_softirqs`.
        package var origin: String
    }

    package var makefile: String
    /// The variables make was given (`CARGO=`), named in the config's header.
    package var makeVariables: [String] = []
    package var settings: [Setting] = []
    /// What was learned, for the summary.
    package var learned: [String] = []
    /// What make builds or sets that this config does not express.
    package var notUnderstood: [String] = []
    /// The binaries and aliases make's default goal builds, as swbpf's build must give them.
    package var products: [String] = []

    /// Learns from `database`, made by make run on `makefile` in the project directory `root`
    /// (`files`: the names in it); `arch` is the kernel's name of this machine (`x86`).
    package static func learn(_ database: MakeDatabase, makefile: String, root: String, files: Set<String>, arch: String) -> MakefileImport {
        var learner = Learner(database: database, root: root, files: files, arch: arch, result: MakefileImport(makefile: makefile))
        learner.learnProducts()
        learner.learnToolchain()
        learner.learnProjectFlags()
        learner.learnAppFlags()
        return learner.result
    }

    /// The swbpf.toml text: a header, then each setting with its origin as a trailing comment,
    /// grouped by table.
    package var configText: String {
        let given = makeVariables.isEmpty ? "" : " " + Shell.join(makeVariables)
        var text = "# Written by 'swbpf init' from what make knows of \(makefile) (make -pnR\(given)).\n"
        text += "# Each setting names the Makefile line it came from; 'swbpf build' builds what 'make' does.\n"
        var tables: [String?] = []
        for setting in settings where !tables.contains(setting.table) { tables.append(setting.table) }
        for table in tables.sorted(by: { ($0 ?? "") < ($1 ?? "") }) {
            text += "\n"
            if let table { text += "[\(table)]\n" }
            for setting in settings where setting.table == table {
                text += "\(setting.key) = \(Self.literal(setting.value))   # \(setting.origin)\n"
            }
        }
        return text
    }

    private static func literal(_ value: Value) -> String {
        switch value {
        case .string(let text): return TOMLDefinitions.basicString(text)
        case .strings(let words): return "[" + words.map(TOMLDefinitions.basicString).joined(separator: ", ") + "]"
        case .bool(let flag): return flag ? "true" : "false"
        }
    }
}

/// The learning itself, one concern per method, sharing the database and the result.
private struct Learner {
    let database: MakeDatabase
    let root: String
    let files: Set<String>
    let arch: String
    var result: MakefileImport
    /// The apps make builds, in its order.
    var apps: [String] = []
    /// The programs without a kernel part, with the rules that link them.
    var programs: [(name: String, rule: MakeDatabase.Rule?)] = []
    /// Directories swbpf gives every compile itself (output, libbpf's, vmlinux.h's): not `include`.
    var providedDirectories: Set<String> = []

    /// Words swbpf's own BPF compile (`-g -O2 -target bpf -D__TARGET_ARCH_x`) and user-space
    /// compile (`-g -Wall`) already pass, and libraries every link has.
    static let ownBPFWords: Set<String> = ["-g", "-O2", "-target", "bpf"]
    static let ownCWords: Set<String> = ["-g", "-Wall"]
    static let ownLibraries: Set<String> = ["-lelf", "-lz", "-lbpf", "-l:libbpf.a"]


    mutating func add(_ table: String? = nil, _ key: String, _ value: MakefileImport.Value, from origin: String) {
        result.settings.append(.init(table: table, key: key, value: value, origin: origin))
    }

    func ruleOrigin(_ rule: MakeDatabase.Rule) -> String {
        rule.file.map { "\($0):\(rule.line ?? 0) rule \(rule.target)" } ?? "rule \(rule.target)"
    }

    var output: String? { database.value("OUTPUT").map { absolute($0.value) } }

    func absolute(_ path: String) -> String { FileSystem.absolute(path, base: root) }

    /// `path` relative to the project directory, with `..` when it is outside.
    func relative(_ path: String) -> String {
        FileSystem.relativeWithParents(path, to: root) ?? absolute(path)
    }

    func isInOutput(_ path: String) -> Bool {
        guard let output else { return false }
        let full = absolute(path)
        return full == output || full.hasPrefix(output + "/")
    }

    // MARK: What the default goal builds

    /// The default goal's prerequisites, through phony targets without a recipe (`all: build`).
    func goalProducts() -> [String] {
        guard let goal = database.defaultGoal, let rule = database.rules[goal] else { return [] }
        let phony = Set(database.rules[".PHONY"]?.prerequisites ?? [])
        if !phony.contains(goal), !rule.recipe.isEmpty { return [goal] }
        var found: [String] = []
        var pending = Array(rule.prerequisites.reversed())
        var seen = Set<String>()
        while let target = pending.popLast() {
            guard seen.insert(target).inserted else { continue }
            if phony.contains(target), let inner = database.rules[target], inner.recipe.isEmpty {
                pending += inner.prerequisites.reversed()
            } else if !target.contains("/"), !isInOutput(target) {
                found.append(target)
            }
        }
        return found
    }

    /// The apps swbpf finds by itself: NAME.bpf.c with NAME.c, NAME_kern.c with NAME_user.c.
    var conventionalApps: [String] {
        files.compactMap { file -> String? in
            if file.hasSuffix(".bpf.c") {
                let name = String(file.dropLast(".bpf.c".count))
                return files.contains(name + ".c") ? name : nil
            }
            if file.hasSuffix("_kern.c") {
                let name = String(file.dropLast("_kern.c".count))
                return files.contains(name + "_user.c") ? name : nil
            }
            return nil
        }.sorted()
    }

    mutating func learnProducts() {
        guard let goal = database.defaultGoal else {
            result.notUnderstood.append("\(result.makefile) has no default goal: make builds nothing without a target, so neither does this config")
            return
        }
        let products = goalProducts()
        let conventional = Set(conventionalApps)
        var aliases: [(name: String, app: String, rule: MakeDatabase.Rule)] = []
        var steps: [String] = []
        for product in products {
            let rule = database.rules[product]
            if let app = Self.appBuiltFrom(product), conventional.contains(app) {
                steps.append(product)
            } else if conventional.contains(product) {
                apps.append(product)
            } else if let rule, rule.prerequisites.count == 1, products.contains(rule.prerequisites[0]),
                      rule.recipe.contains(where: { $0.contains("ln ") || $0.contains("$(LN)") }) {
                aliases.append((product, rule.prerequisites[0], rule))
            } else if learnProgram(product, rule: rule) {
                programs.append((product, rule))
            } else {
                result.notUnderstood.append("'\(product)' (built by '\(goal)'): not an app (no \(product).bpf.c with \(product).c) and no rule that names its .c sources; add it as [app.\(product)] or [program.\(product)] by hand")
            }
        }
        result.products = products.filter { !steps.contains($0) }
        if !steps.isEmpty {
            result.learned.append("made by swbpf as steps of their apps (in its output directory): \(steps.joined(separator: " "))")
        }
        // The conventional names, else the Makefile's first variable that lists exactly these apps (`PROG = counter`).
        let appsVariable = database.first(["APPS", "APP", "TARGETS", "TARGET", "BPF_APPS"]) ?? database.variables.values
            .filter { !apps.isEmpty && Set($0.words) == Set(apps) }
            .min { ($0.file, $0.line, $0.name) < ($1.file, $1.line, $1.name) }
        if !apps.isEmpty {
            result.learned.append("apps (\(appsVariable?.origin ?? "goal \(goal)")): \(apps.joined(separator: " "))")
        }
        for (name, app, rule) in aliases {
            let origin = database.first(["APP_ALIASES"]).map { "\($0.origin), \(ruleOrigin(rule))" } ?? ruleOrigin(rule)
            if apps.contains(app) {
                result.learned.append("alias \(name) → \(app) (\(origin))")
            } else {
                result.notUnderstood.append("'\(name)' links to '\(app)', which is not an app; left out")
            }
        }
        for app in apps {
            let names = aliases.filter { $0.app == app }
            guard !names.isEmpty else { continue }
            let origin = database.first(["APP_ALIASES"]).map(\.origin) ?? ruleOrigin(names[0].rule)
            add("app.\(app)", "aliases", .strings(names.map(\.name)), from: origin)
        }
        result.products.removeAll { name in aliases.contains { $0.name == name && !apps.contains($0.app) } }
        result.products.removeAll { name in result.notUnderstood.contains { $0.hasPrefix("'\(name)' (built by") } }
        if !programs.isEmpty { result.learned.append("programs without a kernel part: \(programs.map(\.name).joined(separator: " "))") }
        let left = conventional.subtracting(apps).sorted()
        if !left.isEmpty {
            add(nil, "skip", .strings(left), from: "\(appsVariable?.origin ?? "goal \(goal)") does not build them")
            result.learned.append("not built by make, so skipped: \(left.joined(separator: " "))")
        }
    }

    /// The app whose kernel object or skeleton `product` is (`hello.bpf.o`, `hello.skel.h`,
    /// `hello_kern.o`: a default goal may name them beside the binary).
    static func appBuiltFrom(_ product: String) -> String? {
        for suffix in [".bpf.o", ".bpf.skel.h", ".skel.h", "_kern.o"] where product.hasSuffix(suffix) {
            return String(product.dropLast(suffix.count))
        }
        return nil
    }

    /// A goal that is a plain program: its rule names its .c sources (or NAME.o from NAME.c).
    mutating func learnProgram(_ name: String, rule: MakeDatabase.Rule?) -> Bool {
        let prerequisites = rule?.prerequisites ?? []
        var sources = prerequisites.filter { $0.hasSuffix(".c") && !$0.hasSuffix(".bpf.c") && files.contains($0) }
        for object in prerequisites where object.hasSuffix(".o") && !object.hasSuffix(".bpf.o") {
            let source = String(FileSystem.split(object).base.dropLast(2)) + ".c"
            if files.contains(source), !sources.contains(source) { sources.append(source) }
        }
        if sources.isEmpty, rule != nil, files.contains(name + ".c") { sources = [name + ".c"] }
        guard !sources.isEmpty else { return false }
        let origin = rule.map(ruleOrigin) ?? "goal \(name)"
        add("program.\(name)", "sources", .strings(sources), from: origin)
        // It links libbpf when make links it, or when its sources use libbpf's API.
        let usesLibbpf = prerequisites.contains { $0.hasSuffix("libbpf.a") } || sources.contains { source in
            let included = IncludeScanner.allIncludes(in: FileSystem.read(FileSystem.join(root, source)) ?? [])
            return included.contains("bpf/libbpf.h") || included.contains("bpf/bpf.h")
        }
        if usesLibbpf { add("program.\(name)", "libbpf", .bool(true), from: origin) }
        return true
    }

    // MARK: libbpf, bpftool, vmlinux.h

    /// A source tree named by `variable` (`../libbpf/src`): the tree holds `src/Makefile`.
    func sourceTree(_ variable: MakeDatabase.Variable) -> String? {
        var path = absolute(variable.value)
        if FileSystem.split(path).base == "src" { path = FileSystem.split(path).directory }
        return FileSystem.exists(FileSystem.join(path, "src/Makefile")) ? path : nil
    }

    mutating func learnToolchain() {
        if let output { providedDirectories.insert(output) }
        if let variable = database.value("LIBBPF_SRC"), !variable.value.isEmpty {
            if let tree = sourceTree(variable) {
                add("libbpf", "source", .string(relative(tree)), from: variable.origin)
                providedDirectories.insert(FileSystem.join(tree, "include/uapi"))
                result.learned.append("libbpf: built from the tree \(relative(tree)) (\(variable.origin))")
            } else {
                result.notUnderstood.append("\(variable.origin) = \(variable.value) is not a libbpf tree (no src/Makefile; run git submodule update --init?): libbpf is left to swbpf's own search")
            }
        } else if let archive = database.value("LIBBPF_OBJ"), !archive.value.isEmpty, !isInOutput(archive.value) {
            if FileSystem.exists(absolute(archive.value)) {
                add("libbpf", "archive", .string(relative(archive.value)), from: archive.origin)
                result.learned.append("libbpf: the archive \(relative(archive.value)) (\(archive.origin))")
            } else {
                result.notUnderstood.append("\(archive.origin) = \(archive.value) does not exist: libbpf is left to swbpf's own search")
            }
        } else {
            learnLocalLibbpfArchive()
        }
        if let variable = database.value("BPFTOOL_SRC"), !variable.value.isEmpty {
            if let tree = sourceTree(variable) {
                add("bpftool", "source", .string(relative(tree)), from: variable.origin)
                result.learned.append("bpftool: built from the tree \(relative(tree)) (\(variable.origin))")
            } else {
                result.notUnderstood.append("\(variable.origin) = \(variable.value) is not a bpftool tree (no src/Makefile): bpftool is left to swbpf's own search")
            }
        } else if let variable = database.value("BPFTOOL"), variable.value.contains("/"), !isInOutput(variable.value),
                  FileSystem.isExecutableFile(absolute(variable.value)) {
            add("bpftool", "path", .string(relative(variable.value)), from: variable.origin)
            result.learned.append("bpftool: \(relative(variable.value)) (\(variable.origin))")
        }
        learnVmlinux()
    }

    /// The learning-style link: `-L DIR -l:libbpf.a`, headers from a `-I` directory holding
    /// bpf/libbpf.h.
    mutating func learnLocalLibbpfArchive() {
        let linkVariables = ["LDFLAGS", "LDLIBS", "LIBS", "ALL_LDFLAGS", "LIBBPF_LDFLAGS"].compactMap { database.value($0) }
            + [recipeFlags(.link)].compactMap { $0 }
        guard let variable = linkVariables.first(where: { $0.words.contains("-l:libbpf.a") }) else { return }
        let directories = Self.optionValues("-L", in: variable.words)
        guard let archive = directories.map({ FileSystem.join(absolute($0), "libbpf.a") }).first(where: FileSystem.exists) else {
            result.notUnderstood.append("\(variable.origin) links -l:libbpf.a, but no -L directory of it holds a libbpf.a yet (build it first): libbpf is left to swbpf's own search")
            return
        }
        add("libbpf", "archive", .string(relative(archive)), from: variable.origin)
        providedDirectories.insert(FileSystem.split(archive).directory)
        let includeVariables = ["CFLAGS", "INCLUDES", "BPF_CFLAGS", "BPFCFLAGS", "CPPFLAGS"].compactMap { database.value($0) }
        for include in includeVariables {
            if let directory = Self.optionValues("-I", in: include.words).map(absolute)
                .first(where: { FileSystem.exists(FileSystem.join($0, "bpf/libbpf.h")) }) {
                add("libbpf", "include", .string(relative(directory)), from: include.origin)
                providedDirectories.insert(directory)
                break
            }
        }
        result.learned.append("libbpf: the archive \(relative(archive)) (\(variable.origin), -l:libbpf.a)")
    }

    /// VMLINUX, or libbpf-tools' `$(ARCH)/vmlinux.h`; the machine's name becomes `{arch}`.
    mutating func learnVmlinux() {
        let archValue = database.value("ARCH")?.value ?? arch
        var candidates: [(path: String, origin: String)] = []
        if let variable = database.value("VMLINUX"), !variable.value.isEmpty { candidates.append((variable.value, variable.origin)) }
        if let variable = database.value("ARCH"), FileSystem.exists(FileSystem.join(root, "\(archValue)/vmlinux.h")) {
            candidates.append(("\(archValue)/vmlinux.h", "\(variable.origin) ($(ARCH)/vmlinux.h)"))
        }
        guard let (path, origin) = candidates.first else { return }
        guard path.hasSuffix(".h"), !isInOutput(path), FileSystem.exists(absolute(path)) else {
            if !isInOutput(path) {
                result.notUnderstood.append("\(origin) = \(path): not a vmlinux.h that exists here; the running kernel's BTF is used")
            }
            return
        }
        let display = relative(path)
        let pattern = display.split(separator: "/").map { $0 == archValue ? "{arch}" : String($0) }.joined(separator: "/")
        add(nil, "vmlinux", .string(pattern), from: origin)
        providedDirectories.insert(FileSystem.split(absolute(path)).directory)
        result.learned.append("vmlinux.h: \(pattern) (\(origin))")
    }

    // MARK: Flags

    /// The values of `option` in `words`, joined (`-Idir`) or separate (`-I dir`).
    static func optionValues(_ option: String, in words: [String]) -> [String] {
        var values: [String] = []
        var index = 0
        while index < words.count {
            if words[index] == option, index + 1 < words.count {
                values.append(words[index + 1])
                index += 1
            } else if words[index].hasPrefix(option), words[index].count > option.count {
                values.append(String(words[index].dropFirst(option.count)))
            }
            index += 1
        }
        return values
    }

    /// `-I` directories of `variables` that swbpf does not give itself, as `include`; a directory
    /// that does not exist is reported.
    mutating func learnIncludes(_ variables: [MakeDatabase.Variable]) {
        var directories: [String] = []
        var origins: [String] = []
        for variable in variables {
            for directory in Self.optionValues("-I", in: variable.words) {
                let full = absolute(directory)
                let trimmed = full.hasSuffix("/") ? String(full.dropLast()) : full
                if providedDirectories.contains(trimmed) || isInOutput(trimmed) || directories.contains(relative(trimmed)) { continue }
                guard FileSystem.isDirectory(trimmed) else {
                    result.notUnderstood.append("\(variable.origin): -I\(directory) does not exist here; left out")
                    continue
                }
                directories.append(relative(trimmed))
                if !origins.contains(variable.origin) { origins.append(variable.origin) }
            }
        }
        if !directories.isEmpty { add(nil, "include", .strings(directories), from: origins.joined(separator: ", ")) }
    }

    /// Words of a flags variable that swbpf does not pass itself: not `own`, not `-I` (include)
    /// nor `-D__TARGET_ARCH_x`.
    static func extraWords(_ words: [String], own: Set<String>) -> [String] {
        var result: [String] = []
        var index = 0
        while index < words.count {
            let word = words[index]
            if word == "-I" || word == "-target" { index += 2; continue }
            if !own.contains(word), !word.hasPrefix("-I"), !word.hasPrefix("-D__TARGET_ARCH_") { result.append(word) }
            index += 1
        }
        return result
    }

    mutating func learnProjectFlags() {
        let bpf = database.first(["BPFCFLAGS", "BPF_CFLAGS", "CLANG_BPF_FLAGS"])
        let user = database.value("CFLAGS")
        learnIncludes([database.value("INCLUDES"), bpf, user, database.value("CPPFLAGS")].compactMap { $0 })
        addFlags("bpf-cflags", from: [bpf, recipeFlags(.bpfCompile)].compactMap { $0 }, own: Self.ownBPFWords)
        addFlags("cflags", from: [user, recipeFlags(.compile)].compactMap { $0 }, own: Self.ownCWords)
        let linkVariables = ["LDFLAGS", "LDLIBS", "LIBS", "ALL_LDFLAGS"].compactMap { database.value($0) }
        learnLinkFlags(table: nil, variables: linkVariables + [recipeFlags(.link)].compactMap { $0 })
        // A program links what its own recipe names, not the apps' link variables.
        for (name, rule) in programs {
            let recipe = (rule?.recipe ?? []).joined(separator: "\n")
            let used = linkVariables.filter { recipe.contains("$(\($0.name))") || recipe.contains("${\($0.name)}") }
            learnLinkFlags(table: "program.\(name)", variables: used)
        }
    }

    /// The words of `variables` that are not `own` (swbpf's, and for an app the project's), as
    /// one `key`: project-wide, or of `app` (then also said in the summary).
    mutating func addFlags(_ key: String, app: String? = nil, from variables: [MakeDatabase.Variable], own: Set<String>) {
        var words: [String] = []
        var origins: [String] = []
        for variable in variables {
            let extra = Self.extraWords(variable.words, own: own).filter { !words.contains($0) }
            if extra.isEmpty { continue }
            words += extra
            origins.append(variable.origin)
        }
        guard !words.isEmpty else { return }
        let origin = origins.joined(separator: ", ")
        add(app.map { "app.\($0)" }, key, .strings(words), from: origin)
        if let app { result.learned.append("\(app): \(key) \(words.joined(separator: " ")) (\(origin))") }
    }

    enum RecipeCommand { case bpfCompile, compile, link }

    /// The flags recipes write themselves rather than through a variable, as a variable named after
    /// the first rule that writes them (`Makefile:71 rule .output/%.bpf.o`): the BPF compile's
    /// (a command with `-target bpf`), the user-space compile's (`-c` from a `.c`), the apps' link's.
    func recipeFlags(_ kind: RecipeCommand) -> MakeDatabase.Variable? {
        let rules: [MakeDatabase.Rule]
        switch kind {
        case .bpfCompile: rules = database.patternRules + database.rules.values.sorted { $0.target < $1.target }
        case .compile: rules = (database.patternRules + database.rules.values.sorted { $0.target < $1.target })
            .filter { $0.prerequisites.contains { $0.hasSuffix(".c") && !$0.hasSuffix(".bpf.c") } }
        case .link: rules = apps.compactMap { database.rules[$0] }
        }
        var words: [String] = []
        var first: MakeDatabase.Rule?
        for rule in rules {
            for command in MakeDatabase.literalCommands(rule.recipe, values: database.variables.mapValues(\.value)) {
                let isBPF = zip(command, command.dropFirst()).contains { $0 == "-target" && $1 == "bpf" }
                switch kind {
                case .bpfCompile where !isBPF, .link where isBPF,
                     // An app's rule that names its .c compiles and links in one command
                     // (`gcc -Wall -o $@ $< -L... -l:libbpf.a`): its flags are both.
                     .compile where isBPF || !(command.contains("-c") || apps.contains(rule.target)):
                    continue
                default: break
                }
                let flags = Self.literalFlags(command, linking: kind == .link).filter { !words.contains($0) }
                if !flags.isEmpty, first == nil { first = rule }
                words += flags
            }
        }
        guard let rule = first, let file = rule.file else { return nil }
        return MakeDatabase.Variable(name: "rule \(rule.target)", value: words.joined(separator: " "), file: file, line: rule.line ?? 0)
    }

    /// The flags among a command's literal words: defines, warnings, `-f`, `-m`, `-std`, `-O`; or
    /// when `linking`, libraries and linker flags. `-D NAME` is one flag; `-D__TARGET_ARCH_x` (swbpf's
    /// own) and `-I` (learned from the include variables) are left out.
    static func literalFlags(_ command: [String], linking: Bool) -> [String] {
        var flags: [String] = []
        var index = 0
        while index < command.count {
            var word = command[index]
            index += 1
            if word == "-D" || word == "-U" || word == "-I" || word == "-L" {
                guard index < command.count else { break }
                word += command[index]
                index += 1
            }
            // A word made with a variable has no value here; `-f`, `-m` alone are rm's and install's.
            if word.contains("$") || word.hasPrefix("-D__TARGET_ARCH_") || word.hasPrefix("-I") || word == "-f" || word == "-m" { continue }
            let prefixes = linking ? ["-l", "-L", "-pthread", "-Wl,"] : ["-D", "-U", "-W", "-f", "-m", "-std=", "-O"]
            if prefixes.contains(where: word.hasPrefix), linking || !word.hasPrefix("-Wl,") { flags.append(word) }
        }
        return flags
    }

    /// `-lNAME` words as `libs`, other words as `ldflags`, leaving out libbpf's own link.
    mutating func learnLinkFlags(table: String?, variables: [MakeDatabase.Variable], excluding global: Set<String> = []) {
        var libraries: [String] = []
        var flags: [String] = []
        var origins: [String] = []
        let libbpfDirectories = providedDirectories
        for variable in variables {
            var index = 0
            let words = variable.words
            while index < words.count {
                let word = words[index]
                index += 1
                if global.contains(word) || Self.ownLibraries.contains(word) { continue }
                // libbpf's own directory (swbpf links libbpf itself): its archive, or its sources
                // before they are built (`-L../libbpf/src` with only libbpf.c in it yet).
                if word.hasPrefix("-L") {
                    let directory = absolute(String(word.dropFirst(2)))
                    if libbpfDirectories.contains(directory) || FileSystem.exists(FileSystem.join(directory, "libbpf.c")) { continue }
                }
                if word.hasPrefix("-l") {
                    if !libraries.contains(String(word.dropFirst(2))) { libraries.append(String(word.dropFirst(2))) }
                } else if !flags.contains(word) {
                    flags.append(word)
                } else { continue }
                if !origins.contains(variable.origin) { origins.append(variable.origin) }
            }
        }
        let origin = origins.joined(separator: ", ")
        if !flags.isEmpty { add(table, "ldflags", .strings(flags), from: origin) }
        if !libraries.isEmpty { add(table, "libs", .strings(libraries), from: origin) }
    }

    /// `BPFCFLAGS_NAME`, `CFLAGS_NAME`, `LDFLAGS_NAME`...: an app's own flags, less the
    /// project-wide words they repeat (`BPFCFLAGS_softirqs := $(BPFCFLAGS) -mcpu=v3` gives -mcpu=v3).
    mutating func learnAppFlags() {
        let bpfNames = ["BPFCFLAGS", "BPF_CFLAGS", "CLANG_BPF_FLAGS"]
        let linkNames = ["LDFLAGS", "LDLIBS", "LIBS"]
        let bpfGlobal = database.first(bpfNames)
        let userGlobal = database.value("CFLAGS")
        let linkGlobal = Set((linkNames + ["ALL_LDFLAGS"]).compactMap { database.value($0) }.flatMap(\.words))
        for app in apps {
            // The app's own variables (BPFCFLAGS_softirqs), then target-specific ones: on the app
            // (make passes them down to everything it is built from), on its object or kernel
            // object; their words made with a variable are left out (make prints them as written).
            let asVariable = { (variable: MakeDatabase.TargetVariable) in
                MakeDatabase.Variable(name: "\(variable.target): \(variable.name)", value: variable.value.split(separator: " ").filter { !$0.contains("$") }.joined(separator: " "),
                                      file: variable.file, line: variable.line)
            }
            let applies = { (variable: MakeDatabase.TargetVariable, objectSuffixes: [String]) in
                let base = FileSystem.split(variable.target).base
                return base == app || objectSuffixes.contains { base == app + $0 }
            }
            let bpf = bpfNames.compactMap { database.value("\($0)_\(app)") }
                + database.targetVariables.filter { bpfNames.contains($0.name) && applies($0, [".bpf.o", ".tmp.bpf.o"]) }.map(asVariable)
            let user = ["CFLAGS_\(app)"].compactMap { database.value($0) }
                + database.targetVariables.filter { $0.name == "CFLAGS" && applies($0, [".o"]) }.map(asVariable)
            let link = linkNames.compactMap { database.value("\($0)_\(app)") }
                + database.targetVariables.filter { linkNames.contains($0.name) && applies($0, []) }.map(asVariable)
            addFlags("bpf-cflags", app: app, from: bpf, own: Self.ownBPFWords.union(bpfGlobal?.words ?? []))
            addFlags("cflags", app: app, from: user, own: Self.ownCWords.union(userGlobal?.words ?? []))
            learnLinkFlags(table: "app.\(app)", variables: link, excluding: linkGlobal)
        }
        let appTargets = Set(apps.flatMap { [$0, "\($0).o", "\($0).bpf.o", "\($0).tmp.bpf.o"] })
        for variable in database.targetVariables where (bpfNames + linkNames + ["CFLAGS"]).contains(variable.name)
            && !appTargets.contains(FileSystem.split(variable.target).base) {
            result.notUnderstood.append("\(variable.origin): a variable for a target that is no app's binary, object or kernel object; add its flags by hand")
        }
    }
}
