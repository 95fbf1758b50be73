import FoundationEssentials
import SwbpfBasics
import SwbpfModel

/// Finds the tools, libbpf, bpftool, the arch and the vmlinux source once per build.
///
/// Asking a tool costs a process (clang's takes tens of milliseconds), so answers are cached
/// (`ToolAnswers`), keyed by the executable's path and stat data: a no-op build starts no process.
/// What source trees say about themselves (a libbpf tree's version and installed headers) is
/// cached the same way, keyed by the stat data of the files it was read from.
///
/// The resolution is one synchronous sequence (`attempt`) over a snapshot of the answers: it
/// either finishes or returns the questions no cached answer covers, which the caller asks
/// (concurrently, `resolve(answering:)`) and then resumes with. Fresh answers are handed back for
/// the caller to store, so the concurrent questions share no mutable state.
public struct ToolchainResolver: Sendable {
    public var project: Project
    public var environment: [String: String]
    /// Tool answers cached by earlier builds, and those asked since.
    public var answers: ToolAnswers
    /// Where the running kernel publishes its BTF.
    public var kernelBTF = "/sys/kernel/btf/vmlinux"

    public init(project: Project, environment: [String: String], answers: ToolAnswers = ToolAnswers()) {
        self.project = project
        self.environment = environment
        self.answers = answers
    }

    /// A resolved toolchain and the answers that were worked out now (to be cached).
    public struct Resolution: Sendable {
        public var toolchain: Toolchain
        public var freshAnswers: [(key: ToolAnswers.Key, values: [String])]

        package init(toolchain: Toolchain, freshAnswers: [(key: ToolAnswers.Key, values: [String])]) {
            self.toolchain = toolchain
            self.freshAnswers = freshAnswers
        }
    }

    /// How far the resolution got from the answers at hand.
    public enum Attempt: Sendable {
        case resolved(Resolution)
        /// Some tool must be asked: ask these, add the answers and attempt again.
        case needs([ToolQuestion])
    }

    /// Which libbpf, bpftool and vmlinux.h the build uses, decided from knobs, swbpf.toml and the
    /// source trees found, before any tool is asked anything.
    package struct Choices {
        package var libbpf: LibbpfChoice
        package var bpftool: BpftoolChoice
        package var vmlinux: VmlinuxSource
        package var needsMake: Bool {
            if case .source = libbpf { return true }
            if case .source = bpftool { return true }
            return false
        }

        package init(libbpf: LibbpfChoice, bpftool: BpftoolChoice, vmlinux: VmlinuxSource) {
            self.libbpf = libbpf
            self.bpftool = bpftool
            self.vmlinux = vmlinux
        }
    }

    package enum LibbpfChoice {
        case archive(path: String, include: String?, origin: LibbpfOrigin)
        case system
        case source(tree: String, display: String, chosenBy: SourceTreeChoice)
    }

    package enum BpftoolChoice {
        case program(Tool)
        case source(tree: String, display: String, chosenBy: SourceTreeChoice)
    }

    /// The tools that are asked for their version (and clang for more), in a fixed order.
    package struct Located {
        package var clang: Tool
        package var cc: Tool
        /// How the user-space compiler was chosen.
        package var ccOrigin: String
        package var bpftool: Tool?
        package var make: Tool?
        package var ln: Tool?
        package var pkgConfig: Tool?
        /// pkg-config, asked for libelf's static libraries, for a static link.
        package var staticPkgConfig: Tool?

        package init(clang: Tool, cc: Tool, ccOrigin: String, bpftool: Tool? = nil, make: Tool? = nil, ln: Tool? = nil, pkgConfig: Tool? = nil, staticPkgConfig: Tool? = nil) {
            self.clang = clang
            self.cc = cc
            self.ccOrigin = ccOrigin
            self.bpftool = bpftool
            self.make = make
            self.ln = ln
            self.pkgConfig = pkgConfig
            self.staticPkgConfig = staticPkgConfig
        }
    }

