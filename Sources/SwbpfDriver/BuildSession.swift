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
    /// `-q`: print only errors and the final failure summary.
    public var quiet = false
    /// `-B`: run every step, as if every input changed; the cache is not looked up.
    public var alwaysRun = false
    /// `--color`: whether the human output is coloured (and counted).
    public var color = ColorChoice.auto
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
    /// `swbpf btfgen --kernel`: kernels the selected apps carry a small BTF for in this run,
    /// besides their `btf-for`.
    public var btfKernels: [String] = []
    public var environment: [String: String]
    /// Set for a plain `swbpf build` line (`NoopFastPath.key`): its no-op is recorded under this key
    /// and answered from the record while nothing it looked at changes.
    public var noopKey: Digest?

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

/// Everything a command needs once the project is open: the project, its toolchain, and the plan.
/// `build`, `explain`, `compdb` and dry runs are views of this one plan.
public struct OpenedProject {
    public var project: Project
    public var toolchain: Toolchain
    public var plan: BuildPlan
    public var selectedApps: [App]
    /// Apps a bare build leaves out because the preprocessor says they include an optional header
    /// that is on no include path (`OptionalHeaders`).
    public var leftOut: Set<String> = []

    /// The directory swbpf keeps its own files in (the state, the tool answers, the lock).
    public static func stateDirectory(of project: Project) -> String {
        stateDirectory(inOutput: outputDirectory(of: project))
    }

    public static func stateDirectory(inOutput outputDirectory: String) -> String {
        FileSystem.join(outputDirectory, ".swbpf")
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
        var answers = ToolAnswers.load(path: toolAnswersPath(of: project))
        let resolution = try await ToolchainResolver(project: project, environment: environment, answers: answers).resolve()
        var kernels = BTFKernels.remembered(project)
        if kernels == nil {
            kernels = try await BTFKernels.resolve(project, environment: environment, save: false, note: { diagnostics(Diagnostic(.note, $0)) })
        }
        var opened = try plan(project: project, selected: selected, toolchain: resolution.toolchain, environment: environment,
                              kernelBTFs: kernels ?? [:])
        // The build's decision on optional headers, from the cached answers or asking now.
        var lookup = AnswerLookup(answers: answers)
        var decision = OptionalHeaders.decide(project, selected: selected, requested: apps, plan: opened.plan, lookup: &lookup)
        if decision == nil {
            for answer in try await ToolQuestion.ask(lookup.missing, with: ToolQuestion.askTool) { answers[answer.key] = answer.values }
            lookup = AnswerLookup(answers: answers)
            decision = OptionalHeaders.decide(project, selected: selected, requested: apps, plan: opened.plan, lookup: &lookup)
        }
        if case let (built, leftOut)? = decision {
            opened.selectedApps = built
            opened.leftOut = Set(leftOut.map(\.name))
            leftOut.compactMap(\.unavailable).forEach { diagnostics(Diagnostic(.note, $0)) }
        }
        return opened
    }

    package static func toolAnswersPath(of project: Project) -> String {
        FileSystem.join(stateDirectory(of: project), ToolAnswers.fileName)
    }

    package static func plan(project: Project, selected: [App], toolchain: Toolchain, environment: [String: String],
                             kernelBTFs: [String: KernelBTF]) throws -> OpenedProject {
        let plan = try Planner(project: project, toolchain: toolchain, settings: BuildSettings(environment: environment), kernelBTFs: kernelBTFs).plan()
        return OpenedProject(project: project, toolchain: toolchain, plan: plan, selectedApps: selected)
    }

    public var selectedSteps: [Step] { plan.steps(for: selectedApps.map(\.name)) }

    /// The compiles compile_commands.json lists: every app's but those of the apps left out.
    public var compileDatabaseSteps: [Step] { plan.steps.filter { $0.app.map { !leftOut.contains($0) } ?? true } }

    /// A plan for views that need only the steps' outputs, not the tools (`clean`): no tool is
    /// looked up or run, so cleaning works even where the toolchain is missing (a small BTF's
    /// file is known from the kernels an earlier build resolved).
    public static func outputsOnlyPlan(project: Project, environment: [String: String]) throws -> BuildPlan {
        let toolchain = ToolchainResolver(project: project, environment: environment).outputsOnlyToolchain()
        return try Planner(project: project, toolchain: toolchain, settings: BuildSettings(environment: environment),
                           kernelBTFs: BTFKernels.remembered(project) ?? [:]).plan()
    }
}

