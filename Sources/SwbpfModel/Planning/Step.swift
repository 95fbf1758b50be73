import SwbpfBasics

/// The kinds of step in the libbpf-bootstrap flow. Every `switch` over it is exhaustive, so adding a
/// kind makes the compiler name each place that must handle it.
public enum StepKind: String, Sendable, Codable, CaseIterable {
    case vmlinux
    case precompiledHeader
    case bpfCompile
    case bpfLink
    case skeleton
    case compile
    case link
    /// libbpf.a and its headers, built from a libbpf source tree by the tree's own Makefile.
    case libbpf
    /// The bootstrap bpftool, built from a bpftool source tree by the tree's own Makefile.
    case bpftool
    /// A symbolic link that gives an app's binary another name (libbpf-tools' aliases).
    case alias
    /// swbpf's own loader (`swbpf verify`, `swbpf doctor`), linked against the project's libbpf.
    case kernelLoader
    /// A file swiftc reads that swbpf writes for a Swift app: the module map and umbrella header
    /// that import the skeleton and libbpf, and the output-file map that names the depfile.
    case swiftSupport
    /// `swiftc -c -wmo`: a Swift app's sources, compiled as one module into one object.
    case swiftCompile
    /// `swiftc OBJECT libbpf.a -lelf -lz -o BINARY`: a Swift app's binary.
    case swiftLink
    /// `bpftool gen min_core_btf`: the small BTF an app carries for a kernel without its own.
    case minCoreBTF

    /// The short label printed for the step, as libbpf-bootstrap's Makefile prints it.
    public var label: String {
        switch self {
        case .vmlinux: return "VMLINUX"
        case .precompiledHeader: return "PCH"
        case .bpfCompile: return "BPF"
        case .bpfLink: return "GEN-OBJ"
        case .skeleton: return "GEN-SKEL"
        case .compile: return "CC"
        case .link: return "BINARY"
        case .libbpf: return "LIBBPF"
        case .bpftool: return "BPFTOOL"
        case .alias: return "SYMLINK"
        case .kernelLoader: return "LOADER"
        case .swiftSupport: return "SWIFTGEN"
        case .swiftCompile: return "SWIFTC"
        case .swiftLink: return "BINARY"
        case .minCoreBTF: return "BTFGEN"
        }
    }

    /// Whether the step compiles one source file (it belongs in compile_commands.json).
    public var compilesSource: Bool {
        switch self {
        case .bpfCompile, .compile, .swiftCompile: return true
        case .vmlinux, .precompiledHeader, .bpfLink, .skeleton, .link, .libbpf, .bpftool, .alias, .kernelLoader, .swiftSupport, .swiftLink,
             .minCoreBTF:
            return false
        }
    }

    /// Whether a product rewritten with the bytes it already has is left as it was (same inode and
    /// mtime): a Swift app's module map and umbrella header, which clang's module cache checks by
    /// mtime and size, so an identical rewrite costs no module rebuild.
    public var keepsIdenticalOutputs: Bool { self == .swiftSupport }

    /// Whether the step links an app's binary (in C or in Swift).
    public var linksBinary: Bool { self == .link || self == .swiftLink }

    /// Whether what the tool prints when it succeeds is progress (a nested make's `CC` and
    /// `INSTALL` lines) rather than diagnostics: shown with -v only.
    public var printsProgress: Bool {
        switch self {
        case .libbpf, .bpftool: return true
        case .vmlinux, .precompiledHeader, .bpfCompile, .bpfLink, .skeleton, .compile, .link, .alias, .kernelLoader, .swiftSupport,
             .swiftCompile, .swiftLink, .minCoreBTF:
            return false
        }
    }

    /// Whether the shared cache may hold its outputs. A precompiled header records the absolute
    /// path of the header it is made from (clang checks that file when it loads the PCH), so its
    /// key holds that path (`CacheKey.manifest`): one PCH per vendored header on the machine, one
    /// per checkout for a generated one. The libbpf and bpftool builds are keyed by their source
    /// trees' content fingerprints (`Step.treeInputs`); links to
    /// aliases, swbpf's own loader and the few lines of a Swift app's support files are not worth a
    /// lookup. A Swift object names no checkout path (relative paths; -file-prefix-map for debug
    /// info); only its 16-byte .swift_modhash, an MD5 swiftc takes over the module and the path it
    /// writes to, differs from one compile to the next, which a cached copy serves as well.
    public var cacheable: Bool {
        switch self {
        case .vmlinux, .precompiledHeader, .bpfCompile, .bpfLink, .skeleton, .compile, .link, .libbpf, .bpftool, .swiftCompile, .swiftLink,
             .minCoreBTF:
            return true
        case .alias, .kernelLoader, .swiftSupport: return false
        }
    }
}

