import FoundationEssentials
import SwbpfBasics
import SwbpfBuild
import SwbpfModel
import SwbpfToolchain
import SwbpfViews

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
    /// Also build swbpf's kernel loader (for `verify`).
    public var kernelLoader = false
    /// Neither look up nor store anything in the shared cache (`--no-cache`).
    public var noCache = false
    /// `--arch` and `--static`.
    public var target = TargetOptions()
    /// The command that runs the products here (`verify`, `run`): refused for another target.
    public var runsHere: String?
    public var environment: [String: String]

    public init(directory: String, jobs: Int, environment: [String: String]) {
        self.directory = directory
        self.jobs = jobs
        self.environment = environment
    }
}

/// The command-line options that choose the target machine and the linkage (the `ARCH` knob and
/// swbpf.toml's `arch` and `static` keys choose them too: `TargetSelection.resolve`).
public struct TargetOptions: Sendable, Equatable {
    public var arch: String?
    public var staticLink = false
    public init(arch: String? = nil, staticLink: Bool = false) {
        self.arch = arch
        self.staticLink = staticLink
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
        FileSystem.join(outputDirectory(of: project), ".swbpf")
    }

    public static func outputDirectory(of project: Project) -> String {
        FileSystem.absolute(project.outputDirectory, base: project.root)
    }

    /// Loads the project and chooses its target (which decides its output directory).
    public static func load(_ directory: String, environment: [String: String], target: TargetOptions = TargetOptions()) throws -> Project {
        var project = try ProjectLoader.load(directory: FileSystem.absolute(directory, base: FileSystem.currentDirectory()))
        try project.selectTarget(option: target.arch, environment: environment, staticOption: target.staticLink)
        return project
    }

    /// Opens a project for a read-only view (explain, compdb): tools are asked what the cache
    /// does not know, and nothing is written.
    public static func open(directory: String, apps: [String], environment: [String: String], target: TargetOptions = TargetOptions(),
                            diagnostics: (Diagnostic) -> Void) async throws -> OpenedProject {
        let project = try load(directory, environment: environment, target: target)
        project.notes.forEach { diagnostics(Diagnostic(.note, $0)) }
        let selected = try project.selectApps(apps)
        let state = BuildState.load(path: FileSystem.join(stateDirectory(of: project), "state"))
        let resolution = try await ToolchainResolver(project: project, environment: environment, cachedAnswers: state.probes).resolve()
        return try plan(project: project, selected: selected, state: state, toolchain: resolution.toolchain, environment: environment)
    }

    package static func plan(project: Project, selected: [App], state: BuildState, toolchain: Toolchain,
                     environment: [String: String]) throws -> OpenedProject {
        let plan = try Planner(project: project, toolchain: toolchain, settings: BuildSettings(environment: environment)).plan()
        return OpenedProject(project: project, state: state, toolchain: toolchain, plan: plan, selectedApps: selected)
    }

    public var selectedSteps: [Step] { plan.steps(for: selectedApps.map(\.name)) }

    /// A plan for views that need only the steps' outputs, not the tools (`clean`): no tool is
    /// looked up or run, so cleaning works even where the toolchain is missing.
    public static func outputsOnlyPlan(project: Project, environment: [String: String]) throws -> BuildPlan {
        let toolchain = ToolchainResolver(project: project, environment: environment, cachedAnswers: [:]).outputsOnlyToolchain()
        return try Planner(project: project, toolchain: toolchain, settings: BuildSettings(environment: environment)).plan()
    }
}

/// A build as far as it can be taken synchronously: the project loaded, the lock taken (when it
/// is free), the state read, and, when every tool's answer is cached, the plan and the decision
/// of what must run. A no-op build or a dry run finishes from here without starting the
/// concurrency runtime; any other build continues from here, and nothing is read or decided twice.
///
/// Unchecked: it passes from the synchronous start of the process to the one task that finishes
/// the build, and is never used by two tasks (the signal handlers only cancel that task).
public final class PreparedBuild: @unchecked Sendable {
    package let request: BuildRequest
    package let project: Project
    package let selected: [App]
    public let reporter: BuildReporter
    /// Nil for a dry run (it writes nothing), or while another build holds the lock.
    package var lock: BuildLock?
    package var state: BuildState
    /// Nil while some tool must still be asked (that needs a process).
    package var executor: Executor?
    package var opened: OpenedProject?
    /// The plan whose compile_commands.json the build was asked to write and has not yet.
    package var unwrittenCompilationDatabase: BuildPlan?

    package init(request: BuildRequest, project: Project, selected: [App], reporter: BuildReporter, lock: BuildLock?, state: BuildState) {
        self.request = request
        self.project = project
        self.selected = selected
        self.reporter = reporter
        self.lock = lock
        self.state = state
    }