/// What a build runs on: the processes of its steps, and the answers of its tools. Tests count or
/// refuse them.
package struct BuildMachine: Sendable {
    package var runner: any ProcessRunning = SystemProcessRunner()
    package var askTool: ToolQuestion.Asker = ToolQuestion.askTool

    package init() {}
}

/// One build, as far as it got. `BuildSession.start` takes it as far as it goes without a
/// process; `BuildSession.finish` takes it the rest of the way. Each part is done once: the
/// toolchain is resolved, the plan made and the state read once per build.
///
/// Unchecked: it passes from the synchronous start of the process to the one task that finishes
/// the build, and is never used by two tasks (the signal handlers only cancel that task).
public final class PreparedBuild: @unchecked Sendable {
    package let request: BuildRequest
    package let project: Project
    package let selected: [App]
    public let reporter: BuildReporter
    package let begin: Date
    package let machine: BuildMachine
    /// Nil for a dry run (it writes nothing), or while another build holds the lock.
    package var lock: BuildLock?
    /// Tool answers cached by earlier builds, with those this build asked the preprocessor.
    package private(set) var answers: ToolAnswers
    /// What must still be asked (that needs processes): the tools, before the toolchain is known;
    /// then the preprocessor, about the apps a bare build would otherwise leave out.
    package var questions: [ToolQuestion] = []
    /// The toolchain, once resolved.
    private var resolution: ToolchainResolver.Resolution?
    /// The kernels of the apps' `btf-for`, once known (remembered, or resolved by `answerQuestions`).
    private var kernelBTFs: [String: KernelBTF]?
    /// The fresh answers (the resolution's and the preprocessor's), and the notes shown if they
    /// changed: saved with the lock.
    private var freshAnswers: [(key: ToolAnswers.Key, values: [String])] = []
    private var askedPreprocessor: [(key: ToolAnswers.Key, values: [String])] = []
    private var shownNotes: ShownNotes?
    /// The plan, once the toolchain is known.
    package var opened: OpenedProject?
    /// The decision of what runs, made once the plan is there and the state may be read.
    package var executor: Executor?

    package init(request: BuildRequest, project: Project, selected: [App], reporter: BuildReporter, begin: Date, machine: BuildMachine,
                 lock: BuildLock?, answers: ToolAnswers) {
        self.request = request
        self.project = project
        self.selected = selected
        self.reporter = reporter
        self.begin = begin
        self.machine = machine
        self.lock = lock
        self.answers = answers
    }

    package var writes: Bool { !request.dryRun }

    /// The project as planned, once the build got that far.
    public var plannedProject: OpenedProject? { opened }

    package var resolver: ToolchainResolver {
        ToolchainResolver(project: project, environment: request.environment, answers: answers)
    }

    /// Plans the build with its toolchain, with the left-out candidates the preprocessor clears,
    /// and says which toolchain and which apps are left out when those notes are due. Leaves the
    /// preprocessor's questions no cached answer covers in `questions` instead, with nothing planned.
    package func plan(_ resolution: ToolchainResolver.Resolution) throws {
        self.resolution = resolution
        freshAnswers = resolution.freshAnswers
        // Kernels no earlier build resolved need processes (apt, lz4): planned once they are known.
        questions = []
        guard let kernelBTFs = kernelBTFs ?? BTFKernels.remembered(project) else { return }
        self.kernelBTFs = kernelBTFs
        var opened = try OpenedProject.plan(project: project, selected: selected, toolchain: resolution.toolchain,
                                            environment: request.environment, kernelBTFs: kernelBTFs)
        var lookup = AnswerLookup(answers: answers)
        guard case let (built, leftOut)? = OptionalHeaders.decide(project, selected: selected, requested: request.apps, plan: opened.plan,
                                                            lookup: &lookup) else {
            questions = lookup.missing
            return
        }
        questions = []
        opened.selectedApps = built
        opened.leftOut = Set(leftOut.map(\.name))
        self.opened = opened
        var notes = ShownNotes.load(project: project)
        OptionalHeaders.announce(leftOut, notes: &notes, reporter: reporter)
        ToolchainAnnouncement.announce(resolution.toolchain, notes: &notes, reporter: reporter, project: project)
        shownNotes = notes.changed ? notes : nil
    }