/// What a path on a command line is to the step.
public enum PathUse: String, Hashable, Sendable, Codable {
    /// A file the step reads.
    case input
    /// A file the step writes (under a temporary name, renamed into place when the step succeeds).
    case output
    /// A directory the tool searches (`-I`, `-idirafter`): not an input in itself.
    case searchDirectory
    /// The directory the tool writes the step's products into (make's DESTDIR or OUTPUT): while
    /// the step runs, a fresh temporary directory stands for it (see `Step.stagingDirectory`).
    case staging
    /// A directory of a source tree the tool works in (make's `-C DIR`): the tree's files are
    /// inputs through `Step.treeInputs`, not this word.
    case sourceTree
    /// The precompiled vmlinux.h a compile loads. Its contents follow from what the compile is
    /// already keyed on (the same clang, the same flags, vmlinux.h as a header it read), so it
    /// only orders the graph (an order-only input), and it is built only when a compile that
    /// uses it has to run.
    case precompiledHeader
}

/// One argument of a step, kept typed until the command is printed or run. Outputs are written
/// under a temporary name and renamed into place, so they resolve differently for the two uses.
public enum StepArgument: Hashable, Sendable, Codable {
    /// A literal word whose meaning is open: the user's flags, or a word of swbpf's whose step
    /// kind has no typed meanings yet.
    case flag(String)
    /// A literal word of swbpf's own, with what it means, attached where it is written.
    case meant(String, WordMeaning)
    /// A path word.
    case path(String, PathUse)
    /// An option glued to a path, such as `-I.output`.
    case joined(String, String, PathUse)

    package static func input(_ path: String) -> StepArgument { .path(path, .input) }
    package static func output(_ path: String) -> StepArgument { .path(path, .output) }
    package static func searchDirectory(_ path: String) -> StepArgument { .path(path, .searchDirectory) }

    /// The path this argument names, with its use; nil for a flag.
    public var pathAndUse: (path: String, use: PathUse)? {
        switch self {
        case .flag, .meant: return nil
        case .path(let path, let use), .joined(_, let path, let use): return (path, use)
        }
    }

    package func resolved(temporaryOutputs: Bool) -> String {
        func resolve(_ path: String, _ use: PathUse) -> String {
            guard temporaryOutputs else { return path }
            switch use {
            case .output: return FileSystem.temporarySibling(of: path)
            // make concatenates OUTPUT with file names, so a trailing slash is kept.
            case .staging: return FileSystem.stagingDirectory(in: path) + (path.hasSuffix("/") ? "/" : "")
            case .input, .searchDirectory, .sourceTree, .precompiledHeader: return path
            }
        }
        switch self {
        case .flag(let word), .meant(let word, _): return word
        case .path(let path, let use): return Self.notAnOption(resolve(path, use))
        case .joined(let option, let path, let use): return option + resolve(path, use)
        }
    }

    /// A file name is never read as an option: `-rf.bpf.c` would be a flag and `@x.bpf.c` a
    /// response file (whose words clang obeys, -fplugin= included), so such names are written
    /// `./-rf.bpf.c`, which names the same file.
    package static func notAnOption(_ path: String) -> String {
        path.hasPrefix("-") || path.hasPrefix("@") ? "./" + path : path
    }
}

