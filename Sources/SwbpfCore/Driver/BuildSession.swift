import FoundationEssentials

/// What `swbpf build` was asked to do.
public struct BuildRequest: Sendable {
    public var directory: String
    public var apps: [String] = []
    public var jobs: Int
    public var keepGoing = false
    public var dryRun = false
    public var verbose = false
    public var explain = false
    public var lockTimeoutSeconds = 600
    /// Print a timings table and write the HTML report into the output directory.
    public var timings = false
    /// Write a Chrome trace of the build to this file.
    public var traceFile: String?
    /// Write compile_commands.json (also when swbpf.toml says `compdb = true`).
    public var compileCommands = false
    public var environment: [String: String]

    public init(directory: String, jobs: Int, environment: [String: String]) {
        self.directory = directory
        self.jobs = jobs
        self.environment = environment
    }
}

/// Everything a command needs once the project is open: the project, its state and toolchain, and
/// the plan. `build`, `explain`, `compdb` and dry runs are views of this one plan.
public struct OpenedProject {
    public var project: Project
    public var state: BuildState
    public var toolchain: Toolchain
    public var plan: BuildPlan
    public var selectedApps: [App]

    /// The directory swbpf keeps its own files in (the state, the lock).
    public static func stateDirectory(of project: Project) -> String {
        FileSystem.join(FileSystem.absolute(project.outputDirectory, base: project.root), ".swbpf")
    }

    /// Loads the project and plans it. `forWriting` creates the output directory (and checks it is
    /// writable); read-only views leave the disk untouched.
    public static func open(directory: String, apps: [String], environment: [String: String],
                            forWriting: Bool, notes: (String) -> Void) async throws -> OpenedProject {
        try await open(project: load(directory), apps: apps, environment: environment, forWriting: forWriting, notes: notes)
    }

    public static func load(_ directory: String) throws -> Project {
        try ProjectLoader.load(directory: FileSystem.absolute(directory, base: FileSystem.currentDirectory()))
    }

    public static func open(project: Project, apps: [String], environment: [String: String],
                            forWriting: Bool, notes: (String) -> Void) async throws -> OpenedProject {
        let (selected, state) = try prepare(project: project, apps: apps, forWriting: forWriting, notes: notes)
        let toolchain = try await ToolchainResolver(project: project, environment: environment, state: state).resolve()
        return try plan(project: project, selected: selected, state: state, toolchain: toolchain, environment: environment)
    }

    /// The same, synchronously, when every tool's answer is cached and nothing is unusual; nil
    /// otherwise. Notes are returned rather than printed, for the caller to show only if it goes on.
    public static func openFromCache(project: Project, apps: [String], environment: [String: String]) throws
        -> (OpenedProject, notes: [String])? {
        var notes: [String] = []
        let (selected, state) = try prepare(project: project, apps: apps, forWriting: true, notes: { notes.append($0) })
        guard state.warning == nil,
              let toolchain = try ToolchainResolver(project: project, environment: environment, state: state).resolveFromCache()
        else { return nil }
        return (try plan(project: project, selected: selected, state: state, toolchain: toolchain, environment: environment), notes)
    }

    /// Everything before the toolchain: notes, the working directory, the apps, the output
    /// directories (when writing) and the build state.
    static func prepare(project: Project, apps: [String], forWriting: Bool, notes: (String) -> Void) throws
        -> (selected: [App], state: BuildState) {
        project.notes.forEach(notes)
        guard FileSystem.changeDirectory(project.root) else { throw SwbpfError.projectDirectoryMissing(path: project.root) }
        let selected = try project.selectApps(apps)
        let stateDirectory = stateDirectory(of: project)
        if forWriting {
            try createStateDirectory(of: project)
            guard FileSystem.isWritableDirectory(FileSystem.absolute(project.outputDirectory, base: project.root)),
                  FileSystem.isWritableDirectory(stateDirectory) else {
                throw SwbpfError.outputDirectoryNotWritable(path: project.outputDirectory, reason: "permission denied")
            }
            try createDirectory(FileSystem.absolute(project.binaryDirectory, base: project.root), named: project.binaryDirectory)
        }
        let state = BuildState.load(path: FileSystem.join(stateDirectory, "state"))
        if let warning = state.warning { notes(warning) }
        return (selected, state)
    }

    /// Creates the output directory and swbpf's own directory in it.
    static func createStateDirectory(of project: Project) throws {
        try createDirectory(stateDirectory(of: project), named: project.outputDirectory)
    }

    /// Creates `path`; a failure is reported as the directory the user named not being writable.
    static func createDirectory(_ path: String, named name: String) throws {
        do {
            try FileSystem.createDirectory(path)
        } catch SwbpfError.cannotCreateDirectory(_, let reason) {
            throw SwbpfError.outputDirectoryNotWritable(path: name, reason: reason)
        }
    }

    static func plan(project: Project, selected: [App], state: BuildState, toolchain: Toolchain,
                     environment: [String: String]) throws -> OpenedProject {
        let plan = try Planner(project: project, toolchain: toolchain, settings: BuildSettings(environment: environment)).plan()
        return OpenedProject(project: project, state: state, toolchain: toolchain, plan: plan, selectedApps: selected)
    }

    public var selectedSteps: [Step] { plan.steps(for: selectedApps.map(\.name)) }