    /// The toolchain from the answers at hand, or the questions that must be asked first. A
    /// build whose every answer is cached (a no-op) gets its toolchain here, with no process and
    /// no concurrency.
    public func attempt() throws -> Attempt {
        var facts = FileFacts(cached: answers)
        var lookup = AnswerLookup(answers: answers)
        // Only a target of the other byte order looks at bpftool this early (a host no-op does
        // not), and one bpftool cannot handle is refused before anything else is asked.
        if needsByteOrderCheck {
            let early = try bpftoolChoice()
            var answer: [String]?
            if case .program(let tool) = early {
                answer = lookup.answer(ToolQuestion(.bpftool, tool))
                guard answer != nil else { return .needs(lookup.missing) }
            }
            try checkByteOrder(bpftool: early, answer: answer)
        }
        let choices = try choose()
        let tools = try locate(choices)
        let swiftTools = try locateSwiftTools()
        let clang = lookup.answer(ToolQuestion(.clang, tools.clang))
        let cc = lookup.answer(ToolQuestion(.version, tools.cc))
        let bpftool = lookup.answer(tools.bpftool.map { ToolQuestion(.bpftool, $0) })
        let make = lookup.answer(tools.make.map { ToolQuestion(.version, $0) })
        let ln = lookup.answer(tools.ln.map { ToolQuestion(.version, $0) })
        let pkgConfig = lookup.answer(tools.pkgConfig.map { ToolQuestion(.libbpfPkgConfig, $0) })
        let staticLibraries = lookup.answer(tools.staticPkgConfig.map(staticLibrariesQuestion))
        let swift = swiftTools.compactMap { lookup.answer(ToolQuestion(.version, $0)) }
        guard lookup.missing.isEmpty, let clang, let cc else { return .needs(lookup.missing) }
        var toolchain = try assemble(choices, tools, clang: clang, cc: cc, bpftool: bpftool, make: make, ln: ln,
                                     pkgConfig: pkgConfig, staticLibraries: staticLibraries, facts: &facts)
        toolchain.swift = self.swiftTools(swiftTools, answers: swift, libbpf: toolchain.libbpf)
        return .resolved(Resolution(toolchain: toolchain, freshAnswers: facts.fresh))
    }

    /// The toolchain, asking whatever no cached answer covers.
    public func resolve(asking ask: @escaping ToolQuestion.Asker = ToolQuestion.askTool) async throws -> Resolution {
        switch try attempt() {
        case .resolved(let resolution): return resolution
        case .needs(let questions): return try await resolve(answering: questions, asking: ask)
        }
    }

    /// Asks `questions` (all at once), then attempts again with the answers, until the toolchain is
    /// resolved; the answers asked are among the fresh ones. A target of the other byte order takes
    /// two rounds (bpftool first), any other build one.
    public func resolve(answering questions: [ToolQuestion], asking ask: @escaping ToolQuestion.Asker = ToolQuestion.askTool)
        async throws -> Resolution {
        var resolver = self
        var asked: [(key: ToolAnswers.Key, values: [String])] = []
        var questions = questions
        while true {
            for answer in try await ToolQuestion.ask(questions, with: ask) {
                resolver.answers[answer.key] = answer.values
                asked.append(answer)
            }
            switch try resolver.attempt() {
            case .resolved(var resolution):
                resolution.freshAnswers = asked + resolution.freshAnswers
                return resolution
            case .needs(let more): questions = more
            }
        }
    }

    /// A toolchain for views that need only the plan's outputs (`clean`): the source trees are
    /// found as a build finds them, no tool is looked up or run, and a problem with a tree leaves
    /// it out rather than stopping the clean.
    public func outputsOnlyToolchain() -> Toolchain {
        var facts = FileFacts(cached: answers)
        let unresolved = { (role: ToolRole) in
            Tool(role: role, displayName: role.rawValue, path: role.rawValue, leadingArguments: [], version: "", fingerprint: "")
        }
        let system = Libbpf(archive: "libbpf.a", includeDirectory: nil, origin: .systemLibraryDirectory)
        var libbpf = system
        if case .source(let tree, let display, let choice)? = try? libbpfChoice() {
            libbpf = (try? sourceLibbpf(tree: tree, display: display, chosenBy: choice, facts: &facts)) ?? system
        }
        var bpftool = unresolved(.bpftool)
        var bpftoolSource: BpftoolSourceBuild?
        if case .source(let tree, let display, let choice)? = try? bpftoolChoice() {
            bpftoolSource = BpftoolSourceBuild(tree: tree, display: display, chosenBy: choice)
            bpftool = builtBpftool(from: display)
        }
        let vmlinux = (try? vmlinuxSource()) ?? .btf(path: kernelBTF, origin: .runningKernel)
        var toolchain = Toolchain(clang: unresolved(.clang), bpftool: bpftool, cc: unresolved(.cc), clangSystemIncludes: [], libbpf: libbpf,
                                  arch: arch, vmlinux: vmlinux, make: unresolved(.make), bpftoolSource: bpftoolSource, ln: unresolved(.ln))
        toolchain.target.selection = selection
        toolchain.swift = swiftApps.isEmpty ? nil : SwiftTools(swiftc: unresolved(.swiftc), printf: unresolved(.printf), libbpfHeaders: [])
        return toolchain
    }