/// What one of swbpf's own words does, named by the planning function that writes the word, so
/// `swbpf explain` reads it from the plan rather than recognising the word; its text is an
/// exhaustive switch in the explainer, so a new meaning without one does not compile. Consecutive
/// words with one meaning are explained as one (`-target bpf`).
public enum WordMeaning: String, Hashable, Sendable, Codable, CaseIterable {
    /// `-g` for a BPF compile (and its precompiled header): debug info, which for BPF is BTF.
    case bpfDebugInfo
    /// `-O2` for a BPF compile: the verifier cannot follow unoptimised code.
    case bpfOptimisation
    /// `-target bpf`, `bpfel` or `bpfeb`.
    case bpfTarget
    /// `-D__TARGET_ARCH_x`, for bpf_tracing.h's register macros.
    case targetArchitectureMacro
    /// `-include-pch`.
    case includePrecompiledHeader
    /// `-Xclang`.
    case toClangProper
    /// `-fno-pch-timestamp`.
    case noPrecompiledHeaderTimestamp
    /// `-x`.
    case inputLanguage
    /// `c-header`.
    case cHeader
    /// `-ffile-prefix-map=ROOT=.`.
    case checkoutPathMapping
}

/// What a run of arguments is for. `swbpf explain` walks these groups, so every word of every
/// command is accounted for by the planner that wrote it.
public enum ArgumentRole: String, Hashable, Sendable, Codable {
    /// bpftool's subcommand words (`btf dump file ... format c`, `gen object`, `gen skeleton`).
    case subcommand
    /// The flow's own options: `-g -O2 -target bpf -D__TARGET_ARCH_x`, or CFLAGS for cc.
    case baseOptions
    /// Extra flags from swbpf.toml (project-wide or per app).
    case userFlags
    /// `-I` directories: the output dir, libbpf's headers, the user's include dirs.
    case includePaths
    /// `-idirafter` for each of clang's default system include directories.
    case systemIncludes
    /// `-ffile-prefix-map=ROOT=.`: the checkout's path never reaches debug info, BTF or macros.
    case pathMapping
    /// `-include-pch FILE`: the precompiled vmlinux.h (see `PathUse.precompiledHeader`); left out
    /// of compilation databases, as it is swbpf's own intermediate.
    case precompiledHeader
    /// `-x c-header FILE -Xclang -fno-pch-timestamp`: what a precompiled header is made from.
    case header
    /// `-c SOURCE`.
    case source
    /// `-o OUTPUT`, or the object bpftool writes.
    case output
    /// The files bpftool reads, or the objects a link combines.
    case objects
    /// The whole BTF of the kernel `bpftool gen min_core_btf` keeps the used types of.
    case kernelBTF
    /// libbpf.a.
    case libbpf
    /// LDFLAGS, EXTRA_LDFLAGS and ldflags from swbpf.toml.
    case linkerFlags
    /// `-lNAME` for libs from swbpf.toml.
    case libraries
    /// `-lelf -lz`, which libbpf.a needs.
    case systemLibraries
    /// make's `-C DIR`: the source tree's directory whose Makefile runs.
    case makeDirectory
    /// make's `NAME=VALUE` arguments.
    case makeVariables
    /// The make target (`install`, `bootstrap`).
    case makeTarget
    /// What a symbolic link points to.
    case linkTarget
    /// The text a support file of a Swift app holds (printf's argument).
    case fileContents
    /// swiftc's module and interop options: `-module-name`, `-I` for the module map, `-Xcc` for clang.
    case swiftModule
    /// `-emit-dependencies -output-file-map FILE`: where swiftc writes the depfile swbpf reads.
    case dependencies
}

/// The Makefile variables swbpf honours as knobs that put words on command lines.
public enum FlagKnob: String, Hashable, Sendable, Codable {
    case cflags = "CFLAGS"
    case ldflags = "LDFLAGS"
    case extraLdflags = "EXTRA_LDFLAGS"
    /// The user-space compiler, which the libbpf build uses too.
    case cc = "CC"
    /// Extra words for every swiftc compile of a Swift app.
    case swiftFlags = "SWIFTFLAGS"
    /// `SWIFT_DEBUG=1`: a debug build of Swift apps (-Onone -g, the dynamic standard library).
    case swiftDebug = "SWIFT_DEBUG"
}

/// Where a group of words comes from. `swbpf explain` names it beside each word.
public enum ArgumentOrigin: Hashable, Sendable, Codable, CustomStringConvertible {
    /// swbpf's own flow.
    case swbpf
    /// `-g -Wall`, the Makefile's default CFLAGS.
    case defaultCflags
    case knob(FlagKnob)
    /// A project-wide key of swbpf.toml (`cflags`, `bpf-cflags`, `ldflags`, `libs`).
    case config(key: String)
    /// A key of an `[app.NAME]` table.
    case appConfig(app: String, key: String)
    /// A key of a `[program.NAME]` table.
    case programConfig(program: String, key: String)
    /// Where the toolchain found libbpf.
    case libbpf(LibbpfOrigin)
    /// What follows from the target or the linkage, and what chose it (`ARCH`, `--static`,
    /// `pkg-config --static --libs libelf`).
    case target(String)
    /// An option of the command line (`swbpf btfgen --kernel`).
    case commandLine(String)