    /// A plan for views that need only the steps' outputs, not the tools (`clean`): no tool is
    /// looked up or run, so cleaning works even where the toolchain is missing.
    public static func outputsOnlyPlan(project: Project, environment: [String: String]) throws -> BuildPlan {
        let resolver = ToolchainResolver(project: project, environment: environment, state: BuildState(path: "/dev/null"))
        let vmlinux = (try? resolver.vmlinuxSource()) ?? .btf(path: resolver.kernelBTF, origin: "the running kernel")
        let unresolved = { (role: String) in
            Tool(role: role, displayName: role, path: role, leadingArguments: [], version: "", fingerprint: "")
        }
        let toolchain = Toolchain(clang: unresolved("clang"), bpftool: unresolved("bpftool"), cc: unresolved("cc"),
                                  clangSystemIncludes: [], libbpf: Libbpf(archive: "libbpf.a", includeDirectory: nil, origin: ""),
                                  arch: resolver.arch, vmlinux: vmlinux)
        return try Planner(project: project, toolchain: toolchain, settings: BuildSettings(environment: environment)).plan()
    }
}

public enum BuildSession {
    /// Finishes a plain build whose every step is up to date without starting a process, a thread
    /// or the concurrency runtime: start-up is most of a no-op's cost, and make's no-op takes a few
    /// milliseconds. The decision is the executor's own (`Executor.wouldRunNothing`). Returns nil
    /// whenever anything must run or anything is unusual (a busy lock, a tool to query, a state
    /// warning, an error): the full build then handles it, and says so as usual.
    public static func finishIfUpToDate(_ request: BuildRequest, reporter: BuildReporter) -> Int32? {
        let begin = Date()
        guard !request.dryRun, !request.timings, request.traceFile == nil, !request.compileCommands,
              let project = try? OpenedProject.load(request.directory), !project.config.compileCommands else { return nil }
        let stateDirectory = OpenedProject.stateDirectory(of: project)
        guard FileSystem.isDirectory(stateDirectory), let lock = BuildLock.tryAcquire(path: FileSystem.join(stateDirectory, "lock"))
        else { return nil }
        defer { withExtendedLifetime(lock) {} }
        guard let (opened, notes) = try? OpenedProject.openFromCache(project: project, apps: request.apps,
                                                                     environment: request.environment) else { return nil }
        let executor = Executor(steps: opened.selectedSteps, root: opened.project.root, state: opened.state,
                                options: ExecutionOptions(jobs: request.jobs, keepGoing: request.keepGoing), reporter: reporter)
        guard executor.wouldRunNothing() else { return nil }
        notes.forEach { reporter.handle(.note($0)) }
        executor.reportUpToDate(since: begin)
        return 0
    }

    /// Runs a build and returns the process exit status.
    public static func run(_ request: BuildRequest, reporter console: BuildReporter) async throws -> Int32 {
        let notes: (String) -> Void = { console.handle(.note($0)) }
        var reporter = console
        var outputDirectory = "."
        if request.timings || request.traceFile != nil {
            let recorder = TimingsRecorder { recorder in
                if request.timings {
                    notes(recorder.table().trimmed(["\n", "\r"]))
                    let path = FileSystem.join(outputDirectory, TimingsReport.fileName)
                    do {
                        try FileSystem.writeAtomically(path, Array(TimingsHTML.render(recorder, project: FileSystem.currentDirectory()).utf8))
                        notes("swbpf: timings report written to \(path)")
                    } catch { notes("\(error)") }
                }
                if let trace = request.traceFile {
                    do {
                        try FileSystem.writeAtomically(trace, TraceWriter.json(recorder))
                        notes("swbpf: trace written to \(trace) (open it in https://ui.perfetto.dev or chrome://tracing)")
                    } catch { notes("\(error)") }
                }
            }
            // The recorder hears the end first, so its report comes before the final line (and "done").
            reporter = ReporterGroup([recorder, console])
        }
        if request.dryRun {
            let opened = try await OpenedProject.open(directory: request.directory, apps: request.apps,
                                                      environment: request.environment, forWriting: false, notes: notes)
            let executor = Executor(steps: opened.selectedSteps, root: opened.project.root, state: opened.state,
                                    options: ExecutionOptions(jobs: request.jobs, keepGoing: request.keepGoing), reporter: reporter)
            let out = TextOutput.standardOutput
            let runs = executor.predictedRuns()
            for (step, reason) in runs {
                if request.explain { TextOutput.standardError.write("explain: \(step.kind.label) \(step.primaryOutput): \(reason)\n") }
                out.write(step.shellCommand + "\n")
            }
            if runs.isEmpty { out.write("swbpf: nothing to do, all \(opened.selectedSteps.count) steps are up to date\n") }
            return 0
        }

        // The lock is taken before the state is read, so two builds never record over each other.
        let project = try OpenedProject.load(request.directory)
        try OpenedProject.createStateDirectory(of: project)
        let lock = try await BuildLock.acquire(path: FileSystem.join(OpenedProject.stateDirectory(of: project), "lock"),
                                               timeoutSeconds: request.lockTimeoutSeconds, onWait: notes)
        defer { withExtendedLifetime(lock) {} }
        let opened = try await OpenedProject.open(project: project, apps: request.apps,
                                                  environment: request.environment, forWriting: true, notes: notes)
        outputDirectory = opened.plan.outputDirectory
        if request.compileCommands || project.config.compileCommands { try CompilationDatabase.write(plan: opened.plan) }
        let executor = Executor(steps: opened.selectedSteps, root: opened.project.root, state: opened.state,
                                options: ExecutionOptions(jobs: request.jobs, keepGoing: request.keepGoing), reporter: reporter)
        let summary = await executor.run()
        if summary.interrupted { return 130 }
        return summary.succeeded ? 0 : 1
    }
}