    package func choose() throws -> Choices {
        Choices(libbpf: try libbpfChoice(), bpftool: try bpftoolChoice(), vmlinux: try vmlinuxSource())
    }

    package func locate(_ choices: Choices) throws -> Located {
        let compiler = try userCompiler()
        var located = Located(clang: try locate(.clang), cc: compiler.tool, ccOrigin: compiler.origin)
        if case .program(let tool) = choices.bpftool { located.bpftool = tool }
        if choices.needsMake { located.make = try makeTool() }
        if project.apps.contains(where: { !$0.aliases.isEmpty }) { located.ln = try locate(.ln) }
        if case .system = choices.libbpf, selection.isHost { located.pkgConfig = pkgConfigTool() }
        if selection.staticLink { located.staticPkgConfig = pkgConfigTool() }
        return located
    }

    package func assemble(_ choices: Choices, _ tools: Located, clang clangAnswer: [String], cc ccAnswer: [String], bpftool bpftoolAnswer: [String]?,
                  make makeAnswer: [String]?, ln lnAnswer: [String]?, pkgConfig pkgConfigAnswer: [String]?,
                  staticLibraries staticAnswer: [String]?, facts: inout FileFacts) throws -> Toolchain {
        var clang = tools.clang, cc = tools.cc
        clang.version = clangAnswer.first ?? "unknown"
        guard clangAnswer.count >= 2, clangAnswer[1] == "bpf" else {
            throw ToolchainError.clangWithoutBPFTarget(clang: clang.path, version: clang.version)
        }
        cc.version = ccAnswer.first ?? "unknown"
        let libbpf: Libbpf
        switch choices.libbpf {
        case .archive(let path, let include, let origin):
            libbpf = try explicitLibbpf(archive: path, include: include, origin: origin, facts: &facts)
        case .system:
            libbpf = try systemLibbpf(pkgConfigAnswer: pkgConfigAnswer, facts: &facts)
        case .source(let tree, let display, let chosenBy):
            libbpf = try sourceLibbpf(tree: tree, display: display, chosenBy: chosenBy, facts: &facts)
        }
        var bpftool: Tool
        var bpftoolSource: BpftoolSourceBuild?
        switch choices.bpftool {
        case .program(let tool):
            bpftool = tool
            bpftool.version = bpftoolAnswer?.first ?? "unknown"
        case .source(let tree, let display, let chosenBy):
            bpftool = builtBpftool(from: display)
            bpftoolSource = BpftoolSourceBuild(tree: tree, display: display, chosenBy: chosenBy)
        }
        var toolchain = Toolchain(clang: clang, bpftool: bpftool, cc: cc, clangSystemIncludes: Array(clangAnswer.dropFirst(2)),
                                  libbpf: libbpf, arch: arch, vmlinux: choices.vmlinux, bpftoolSource: bpftoolSource)
        toolchain.target = try target(tools, clangIncludes: toolchain.clangSystemIncludes, staticAnswer: staticAnswer)
        if var make = tools.make {
            make.version = makeAnswer?.first ?? "unknown"
            toolchain.make = make
        }
        if var ln = tools.ln {
            ln.version = lnAnswer?.first ?? "unknown"
            toolchain.ln = ln
        }
        return toolchain
    }

    /// The `__TARGET_ARCH_` name of the project's target.
    package var arch: String { project.target.name }

    /// Whether bpftool must be asked whether it can read the target's objects.
    package var needsByteOrderCheck: Bool {
        guard let arch = selection.arch, !selection.isHost else { return false }
        return arch.byteOrder != (TargetArch.host?.byteOrder ?? .little)
    }