    public var description: String {
        switch self {
        case .swbpf: return "swbpf"
        case .defaultCflags: return "the default CFLAGS"
        case .knob(let knob): return knob.rawValue
        case .config(let key): return "swbpf.toml \(key)"
        case .appConfig(let app, let key): return "swbpf.toml [app.\(app)] \(key)"
        case .programConfig(let program, let key): return "swbpf.toml [program.\(program)] \(key)"
        case .libbpf(let origin): return origin.description
        case .target(let origin): return origin
        case .commandLine(let option): return "the command line's \(option)"
        }
    }
}

/// Consecutive arguments with one purpose and one origin.
public struct ArgumentGroup: Hashable, Sendable, Codable {
    public var role: ArgumentRole
    public var origin: ArgumentOrigin
    public var arguments: [StepArgument]

    public init(_ role: ArgumentRole, _ arguments: [StepArgument], origin: ArgumentOrigin = .swbpf) {
        self.role = role
        self.origin = origin
        self.arguments = arguments
    }
}

/// One build step as a plain value: what runs, on what, producing what. The planning functions in
/// Steps/ make these; the graph builder numbers them and derives their dependencies; the executor
/// runs them; every view (short labels, -v, explain, compdb, JSON, traces) reads them.
public struct Step: Hashable, Sendable, Codable, Identifiable {
    /// The step's position in the plan, set by `GraphBuilder`.
    public internal(set) var id = 0
    public var kind: StepKind
    /// The app the step belongs to, or nil for project-wide steps (vmlinux.h, shared helpers).
    public var app: String?
    public var tool: Tool
    /// The arguments, grouped by purpose (see `ArgumentRole`).
    public var groups: [ArgumentGroup]
    /// When set, the tool's standard output is the step's product (`bpftool gen skeleton > FILE`).
    public var standardOutput: String?
    /// Files that must exist before the step runs because it may read them through a search path
    /// (the generated vmlinux.h and skeleton, found through `-I`). Whether it really reads them is
    /// learned from its depfile, so they order the graph without being inputs (ninja's order-only).
    public var orderOnlyInputs: [String]
    /// Where the compiler writes the headers it read (`-MD -MF`), if it can tell us.
    public var depfile: String?
    /// Source trees the step reads as a whole (a libbpf or bpftool checkout): a content
    /// fingerprint of each tree's files is one of its inputs.
    public var treeInputs: [TreeInput]
    /// When set, the tool writes the step's products under this directory (make's DESTDIR or
    /// OUTPUT, named by a `.staging` argument) rather than at their temporary siblings: it runs
    /// with a fresh temporary directory standing for this one, and each product is moved from
    /// there into place, so the atomic-rename discipline holds for a tool that writes many files.
    public var stagingDirectory: String?
    /// Where the tool keeps intermediate files between runs (make's OBJDIR, so a rebuild compiles
    /// only what changed): not a product, but swbpf's to remove when cleaning.
    public var scratchDirectory: String?
    /// What the tool writes besides its products and keeps no record of (swiftc's module cache, the
    /// autolink file of a Swift link): swbpf's to remove when cleaning, never an input.
    public var byproducts: [String] = []
    /// The libbpf whose headers a kernel or user part is compiled against, for the help line of a
    /// failure that a newer libbpf would fix.
    public var libbpf: LibbpfInUse?
    /// Environment variables the tool runs without. make reads CFLAGS and friends from its
    /// environment, so the trees' builds run without them: what they build is what their command
    /// line says, whatever swbpf's own knobs are.
    public var unsetEnvironment: [String] = []
    /// The command itself says where the depfile goes (swiftc's output-file map), so it is written
    /// at `depfile`, not at a temporary name, and swbpf adds no depfile flags.
    public var depfileNamedByCommand = false
    /// What must hold of the step's primary output before it is moved into place; checked by the
    /// executor, so a wrong product is a failed step and never looks finished.
    public var postcondition: StepPostcondition?
    /// Steps that must finish first: the producers of its inputs and order-only inputs, set by
    /// `GraphBuilder`.
    public internal(set) var dependencies: [Int] = []
    /// Files the step reads, relative to the project root or absolute: its input arguments.
    public let inputs: [String]
    /// Files the step writes (not counting `standardOutput`): its output arguments, and those it
    /// writes that no word names (the headers libbpf's `make install` puts in DESTDIR/bpf).
    public let outputs: [String]

