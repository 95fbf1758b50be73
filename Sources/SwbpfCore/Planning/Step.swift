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

    /// Whether the step runs on the kernel side (clang/bpftool) or the user-space side (cc).
    public var isKernelSide: Bool { self == .vmlinux || self == .bpfCompile || self == .bpfLink || self == .skeleton }
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

/// One build step as a plain value: what runs, on what, producing what. Planning makes these;
/// the executor runs them; every view (short labels, -v, explain, compdb, traces) reads them.
public struct Step: Hashable, Sendable, Identifiable {
    public var id: Int
    public var kind: StepKind
    /// The app the step belongs to, or nil for project-wide steps (vmlinux.h, shared helpers).
    public var app: String?
    public var tool: Tool
    public var arguments: [StepArgument]
    /// When set, the tool's standard output is the step's product (`bpftool gen skeleton > FILE`).
    public var standardOutput: String?
    /// Files the step reads, relative to the project root or absolute.
    public var inputs: [String]
    public var outputs: [String]
    /// Where the compiler writes the headers it read (`-MD -MF`), if it can tell us.
    public var depfile: String?
    /// Steps that must finish first.
    public var dependencies: [Int]

    /// The primary output: what the short label names, and the key of the step's record.
    public var primaryOutput: String { standardOutput ?? outputs[0] }

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
