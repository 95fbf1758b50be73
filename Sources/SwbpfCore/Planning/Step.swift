/// The kinds of step in the libbpf-bootstrap flow.
public enum StepKind: String, Sendable, Codable, CaseIterable {
    case vmlinux
    case bpfCompile
    case bpfLink
    case skeleton
    case compile
    case link

    /// The short label printed for the step, as libbpf-bootstrap's Makefile prints it.
    public var label: String {
        switch self {
        case .vmlinux: return "VMLINUX"
        case .bpfCompile: return "BPF"
        case .bpfLink: return "GEN-OBJ"
        case .skeleton: return "GEN-SKEL"
        case .compile: return "CC"
        case .link: return "BINARY"
        }
    }
}

/// One argument of a step, kept typed until the command is printed or run. Outputs are written
/// under a temporary name and renamed into place, so they resolve differently for the two uses.
public enum StepArgument: Hashable, Sendable {
    /// A literal word, such as `-g` or `-target`.
    case flag(String)
    /// An input path.
    case input(String)
    /// An output path.
    case output(String)
    /// An option glued to a path, such as `-I.output`.
    case joined(String, String)

    func resolved(temporaryOutputs: Bool) -> String {
        switch self {
        case .flag(let word): return word
        case .input(let path): return path
        case .output(let path): return temporaryOutputs ? FileSystem.temporarySibling(of: path) : path
        case .joined(let option, let path): return option + path
        }
    }
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
    /// `-c SOURCE`.
    case source
    /// `-o OUTPUT`, or the object bpftool writes.
    case output
    /// The files bpftool reads, or the objects a link combines.
    case objects
    /// libbpf.a.
    case libbpf
    /// LDFLAGS, EXTRA_LDFLAGS and ldflags from swbpf.toml.
    case linkerFlags
    /// `-lNAME` for libs from swbpf.toml.
    case libraries
    /// `-lelf -lz`, which libbpf.a needs.
    case systemLibraries
}

/// Consecutive arguments with one purpose and one origin.
public struct ArgumentGroup: Hashable, Sendable {
    public var role: ArgumentRole
    /// Where the words come from: `swbpf`, `CFLAGS`, `swbpf.toml cflags`, `swbpf.toml [app.x] libs`...
    public var origin: String
    public var arguments: [StepArgument]

    public init(_ role: ArgumentRole, _ arguments: [StepArgument], origin: String = "swbpf") {
        self.role = role
        self.origin = origin
        self.arguments = arguments
    }
}

/// One build step as a plain value: what runs, on what, producing what. Planning makes these;
/// the executor runs them; every view (short labels, -v, explain, compdb, traces) reads them.
public struct Step: Hashable, Sendable, Identifiable {
    public var id: Int
    public var kind: StepKind
    /// The app the step belongs to, or nil for project-wide steps (vmlinux.h, shared helpers).
    public var app: String?
    public var tool: Tool
    /// The arguments, grouped by purpose (see `ArgumentRole`).
    public var groups: [ArgumentGroup]
    /// When set, the tool's standard output is the step's product (`bpftool gen skeleton > FILE`).
    public var standardOutput: String?
    /// Files the step reads, relative to the project root or absolute.
    public var inputs: [String]
    public var outputs: [String]
    /// Where the compiler writes the headers it read (`-MD -MF`), if it can tell us.
    public var depfile: String?
    /// Steps that must finish first.
    public var dependencies: [Int]

    public var arguments: [StepArgument] { groups.flatMap(\.arguments) }

    /// The primary output: what the short label names, and the key of the step's record.
    public var primaryOutput: String { standardOutput ?? outputs[0] }

    /// Every file the step produces: its outputs and the file its standard output goes to.
    public var products: [String] { outputs + (standardOutput.map { [$0] } ?? []) }

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

    /// The argv actually executed: outputs go to temporary names, and compilers are asked for a
    /// depfile. The depfile flags are swbpf's bookkeeping, so they are not in `displayCommand`.
    public var executedArguments: [String] {
        var words = tool.leadingArguments + arguments.map { $0.resolved(temporaryOutputs: true) }
        if let depfile { words += ["-MD", "-MF", FileSystem.temporarySibling(of: depfile)] }
        return words
    }
}

/// The whole build as a graph of steps, in an order where every step follows its dependencies.
public struct BuildPlan: Sendable {
    public var projectRoot: String
    public var outputDirectory: String
    public var steps: [Step]
    /// For each app, the ids of the steps that produce its binary (its whole subgraph).
    public var appSteps: [String: [Int]]

    /// The steps needed for `apps`, with their dependencies, in plan order.
    public func steps(for apps: [String]) -> [Step] {
        var needed = Set<Int>()
        var pending = apps.flatMap { appSteps[$0] ?? [] }
        while let id = pending.popLast() {
            if needed.insert(id).inserted { pending += steps[id].dependencies }
        }
        return steps.filter { needed.contains($0.id) }
    }
}