    /// `unlistedInputs` are files the step reads that are not words of its command: the program
    /// it runs when a step of this build makes it, the binary a symbolic link points to.
    /// `extraOutputs` are the files it writes that are not words of its command.
    public init(kind: StepKind, app: String?, tool: Tool, groups: [ArgumentGroup], standardOutput: String? = nil,
                orderOnlyInputs: [String] = [], depfile: String? = nil, unlistedInputs: [String] = [],
                treeInputs: [TreeInput] = [], stagingDirectory: String? = nil, scratchDirectory: String? = nil,
                extraOutputs: [String] = []) {
        self.kind = kind
        self.app = app
        self.tool = tool
        self.groups = groups
        self.standardOutput = standardOutput
        self.orderOnlyInputs = orderOnlyInputs
        self.depfile = depfile
        self.treeInputs = treeInputs
        self.stagingDirectory = stagingDirectory
        self.scratchDirectory = scratchDirectory
        let paths = groups.flatMap(\.arguments).compactMap(\.pathAndUse)
        // Argument inputs first: a compile's first input is its source.
        inputs = paths.filter { $0.use == .input }.map(\.path) + (tool.madeByBuild ? [tool.path] : []) + unlistedInputs
        outputs = paths.filter { $0.use == .output }.map(\.path) + extraOutputs
    }

    public var arguments: [StepArgument] { groups.flatMap(\.arguments) }

    /// The precompiled headers the step loads (see `PathUse.precompiledHeader`).
    public var precompiledHeaders: [String] {
        arguments.compactMap(\.pathAndUse).filter { $0.use == .precompiledHeader }.map(\.path)
    }

    /// The primary output: what the short label names, and the key of the step's record.
    public var primaryOutput: String { standardOutput ?? outputs[0] }

    /// Every file the step produces: its outputs and the file its standard output goes to.
    public var products: [String] { outputs + (standardOutput.map { [$0] } ?? []) }

    /// Where the tool writes each product while the step runs, in `products` order: its
    /// temporary sibling, or its place in the staging directory.
    public var temporaryProducts: [String] {
        guard let stagingDirectory else { return products.map(FileSystem.temporarySibling) }
        let stage = FileSystem.stagingDirectory(in: stagingDirectory)
        return products.map { FileSystem.join(stage, FileSystem.relative($0, to: stagingDirectory)) }
    }

    /// The command as printed: the tool, its arguments with real output names, and the redirect.
    public var displayCommand: [String] {
        [tool.displayName] + tool.leadingArguments + arguments.map { $0.resolved(temporaryOutputs: false) }
    }

    /// The shell line that reproduces this step when pasted in the project directory.
    public var shellCommand: String {
        var line = Shell.join(displayCommand)
        if let file = standardOutput { line += " > " + Shell.quote(file) }
        return line
    }

    /// Where the compiler looks for headers, in order: the source's own directory (for quoted
    /// includes), then every search directory on the command line (`-I`, then `-idirafter`).
    public var includeSearchOrder: [String] {
        let source = groups.first { $0.role == .source }?.arguments.compactMap(\.pathAndUse).first?.path
        let sourceDirectory = source.map { FileSystem.split($0).directory }.map { $0.isEmpty ? "." : $0 }
        var seen = Set<String>()
        return ((sourceDirectory.map { [$0] } ?? []) + arguments.compactMap { argument in
            argument.pathAndUse.flatMap { $0.use == .searchDirectory ? $0.path : nil }
        }).filter { seen.insert($0).inserted }
    }