    /// The resolved target: its BPF target and headers, compiler origin, libraries and the ELF
    /// identity its binaries must have.
    package func target(_ tools: Located, clangIncludes: [String], staticAnswer: [String]?) throws -> Target {
        var target = Target.host
        target.selection = selection
        target.bpfTarget = Target.bpfTarget(for: selection)
        target.compilerOrigin = tools.ccOrigin
        target.bpfSystemIncludes = try bpfSystemIncludes(clang: clangIncludes)
        if let arch = selection.arch, !selection.isHost {
            try checkTargetLibraries(arch, staticLink: selection.staticLink)
            target.expectedBinary = arch.elf
        } else if selection.staticLink {
            try checkHostStaticLibraries()
        }
        if selection.staticLink {
            (target.libraries, target.librariesOrigin) = Self.staticLibraries(answer: staticAnswer)
        }
        return target
    }

    /// The output directory as steps name it (as the planner does).
    package var outputDirectory: String { FileSystem.display(project.outputDirectory, relativeTo: project.root) }

    // MARK: Locating tools

    /// The knob (e.g. `CC="ccache cc"`), else what swbpf.toml names, else the default name on
    /// PATH, else the fallbacks.
    package func locate(_ role: ToolRole, configured: String? = nil) throws -> Tool {
        let knob = role.knob
        var words = environment[knob].map(Shell.splitWords) ?? []
        if words.isEmpty, let configured { words = [configured] }
        if words.isEmpty { words = [role.defaultName] }
        let program = words[0]
        var tried: [String] = []
        var found: (path: String, display: String)?
        if program.contains("/") {
            let path = FileSystem.absolute(program, base: project.root)
            tried.append(path)
            if FileSystem.isExecutableFile(path) { found = (path, program) }
        } else {
            found = onPath(program).map { ($0, program) }
            tried.append("\(program) on PATH")
            if found == nil, environment[knob] == nil {
                for path in role.fallbacks {
                    tried.append(path)
                    if FileSystem.isExecutableFile(path) { found = (path, path); break }
                }
            }
        }
        guard let found, let stat = FileSystem.stat(found.path) else {
            throw ToolchainError.toolNotFound(tool: role.rawValue, tried: tried, package: role.package, knob: knob)
        }
        return Tool(role: role, displayName: found.display, path: found.path, leadingArguments: Array(words.dropFirst()),
                    version: "", fingerprint: "\(stat.size):\(stat.mtimeNanoseconds):\(stat.inode)")
    }

    /// Where `program` is on PATH, whatever any knob says: for programs swbpf only needs to know
    /// are there (a cross linker, an emulator).
    package func onPath(_ program: String) -> String? {
        FileSystem.onPath(program, searchPath: environment["PATH"])
    }

    /// clang's version, whether it has the BPF target ("bpf" or "-"), then its system include dirs.
    package static func probeClang(_ tool: Tool) async throws -> [String] {
        async let verbose = ProcessRunner.capture(tool.path, tool.leadingArguments + ["-v", "-E", "-x", "c", "-"])
        async let targets = ProcessRunner.capture(tool.path, tool.leadingArguments + ["-print-targets"])
        let (details, targetList) = try await (verbose, targets)
        let text = String(decoding: details.standardError, as: UTF8.self)
        guard details.status == 0 else {
            throw ToolchainError.toolProbeFailed(tool: "clang", command: Shell.join([tool.path, "-v", "-E", "-x", "c", "-"]), output: text)
        }
        let lines = text.split(separator: "\n").map(String.init)
        let version = lines.first(where: { $0.contains("clang version") }).map(versionWord) ?? "unknown"
        var includes: [String] = []
        var inList = false
        for line in lines {
            if line.hasPrefix("#include <...> search starts here") { inList = true; continue }
            if line.hasPrefix("End of search list") { break }
            if inList {
                // macOS-style framework directories carry a suffix; they do not apply to BPF.
                let directory = line.trimmed([" ", "\t"])
                if !directory.hasSuffix("(framework directory)") { includes.append(directory) }
            }
        }
        let hasBPF = String(decoding: targetList.standardOutput, as: UTF8.self).split(separator: "\n")
            .contains { $0.trimmed([" ", "\t"]).hasPrefix("bpf ") }
        return [version, hasBPF ? "bpf" : "-"] + includes
    }