    /// Asks the pending questions (all at once) and plans with the answers: the tools' resolve the
    /// toolchain, the preprocessor's decide the left-out apps. Planning may leave new questions
    /// (the preprocessor's, once the toolchain is known).
    package func answerQuestions() async throws {
        guard let resolution else {
            return try plan(try await resolver.resolve(answering: questions, asking: machine.askTool))
        }
        if kernelBTFs == nil {
            kernelBTFs = try await BTFKernels.resolve(project, environment: request.environment, save: writes,
                                                      note: { self.reporter.handle(.note($0)) })
        }
        for answer in try await ToolQuestion.ask(questions, with: machine.askTool) {
            answers[answer.key] = answer.values
            askedPreprocessor.append(answer)
        }
        try plan(resolution)
    }

    /// With the plan made and the lock held (or for a dry run): saves what the resolution learnt,
    /// reads the state, checks that every product may be written, writes compile_commands.json
    /// when asked, and hands the executor the plan's pre-steps (it removes stale products before
    /// it decides what must run).
    package func decide() throws -> Executor {
        guard let opened else { preconditionFailure("decide() before plan()") }
        if writes { remember() }
        let state = BuildSession.readState(of: project, reporter: reporter)
        let files = ProjectFileSystem(root: project.root)
        let steps = opened.selectedSteps + (request.kernelLoader ? opened.plan.tools : [])
        if writes {
            let ownership = ProductOwnership(state: state, files: files, outputDirectory: opened.plan.outputDirectory)
            try ownership.checkMayWrite(steps)
            if request.compileCommands || project.config.compileCommands { try CompilationDatabase.write(opened) }
        }
        let executor = Executor(steps: steps, state: state,
                                options: ExecutionOptions(jobs: request.jobs, keepGoing: request.keepGoing, dryRun: request.dryRun,
                                                          alwaysRun: request.alwaysRun),
                                reporter: reporter, runner: machine.runner, files: files, cache: try BuildSession.sharedCache(for: self),
                                preSteps: opened.plan.preSteps)
        self.executor = executor
        return executor
    }

    /// Saves the fresh answers and the notes shown. Neither is needed for a correct build, so a
    /// failure is a warning.
    private func remember() {
        do {
            try ToolAnswers.save(freshAnswers + askedPreprocessor, to: OpenedProject.toolAnswersPath(of: project))
            freshAnswers = []
            askedPreprocessor = []
            try shownNotes?.save(project: project)
            shownNotes = nil
        } catch {
            reporter.handle(.diagnostic(Diagnostic(.warning, "could not save the tool answers or the notes shown: \(Diagnostic(of: error).message)")))
        }
    }
}

public enum BuildSession {
    /// How far `start` took a build.
    public enum Start: Sendable {
        /// It is over: nothing had to run (a no-op, a dry run), or it could not start (the error
        /// was reported). `build` is nil when the project could not be opened.
        case ended(status: Int32, build: PreparedBuild?)
        /// Tools must be asked, steps run or the lock waited for: `finish` it.
        case goesOn(PreparedBuild)
    }

    /// The one way into a build. Loads the project, takes the lock if it is free, resolves the
    /// toolchain from cached answers, plans, reads the state and decides what must run; a build
    /// that needs no process (every tool answer cached and every step up to date, or a dry run)
    /// ends right here, with no thread and no concurrency runtime. Errors are reported as
    /// diagnostics.
    public static func start(_ request: BuildRequest, console: BuildReporter, since begin: Date = Date()) -> Start {
        start(request, console: console, since: begin, machine: BuildMachine())
    }

    package static func start(_ request: BuildRequest, console: BuildReporter, since begin: Date, machine: BuildMachine) -> Start {
        NoopFastPath.startRecording(request, console: console) { decide(request, console: $0, since: begin, machine: machine) }
    }

    private static func decide(_ request: BuildRequest, console: BuildReporter, since begin: Date, machine: BuildMachine) -> Start {
        let build: PreparedBuild
        do {
            build = try open(request, console: console, since: begin, machine: machine)
        } catch {
            console.handle(.diagnostic(Diagnostic(of: error)))
            return .ended(status: 1, build: nil)
        }
        do {
            switch try build.resolver.attempt() {
            case .needs(let questions):
                build.questions = questions
                return .goesOn(build)
            case .resolved(let resolution):
                try build.plan(resolution)
                if build.opened == nil { return .goesOn(build) }
            }
            guard build.lock != nil || !build.writes else { return .goesOn(build) }
            guard let summary = try build.decide().finishWithoutRunning(since: begin) else { return .goesOn(build) }
            return .ended(status: status(of: summary), build: build)
        } catch {
            build.reporter.handle(.diagnostic(Diagnostic(of: error)))
            return .ended(status: 1, build: build)
        }
    }