    package var writes: Bool { !request.dryRun }
}

public enum BuildSession {
    /// Loads the project, takes the lock if it is free, reads the state, and plans the build when
    /// every tool answer is cached. Errors are thrown for the caller to report as diagnostics.
    public static func prepare(_ request: BuildRequest, console: BuildReporter) throws -> PreparedBuild {
        let project = try OpenedProject.load(request.directory, environment: request.environment, target: request.target)
        if let command = request.runsHere, !project.target.isHost {
            throw PlanError.notThisMachine(command: command, target: project.target.name, origin: project.target.origin.description)
        }
        let reporter = reporter(for: request, project: project, console: console)
        project.notes.forEach { reporter.handle(.diagnostic(Diagnostic(.note, $0))) }
        let selected = try project.selectApps(request.apps)
        var lock: BuildLock?
        if !request.dryRun {
            try createOutputDirectories(of: project)
            lock = BuildLock.tryAcquire(path: lockPath(of: project))
            if request.kernelLoader { try KernelLoader.writeSource(stateDirectory: OpenedProject.stateDirectory(of: project)) }
        }
        let prepared = PreparedBuild(request: request, project: project, selected: selected, reporter: reporter, lock: lock,
                                     state: readState(of: project, reporter: reporter))
        if let resolution = try ToolchainResolver(project: project, environment: request.environment,
                                                  cachedAnswers: prepared.state.probes).resolveFromCache() {
            for answer in resolution.freshAnswers { prepared.state.storeProbe(answer.key, answer.values) }
            try plan(prepared, toolchain: resolution.toolchain)
        }
        return prepared
    }

    /// Finishes a build that runs nothing (every step up to date, or a dry run) without a process,
    /// a thread or the concurrency runtime: start-up is most of a no-op's cost. Returns nil when the
    /// build must go on asynchronously (`run`).
    public static func finishWithoutRunning(_ prepared: PreparedBuild, since begin: Date) -> Int32? {
        guard prepared.lock != nil || !prepared.writes, let executor = prepared.executor else { return nil }
        do { try writeCompilationDatabase(of: prepared) } catch {
            prepared.reporter.handle(.diagnostic(Diagnostic(of: error)))
            return 1
        }
        return executor.finishWithoutRunning(since: begin).map(status(of:))
    }

    /// Runs the rest of a prepared build and returns the process exit status; an error is reported
    /// to the build's reporter as a diagnostic.
    public static func run(_ prepared: PreparedBuild, since begin: Date) async -> Int32 {
        do {
            return try await continueRunning(prepared, since: begin)
        } catch is CancellationError {
            return 130
        } catch {
            prepared.reporter.handle(.diagnostic(Diagnostic(of: error)))
            return 1
        }
    }

    private static func continueRunning(_ prepared: PreparedBuild, since begin: Date) async throws -> Int32 {
        let request = prepared.request
        if prepared.writes, prepared.lock == nil {
            // Another build holds the lock: wait for it, then read the state it left.
            prepared.lock = try await BuildLock.acquire(path: lockPath(of: prepared.project), timeoutSeconds: request.lockTimeoutSeconds,
                                                        onWait: { prepared.reporter.handle(.note($0)) })
            prepared.state = readState(of: prepared.project, reporter: prepared.reporter)
            prepared.executor = nil
        }
        if prepared.executor == nil {
            let resolution = try await ToolchainResolver(project: prepared.project, environment: request.environment,
                                                         cachedAnswers: prepared.state.probes).resolve()
            for answer in resolution.freshAnswers { prepared.state.storeProbe(answer.key, answer.values) }
            try plan(prepared, toolchain: resolution.toolchain)
        }
        guard let executor = prepared.executor else { return 1 }
        try writeCompilationDatabase(of: prepared)
        return status(of: await executor.run(since: begin))
    }

    package static func status(of summary: BuildSummary) -> Int32 {
        if summary.interrupted { return 130 }
        return summary.succeeded ? 0 : 1
    }