    /// pkg-config's libdir, includedir and version of libbpf, or nothing when it does not know libbpf.
    package static func probeLibbpfPkgConfig(_ tool: Tool) async throws -> [String] {
        // pkg-config prints only the last of several --variable options, so ask each apart.
        async let libdir = ProcessRunner.capture(tool.path, ["--variable=libdir", "libbpf"])
        async let includedir = ProcessRunner.capture(tool.path, ["--variable=includedir", "libbpf"])
        async let version = ProcessRunner.capture(tool.path, ["--modversion", "libbpf"])
        let outcomes = try await [libdir, includedir, version]
        guard outcomes.allSatisfy({ $0.status == 0 }) else { return [] }
        return outcomes.map { String(decoding: $0.standardOutput, as: UTF8.self).trimmed() }
    }

    package static func probeVersion(_ tool: Tool, arguments: [String]) async throws -> [String] {
        let outcome = try await ProcessRunner.capture(tool.path, tool.leadingArguments + arguments)
        let text = String(decoding: outcome.standardOutput + outcome.standardError, as: UTF8.self)
        guard outcome.status == 0, let first = text.split(separator: "\n").first else {
            throw ToolchainError.toolProbeFailed(tool: tool.role.rawValue, command: Shell.join([tool.path] + arguments), output: text)
        }
        return [versionWord(String(first))]
    }