    /// Takes a build that went on the rest of the way: asks the tools what the cache did not
    /// know, waits for the lock, and runs what must run. Returns the process exit status; an
    /// error is reported to the build's reporter as a diagnostic.
    public static func finish(_ build: PreparedBuild) async -> Int32 {
        do {
            while build.opened == nil { try await build.answerQuestions() }
            if build.writes, build.lock == nil {
                build.lock = try await BuildLock.acquire(path: lockPath(of: build.project), timeoutSeconds: build.request.lockTimeoutSeconds,
                                                         onWait: { build.reporter.handle(.note($0)) })
            }
            let executor = try build.executor ?? build.decide()
            return status(of: await executor.run(since: build.begin))
        } catch is CancellationError {
            return 130
        } catch {
            build.reporter.handle(.diagnostic(Diagnostic(of: error)))
            return 1
        }
    }

    /// One whole build, for the commands that go on after it (install, verify, run, --watch):
    /// `start`, then `finish` when it goes on. The build comes back whenever it was made: it holds
    /// the project's lock until released, and its plan and state say what the build read.
    public static func build(_ request: BuildRequest, console: BuildReporter, since begin: Date = Date()) async
        -> (status: Int32, prepared: PreparedBuild?) {
        await build(request, console: console, since: begin, machine: BuildMachine())
    }

    package static func build(_ request: BuildRequest, console: BuildReporter, since begin: Date, machine: BuildMachine) async
        -> (status: Int32, prepared: PreparedBuild?) {
        switch start(request, console: console, since: begin, machine: machine) {
        case .ended(let status, let build): return (status, build)
        case .goesOn(let build): return (await finish(build), build)
        }
    }

    /// The project loaded and its apps selected, its output directories made, the lock taken if
    /// it is free, and the cached tool answers read.
    private static func open(_ request: BuildRequest, console: BuildReporter, since begin: Date, machine: BuildMachine) throws -> PreparedBuild {
        var project = try OpenedProject.load(request.directory, environment: request.environment, target: request.target)
        if let command = request.runsHere, !project.target.isHost {
            throw PlanError.notThisMachine(command: command, target: project.target.name, origin: project.target.origin.description)
        }
        let reporter = reporter(for: request, project: project, console: console)
        project.notes.forEach { reporter.handle(.diagnostic(Diagnostic(.note, $0))) }
        var selected = try project.selectApps(request.apps)
        if !request.btfKernels.isEmpty {
            project.addBTFKernels(request.btfKernels, to: Set(selected.map(\.name)), base: FileSystem.currentDirectory())
            selected = try project.selectApps(request.apps)
        }
        var lock: BuildLock?
        if !request.dryRun {
            try createOutputDirectories(of: project)
            lock = BuildLock.tryAcquire(path: lockPath(of: project))
            // The no-op records' directory: made once the lock vouches for swbpf's directory (a link
            // there is refused, never followed), and by the build that first takes it, so that the
            // first record is not the first change to that directory. Only an accelerator's.
            if lock != nil { try? FileSystem.createDirectory(FileSystem.join(OpenedProject.stateDirectory(of: project), NoopRecord.directoryName)) }
            if request.kernelLoader { try KernelLoader.writeSource(stateDirectory: OpenedProject.stateDirectory(of: project)) }
        }
        return PreparedBuild(request: request, project: project, selected: selected, reporter: reporter, begin: begin, machine: machine,
                             lock: lock, answers: ToolAnswers.load(path: OpenedProject.toolAnswersPath(of: project)))
    }

    package static func status(of summary: BuildSummary) -> Int32 {
        if summary.interrupted { return 130 }
        return summary.succeeded ? 0 : 1
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

    package static func readState(of project: Project, reporter: BuildReporter) -> BuildState {
        let state = BuildState.load(path: FileSystem.join(OpenedProject.stateDirectory(of: project), "state"))
        if let warning = state.warning { reporter.handle(.diagnostic(Diagnostic(.warning, warning))) }
        return state
    }

    package static func lockPath(of project: Project) -> String { lockPath(stateDirectory: OpenedProject.stateDirectory(of: project)) }

    package static func lockPath(stateDirectory: String) -> String { FileSystem.join(stateDirectory, "lock") }

    /// The output directory with swbpf's own directory in it, and the binary directory.
    package static func createOutputDirectories(of project: Project) throws {
        try project.checkOutputDirectoryIsSwbpfs()
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