    private static func plan(_ prepared: PreparedBuild, toolchain: Toolchain) throws {
        let request = prepared.request
        let opened = try OpenedProject.plan(project: prepared.project, selected: prepared.selected, state: prepared.state,
                                            toolchain: toolchain, environment: request.environment)
        ToolchainAnnouncement.announce(toolchain, state: prepared.state, reporter: prepared.reporter, project: prepared.project)
        let files = ProjectFileSystem(root: prepared.project.root)
        let steps = opened.selectedSteps + (request.kernelLoader ? opened.plan.tools : [])
        if prepared.writes {
            let ownership = ProductOwnership(state: prepared.state, files: files, outputDirectory: opened.plan.outputDirectory)
            try ownership.checkMayWrite(steps)
            if request.compileCommands || prepared.project.config.compileCommands { prepared.unwrittenCompilationDatabase = opened.plan }
        }
        prepared.opened = opened
        prepared.executor = Executor(steps: steps, state: prepared.state,
                                     options: ExecutionOptions(jobs: request.jobs, keepGoing: request.keepGoing, dryRun: request.dryRun),
                                     reporter: prepared.reporter, runner: SystemProcessRunner(), files: files,
                                     cache: try sharedCache(for: prepared), preSteps: opened.plan.preSteps)
    }

    /// Writes compile_commands.json when the build asked for it, once the build holds the lock and
    /// goes ahead (planning writes nothing).
    private static func writeCompilationDatabase(of prepared: PreparedBuild) throws {
        guard let plan = prepared.unwrittenCompilationDatabase else { return }
        try CompilationDatabase.write(plan: plan)
        prepared.unwrittenCompilationDatabase = nil
    }

    /// The shared cache a build uses, or nil when it is off; a malformed setting is an error.
    /// Only settings are read here: a no-op build never touches the cache.
    package static func sharedCache(for prepared: PreparedBuild) throws -> SharedCache? {
        guard prepared.writes else { return nil }
        do {
            return try CacheSettings.resolve(environment: prepared.request.environment, config: prepared.project.config,
                                             disabled: prepared.request.noCache).map(SharedCache.init)
        } catch CacheError.noCacheDirectory {
            prepared.reporter.handle(.diagnostic(CacheError.noCacheDirectory.diagnostic))
            return nil
        }
    }

    private static func readState(of project: Project, reporter: BuildReporter) -> BuildState {
        let state = BuildState.load(path: FileSystem.join(OpenedProject.stateDirectory(of: project), "state"))
        if let warning = state.warning { reporter.handle(.diagnostic(Diagnostic(.warning, warning))) }
        return state
    }

    package static func lockPath(of project: Project) -> String { FileSystem.join(OpenedProject.stateDirectory(of: project), "lock") }

    /// The output directory with swbpf's own directory in it, and the binary directory.
    package static func createOutputDirectories(of project: Project) throws {
        let output = OpenedProject.outputDirectory(of: project)
        try createDirectory(OpenedProject.stateDirectory(of: project), named: project.outputDirectory)
        guard FileSystem.isWritableDirectory(output), FileSystem.isWritableDirectory(OpenedProject.stateDirectory(of: project)) else {
            throw OutputError.outputDirectoryNotWritable(path: project.outputDirectory, reason: "permission denied")
        }
        try createDirectory(FileSystem.absolute(project.binaryDirectory, base: project.root), named: project.binaryDirectory)
    }

    /// Creates `path`; a failure is reported as the directory the user named not being writable.
    package static func createDirectory(_ path: String, named name: String) throws {
        do {
            try FileSystem.createDirectory(path)
        } catch FileError.cannotCreateDirectory(_, let reason) {
            throw OutputError.outputDirectoryNotWritable(path: name, reason: reason)
        }
    }

    /// The console, with the timings and trace recorders in front of it when asked for: the
    /// recorder hears the end first, so its report comes before the final line (and "done").
    package static func reporter(for request: BuildRequest, project: Project, console: BuildReporter) -> BuildReporter {
        // A dry run writes nothing, reports included.
        guard request.timings || request.traceFile != nil, !request.dryRun else { return console }
        let notes: (String) -> Void = { console.handle(.note($0)) }
        let failed: (Error) -> Void = { console.handle(.diagnostic(Diagnostic(of: $0))) }
        let recorder = TimingsRecorder { recorder in
            if request.timings {
                notes(recorder.table().trimmed(["\n", "\r"]))
                let output = OpenedProject.outputDirectory(of: project)
                do {
                    try FileSystem.createDirectory(output)
                    let path = FileSystem.join(output, TimingsReport.fileName)
                    try FileSystem.writeAtomically(path, Array(TimingsHTML.render(recorder, project: project.root).utf8))
                    notes("swbpf: timings report written to \(FileSystem.display(path, relativeTo: project.root))")
                } catch { failed(error) }
            }
            if let trace = request.traceFile {
                do {
                    try FileSystem.writeAtomically(trace, TraceWriter.json(recorder))
                    notes("swbpf: trace written to \(trace) (open it in https://ui.perfetto.dev or chrome://tracing)")
                } catch { failed(error) }
            }
        }
        return ReporterGroup([recorder, console])
    }
}