    /// bpftool's version, then its libbpf's (`using libbpf v1.1` on the second line), or "".
    package static func probeBpftool(_ tool: Tool) async throws -> [String] {
        let outcome = try await ProcessRunner.capture(tool.path, tool.leadingArguments + ["version"])
        let text = String(decoding: outcome.standardOutput + outcome.standardError, as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        guard outcome.status == 0, let first = lines.first else {
            throw ToolchainError.toolProbeFailed(tool: tool.role.rawValue, command: Shell.join([tool.path, "version"]), output: text)
        }
        let libbpf = lines.first { $0.hasPrefix("using libbpf") }.map { versionWord($0) } ?? ""
        return [versionWord(first), libbpf]
    }

    /// The version in a banner: the word after "version", else the last word with a digit in it
    /// ("cc (Debian 12.2.0-14) 12.2.0" gives 12.2.0; "bpftool v7.1.0" gives 7.1.0).
    package static func versionWord(_ line: String) -> String {
        let words = line.split(separator: " ").map(String.init)
        if let index = words.firstIndex(of: "version"), index + 1 < words.count { return words[index + 1] }
        let candidate = words.last(where: { $0.contains(where: \.isNumber) }) ?? line
        return candidate.hasPrefix("v") ? String(candidate.dropFirst()) : candidate
    }

    /// pkg-config, with the variables that steer it folded into its identity, so that its cached
    /// answer about libbpf is dropped when they change.
    package func pkgConfigTool() -> Tool? {
        guard var tool = try? locate(.pkgConfig) else {
            return nil
        }
        let steering = ["PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR"].map { environment[$0] ?? "" }
        tool.fingerprint += " " + steering.joined(separator: ":")
        return tool
    }

    /// make, with pkg-config's search path folded into its identity: the libbpf Makefile asks
    /// pkg-config for libelf and zlib. (The variables the Makefiles read as flags are not passed
    /// to make at all: `Planner.makeSteering`.)
    package func makeTool() throws -> Tool {
        var tool = try locate(.make)
        tool.fingerprint += " " + ["PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR"].map { environment[$0] ?? "" }
            .joined(separator: ":")
        return tool
    }

    // MARK: bpftool

    /// bpftool from BPFTOOL, from swbpf.toml (`[bpftool] path`, `source = "system"` or a tree), from
    /// a bpftool tree where libbpf-bootstrap's layouts keep one, else from PATH.
    package func bpftoolChoice() throws -> BpftoolChoice {
        if let knob = environment[ToolRole.bpftool.knob], !knob.isEmpty { return .program(try locate(.bpftool)) }
        let config = project.config
        if let path = config.bpftoolPath { return .program(try locate(.bpftool, configured: path)) }
        if config.bpftoolSource == "system" { return .program(try locate(.bpftool)) }
        if let source = config.bpftoolSource {
            let tree = try SourceTrees.named(.bpftool, source, root: project.root, key: "[bpftool] source")
            return .source(tree: tree.path, display: tree.display, chosenBy: .config)
        }
        if let found = try SourceTrees.find(.bpftool, among: SourceTrees.bpftoolPlaces, root: project.root) {
            return .source(tree: found.path, display: found.display, chosenBy: .convention)
        }
        return .program(try locate(.bpftool))
    }

    /// The bootstrap bpftool that a bpftool tree's `make bootstrap` writes into the output directory.
    package func builtBpftool(from display: String) -> Tool {
        let path = FileSystem.join(outputDirectory, "bpftool/bootstrap/bpftool")
        return Tool(role: .bpftool, displayName: path, path: path, leadingArguments: [], version: "built from \(display)",
                    fingerprint: "", madeByBuild: true)
    }

    // MARK: vmlinux.h

    package func vmlinuxSource() throws -> VmlinuxSource {
        var choice: (value: String, origin: VmlinuxOrigin)?
        if let value = environment["VMLINUX"], !value.isEmpty { choice = (value, .knob) }
        else if let value = project.config.vmlinux { choice = (value.replacing("{arch}", with: arch), .config) }
        if let (value, origin) = choice, value != "kernel" {
            let path = FileSystem.absolute(value, base: project.root)
            guard FileSystem.exists(path) else { throw ToolchainError.vmlinuxSourceMissing(path: value, origin: origin.description) }
            if let kind = FileSystem.irregularKind(path) {
                throw ToolchainError.vmlinuxSourceNotAFile(path: value, origin: origin.description, kind: kind)
            }
            guard value.hasSuffix(".h") else { return .btf(path: path, origin: origin) }
            try checkNotALinkStoredAsFile(path, display: value)
            // Sources say `#include "vmlinux.h"` and find it through -I of its directory.
            guard FileSystem.split(path).base == "vmlinux.h" else {
                throw ToolchainError.vmlinuxHeaderMisnamed(path: value, origin: origin.description)
            }
            return .header(path: path, origin: origin)
        }
        if !selection.isHost, choice?.value == "kernel" { throw ToolchainError.noTargetVmlinux(arch: arch, tried: [choice?.origin.description ?? "kernel"]) }
        // A vmlinux.h beside the sources is the host's as far as anyone can tell.
        if choice == nil, selection.isHost, let local = project.localVmlinuxHeader {
            return .header(path: FileSystem.join(project.root, local), origin: .projectDirectory)
        }
        let places = SourceTrees.vmlinuxPlaces(names: [arch] + (selection.arch?.vendoredDirectories ?? []))
        if choice == nil {
            for place in places {
                let header = FileSystem.absolute(FileSystem.join(place, "vmlinux.h"), base: project.root)
                guard FileSystem.exists(header) else { continue }
                try checkNotALinkStoredAsFile(header, display: FileSystem.join(place, "vmlinux.h"))
                return .header(path: header, origin: .vendored(directory: place))
            }
        }
        guard selection.isHost else {
            throw ToolchainError.noTargetVmlinux(arch: arch, tried: places.map { FileSystem.join($0, "vmlinux.h") })
        }
        guard FileSystem.exists(kernelBTF) else { throw ToolchainError.noVmlinuxSource(btfPath: kernelBTF) }
        return .btf(path: kernelBTF, origin: .runningKernel)
    }

    package func checkNotALinkStoredAsFile(_ path: String, display: String) throws {
        if let target = SourceTrees.linkStoredAsFile(path) { throw SourceTreeError.vmlinuxLinkAsFile(path: display, target: target) }
    }
}

/// Facts read from files, cached like tool answers: keyed by the stat data of every file they were
/// read from, so a changed file is read again and an unchanged one never is.
package struct FileFacts {
    package let cached: ToolAnswers
    package private(set) var fresh: [(key: ToolAnswers.Key, values: [String])] = []

    package init(cached: ToolAnswers) { self.cached = cached }

    package mutating func values(_ name: String, from files: [String], read: () throws -> [String]) rethrows -> [String] {
        let stamps = files.map { path in FileSystem.stat(path).map { "\($0.size):\($0.mtimeNanoseconds):\($0.inode)" } ?? "-" }
        let key = ToolAnswers.Key(subject: "facts \(name) " + files.joined(separator: " "), identity: stamps.joined(separator: " "))
        if let known = cached[key] ?? fresh.first(where: { $0.key == key })?.values { return known }
        let values = try read()
        fresh.append((key, values))
        return values
    }
}