    /// A word as executed. A staged step's output arguments name their place in the staging
    /// directory, where the file keeps its own name (swiftc records an object's file name in it).
    package func executedWord(_ argument: StepArgument) -> String {
        guard stagingDirectory != nil, let (path, use) = argument.pathAndUse, use == .output,
              let index = products.firstIndex(of: path) else { return argument.resolved(temporaryOutputs: true) }
        let staged = temporaryProducts[index]
        if case .joined(let option, _, _) = argument { return option + staged }
        return StepArgument.notAnOption(staged)
    }

    /// The argv actually executed: outputs go to temporary names, and compilers are asked for a
    /// depfile. The depfile flags are swbpf's bookkeeping, so they are not in `displayCommand`.
    public var executedArguments: [String] {
        var words = tool.leadingArguments + arguments.map(executedWord)
        if let depfile, !depfileNamedByCommand { words += ["-MD", "-MF", FileSystem.temporarySibling(of: depfile)] }
        return words
    }
}

/// A check on a step's primary output that the tool's exit status cannot give.
public enum StepPostcondition: Hashable, Sendable, Codable {
    /// The output is an ELF executable for this machine, class and byte order: a binary built
    /// for another target (a host compiler, a host object in the link), or anything else a
    /// wrapper or a poisoned cache could leave (a script, an object file), is refused.
    case elf(ELFIdentity)

    /// Nil when `bytes` satisfy it, else what is wrong.
    public func violation(_ bytes: [UInt8]) -> String? {
        switch self {
        case .elf(let expected):
            guard let actual = ELFIdentity(header: bytes) else { return "it is not an ELF file; expected one for \(expected)" }
            guard actual == expected else { return "it is built for \(actual), not for the target's \(expected)" }
            // e_type: ET_EXEC, or ET_DYN for a position-independent executable.
            let type = expected.byteOrder == .little ? UInt16(bytes[16]) | UInt16(bytes[17]) << 8 : UInt16(bytes[16]) << 8 | UInt16(bytes[17])
            return type == 2 || type == 3 ? nil : "it is an ELF file of type \(type), not an executable"
        }
    }
}

/// Which libbpf a step uses, as a failure's help line names it.
public struct LibbpfInUse: Hashable, Sendable, Codable {
    /// `libbpf 1.1.2 from the system`.
    public var summary: String
    /// Built from a source tree (then an older one is not the reason).
    public var fromSource: Bool
    /// `1.1.2` or `1.1`, when known.
    public var version: String?

    package init(summary: String, fromSource: Bool, version: String? = nil) {
        self.summary = summary
        self.fromSource = fromSource
        self.version = version
    }
}

/// Work the executor does before any step, which the planner can describe but not do: it reads
/// no files and knows nothing of earlier builds.
public enum PreStepAction: Hashable, Sendable, Codable {
    /// Remove every output an earlier build made in `outputDirectory` that is not in `current`
    /// (a generated vmlinux.h after the project named its own, say), if it is still as that build
    /// left it: left in place it could be found on an include path instead of what the build now
    /// uses.
    case removeStaleOutputs(outputDirectory: String, current: Set<String>)
}

/// The whole build as a graph of steps, in an order where every step follows its dependencies.
public struct BuildPlan: Sendable, Codable {
    public var projectRoot: String
    public var outputDirectory: String
    public var steps: [Step]
    /// For each app, the ids of the steps that produce its binary (its whole subgraph).
    public var appSteps: [String: [Int]]
    /// Programs swbpf builds for itself when a command needs them (the kernel loader), outside
    /// every app's subgraph: a plain build does not make them, and does not remove them either.
    public var tools: [Step] = []

    /// What a build of this plan does before its steps.
    public var preSteps: [PreStepAction] {
        [.removeStaleOutputs(outputDirectory: outputDirectory, current: Set((steps + tools).flatMap(\.products)))]
    }

    /// The steps needed for `apps`, with their dependencies, in plan order.
    public func steps(for apps: [String]) -> [Step] {
        let needed = Set(apps.flatMap { appSteps[$0] ?? [] })
        return steps.filter { needed.contains($0.id) }
    }

    package init(projectRoot: String, outputDirectory: String, steps: [Step], appSteps: [String: [Int]], tools: [Step] = []) {
        self.projectRoot = projectRoot
        self.outputDirectory = outputDirectory
        self.steps = steps
        self.appSteps = appSteps
        self.tools = tools
    }
}
