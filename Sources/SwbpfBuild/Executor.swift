import FoundationEssentials
import SwbpfBasics
import SwbpfModel
#if canImport(Glibc)
import Glibc
#endif

public struct ExecutionOptions: Sendable {
    public var jobs: Int
    public var keepGoing: Bool
    /// Decide and report what would run, run nothing, write nothing.
    public var dryRun: Bool
    /// Run every step, as if every input had changed (`-B`, as make -B), without looking the
    /// steps up in the cache; what they make is still stored there.
    public var alwaysRun: Bool

    public init(jobs: Int, keepGoing: Bool, dryRun: Bool = false, alwaysRun: Bool = false) {
        self.jobs = max(1, jobs)
        self.keepGoing = keepGoing
        self.dryRun = dryRun
        self.alwaysRun = alwaysRun
    }
}

/// Runs a set of planned steps in dependency order with up to `jobs` at once. It decides what is
/// up to date, runs what is not, writes every output atomically, records each finished step in the
/// build state, and reports events. Dry runs and no-op builds are modes of the same decision, with
/// the same events. Cancelling the calling task stops the children, removes their partial outputs
/// and returns with `interrupted` set.
///
/// Two parts do the work, as ninja's `Plan` and `Builder` (n2's `BuildStates` and `Work::run`):
/// `BuildScheduler` says which ready step starts next and what a failure skips, and
/// `StepExecution` takes each step through its dirty check, cache lookup, run and record; `run`
/// connects them and counts. It touches the machine only through the process runner and the file
/// system it is handed.
public final class Executor {
    package let steps: [Step]
    package let state: BuildState
    package let options: ExecutionOptions
    package let reporter: BuildReporter
    package let files: any BuildFileSystem
    /// What the plan asks done before any step (`BuildPlan.preSteps`); nothing in a dry run.
    package let preSteps: [PreStepAction]
    package let execution: StepExecution
    private var preStepsDone = false
    /// The steps that must run, with why, in plan order: decided once, before anything runs.
    public private(set) lazy var predicted: [(step: Step, reason: String)] = predictRuns()

    public init(steps: [Step], state: BuildState, options: ExecutionOptions, reporter: BuildReporter,
                runner: any ProcessRunning, files: any BuildFileSystem, cache: (any StepCache)? = nil, preSteps: [PreStepAction] = []) {
        self.steps = steps
        self.state = state
        self.options = options
        self.reporter = reporter
        self.files = files
        self.preSteps = preSteps
        execution = StepExecution(state: state, files: files, runner: runner, cache: options.dryRun ? nil : cache, reporter: reporter,
                                  alwaysRun: options.alwaysRun)
    }

    package func processRequest(for step: Step) -> ProcessRequest { execution.processRequest(for: step) }

    /// Does the plan's pre-steps, once, before anything is decided: a removed output's record goes
    /// with it, which the decision must see.
    private func doPreSteps() {
        guard !options.dryRun, !preStepsDone else { return }
        preStepsDone = true
        for action in preSteps {
            switch action {
            case .removeStaleOutputs(let outputDirectory, let current):
                let ownership = ProductOwnership(state: state, files: files, outputDirectory: outputDirectory)
                for stale in ownership.staleProducts(current: current) {
                    files.remove(stale)
                    state.forgetOutput(stale)
                }
            }
        }
    }

    /// Every step that is out of date, and every step downstream of one, with its reason. A
    /// precompiled header is only a means to its compiles: it is due only when one of them is.
    private func predictRuns() -> [(step: Step, reason: String)] {
        doPreSteps()
        var rebuilt = Set<String>()
        var willRun = Set<Int>()
        var reasons: [Int: String] = [:]
        let byID = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0) })
        for step in steps where step.kind != .precompiledHeader {
            var reason = execution.reasonToRun(step, rebuilt: rebuilt)
            if reason == nil, let dependency = step.dependencies.first(where: willRun.contains), let upstream = byID[dependency] {
                reason = "input \(upstream.primaryOutput) is rebuilt"
            }
            if let reason {
                willRun.insert(step.id)
                rebuilt.formUnion(step.products)
                reasons[step.id] = reason
            }
        }
        for step in steps where step.kind == .precompiledHeader && consumers(of: step).contains(where: willRun.contains) {
            reasons[step.id] = execution.reasonToRun(step, rebuilt: rebuilt)
        }
        return steps.compactMap { step in reasons[step.id].map { (step, $0) } }
    }

    package static let alwaysRunReason = "-B (--always-make): every step runs"

    /// The compiles that load `step`'s precompiled header.
    private func consumers(of step: Step) -> [Int] {
        steps.filter { $0.orderOnlyInputs.contains(step.primaryOutput) && $0.kind == .bpfCompile }.map(\.id)
    }

    /// Finishes, synchronously and without a process, a thread or the concurrency runtime, a build
    /// that runs nothing: a dry run, or a build whose every step is up to date. Returns nil when
    /// steps must run (call `run`).
    public func finishWithoutRunning(since begin: Date) -> BuildSummary? {
        guard options.dryRun || predicted.isEmpty else { return nil }
        reporter.handle(.planned(steps: steps, toRun: predicted.map(\.step.id), dryRun: options.dryRun))
        var summary = BuildSummary(ran: 0, upToDate: 0, failed: [], skipped: 0, interrupted: false, dryRun: options.dryRun,
                                   started: begin, ended: begin)
        let reasons = Dictionary(uniqueKeysWithValues: predicted.map { ($0.step.id, $0.reason) })
        for step in steps {
            if let reason = reasons[step.id] {
                let now = Date()
                reporter.handle(.started(step: step, worker: 0, reason: reason, at: now))
                reporter.handle(.finished(step: step, worker: 0, result: .wouldRun, output: [], started: now, ended: now))
                summary.ran += 1
            } else {
                reporter.handle(.upToDate(step: step))
                summary.upToDate += 1
            }
        }
        // A no-op saves the stat data the check refreshed (a touched file is hashed once, not on
        // every build); a dry run writes nothing.
        if !options.dryRun { saveState() }
        summary.ended = Date()
        reporter.handle(.buildFinished(summary: summary))
        return summary
    }

    /// What a child task of the run loop did: looked a step up in the cache, or ran it.
    private enum ChildResult: Sendable {
        case lookedUp(StepExecution.Launched, CacheLookup)
        case ran(StepExecution.Finished)
    }

    public func run(since begin: Date = Date()) async -> BuildSummary {
        if let summary = finishWithoutRunning(since: begin) { return summary }
        let predictedToRun = Set(predicted.map(\.step.id))
        reporter.handle(.planned(steps: steps, toRun: predicted.map(\.step.id), dryRun: false))
        Set(steps.flatMap(\.products).map { FileSystem.split($0).directory } + steps.compactMap(\.stagingDirectory))
            .forEach(files.removeStaleTemporaries)

        let execution = self.execution, runner = execution.runner, files = self.files
        var scheduler = BuildScheduler(steps: steps, jobs: options.jobs, keepGoing: options.keepGoing)
        var precompiledHeaders = PrecompiledHeadersOnDemand()
        var summary = BuildSummary(ran: 0, upToDate: 0, failed: [], skipped: 0, interrupted: false, started: begin, ended: begin)
        var stores: [Task<[String], Never>] = []
        // Compiles whose precompiled header is now built, waiting for a worker.
        var resumed: [StepExecution.Launched] = []
        await withTaskGroup(of: ChildResult.self) { group in
            var running = 0
            func startProcess(_ launched: StepExecution.Launched) {
                var launched = launched
                let request = execution.prepareToRun(&launched)
                reporter.handle(.started(step: launched.step, worker: launched.worker, reason: launched.reason, at: launched.started))
                running += 1
                group.addTask { [launched] in .ran(await StepExecution.execute(request, launched, runner: runner)) }
            }
            /// Looks a step up in the cache when it may be there, else runs it.
            func lookUpOrRun(_ launched: StepExecution.Launched) {
                guard let cache = execution.cache, let query = execution.cacheQuery(for: launched) else { return startProcessWithItsPCH(launched) }
                running += 1
                group.addTask { .lookedUp(launched, await cache.restore(query, files: files)) }
            }
            /// Runs a step's tool, first making the precompiled header it loads if that is held.
            func startProcessWithItsPCH(_ launched: StepExecution.Launched) {
                switch precompiledHeaders.need(of: launched, execution: execution) {
                case .nothing:
                    startProcess(launched)
                case .build(let header):
                    lookUpOrRun(header)
                case .wait:
                    scheduler.free(worker: launched.worker)
                case .failed(let header):
                    scheduler.free(worker: launched.worker)
                    reporter.handle(.skipped(step: launched.step, failedDependency: header))
                    scheduler.skip(launched.step.id, because: header)
                }
            }
            func interrupted() {
                summary.interrupted = true
                scheduler.stop()
            }
            while true {
                while scheduler.hasFreeWorker, !resumed.isEmpty, !scheduler.stopped, !Task.isCancelled {
                    var launched = resumed.removeFirst()
                    launched.worker = scheduler.takeWorker()
                    startProcess(launched)
                }
                while !Task.isCancelled, let pick = scheduler.pick() {
                    guard case .decide(let step) = pick else {
                        if case .skip(let step, let cause) = pick { reporter.handle(.skipped(step: step, failedDependency: cause)) }
                        continue
                    }
                    // A step predicted to run is checked again now that everything it needs is
                    // done: an upstream output that came out byte-identical cuts the chain here.
                    // A step predicted up to date had no input that could change.
                    guard predictedToRun.contains(step.id), let reason = execution.reasonToRun(step) else {
                        reporter.handle(.upToDate(step: step))
                        summary.upToDate += 1
                        scheduler.succeeded(step.id)
                        continue
                    }
                    scheduler.starts(step)
                    if step.kind == .precompiledHeader, execution.cache != nil {
                        precompiledHeaders.hold(step, reason: reason)
                        scheduler.release(step.id)
                        continue
                    }
                    lookUpOrRun(execution.launch(step, worker: scheduler.takeWorker(), reason: reason))
                }
                guard running > 0, let child = await group.next() else { break }
                running -= 1
                switch child {
                case .lookedUp(let launched, let lookup):
                    lookup.notes.forEach { reporter.handle(.diagnostic(Diagnostic(.note, $0))) }
                    if Task.isCancelled {
                        // Interrupted while looking up: nothing was written, nothing runs.
                        scheduler.free(worker: launched.worker)
                        interrupted()
                        scheduler.release(launched.step.id)
                    } else if let hit = lookup.hit, let restored = restore(launched, from: hit) {
                        scheduler.free(worker: launched.worker)
                        reporter.handle(.restored(step: launched.step, worker: launched.worker, source: hit.source, key: hit.entryKey,
                                                  reason: launched.reason, started: launched.started, ended: restored.ended))
                        summary.restored += 1
                        // A PCH restored on demand was released when it was held: its compiles go on now.
                        if let waiting = precompiledHeaders.finished(launched.step, succeeded: true) {
                            resumed += waiting
                        } else {
                            scheduler.succeeded(launched.step.id)
                        }
                    } else {
                        // A miss, or restored outputs that could not be put in place: the tool makes them.
                        startProcessWithItsPCH(launched)
                    }
                case .ran(let finished):
                    let step = finished.launched.step
                    scheduler.free(worker: finished.launched.worker)
                    let result = execution.finish(finished)
                    if result == .succeeded, let cache = execution.cache, let request = execution.storeRequest(for: finished.launched) {
                        stores.append(Task { await cache.store(request, files: files) })
                    }
                    var output: [UInt8] = []
                    if case .success(let outcome) = finished.outcome { output = outcome.standardError + outcome.standardOutput }
                    reporter.handle(.finished(step: step, worker: finished.launched.worker, result: result, output: output,
                                              started: finished.launched.started, ended: finished.ended))
                    switch result {
                    case .succeeded, .wouldRun:
                        summary.ran += 1
                    case .failed:
                        summary.failed.append(step)
                    case .interrupted:
                        interrupted()
                    }
                    // A precompiled header built on demand was released when it was held: its
                    // compiles go on now, or are skipped.
                    if let waiting = precompiledHeaders.finished(step, succeeded: result == .succeeded) {
                        if result == .succeeded { resumed += waiting }
                        guard case .failed = result else { continue }
                        scheduler.failedOnDemand()
                        for compile in waiting {
                            reporter.handle(.skipped(step: compile.step, failedDependency: step))
                            scheduler.skip(compile.step.id, because: step)
                        }
                        continue
                    }
                    switch result {
                    case .succeeded, .wouldRun: scheduler.succeeded(step.id)
                    case .failed: scheduler.failed(step)
                    case .interrupted: scheduler.release(step.id)
                    }
                }
            }
        }
        if Task.isCancelled { summary.interrupted = true }
        await conclude(&summary, completed: scheduler.completed, startedApps: scheduler.startedApps, neverNeeded: precompiledHeaders.neverNeeded, stores: stores)
        return summary
    }

    /// Counts what a run did not run, waits for the cache's stores, saves the state and reports
    /// the end of the build.
    private func conclude(_ summary: inout BuildSummary, completed: Set<Int>, startedApps: Set<String>, neverNeeded: [Step], stores: [Task<[String], Never>]) async {
        for header in neverNeeded {
            reporter.handle(.upToDate(step: header))
            summary.upToDate += 1
        }
        // Every step not run: those a failure skipped, and those never reached because the build
        // stopped starting steps.
        summary.skipped = steps.count - summary.ran - summary.upToDate - summary.restored - summary.failed.count
        summary.keptGoing = options.keepGoing
        if !summary.failed.isEmpty || summary.interrupted {
            // A step not predicted to run was up to date before the build: its outputs are in place.
            let done = Set(steps.map(\.id)).subtracting(predicted.map(\.step.id)).union(completed)
            summary.apps = AppOutcomes(steps: steps, done: done, failed: summary.failed, started: startedApps)
        }
        if let cache = execution.cache {
            // Interrupted: what is stored locally is kept, uploads still to come are dropped.
            if summary.interrupted { stores.forEach { $0.cancel() } }
            var notes: [String] = []
            for store in stores { notes += await store.value }
            notes += await cache.finishBuild()
            notes.forEach { reporter.handle(.diagnostic(Diagnostic(.note, $0))) }
        }
        saveState()
        summary.ended = Date()
        reporter.handle(.buildFinished(summary: summary))
    }

    /// Left in a step's scratch directory while the step runs, removed when it succeeds.
    package static let unfinishedMarker = ".swbpf-unfinished"

    /// A tool that keeps intermediate files between runs (make's OBJDIR) may leave a half-written
    /// one when it is killed, which make would then trust for its mtime: so a run that did not
    /// finish leaves a marker, and the next run starts from an empty directory.
    package static func prepareScratch(_ directory: String, files: BuildFileSystem) {
        let marker = FileSystem.join(directory, unfinishedMarker)
        if files.stat(marker) != nil { files.removeTree(directory) }
        try? files.createDirectory(marker)
    }

    /// A depfile the command names is written in place, so last run's is removed first: a tool
    /// that succeeded without writing one must not leave an old list to be trusted. Products may
    /// live in a directory of their own under the output directory (a Swift app's module map).
    package static func prepareDepfileAndDirectories(of step: Step, files: BuildFileSystem) {
        if step.depfileNamedByCommand, let depfile = step.depfile { files.remove(depfile) }
        for directory in Set(step.products.map { FileSystem.split($0).directory }) where !directory.isEmpty && files.stat(directory) == nil {
            try? files.createDirectory(directory)
        }
    }

    /// Now, in the units of file mtimes. A file written before this moment has an mtime no later
    /// than it (kernels stamp mtimes from the coarse clock, or with multigrain timestamps from the
    /// fine one, never ahead of real time); one written after it almost always has a later one.
    package static func fileTimeNow() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// For each header found in one of the search directories, the same name in every directory
    /// searched before that one: a file appearing there would be read instead, so the step must
    /// run again. (The source's own directory comes first, for quoted includes.)
    package static func shadowingCandidates(of headers: [String], searchOrder: [String], root: String) -> [String] {
        // Compared as absolute paths, so `../libbpf/include` and a header under it match.
        let directories = searchOrder.map { FileSystem.absolute($0, base: root) }
        var candidates: [String] = []
        for header in headers.map({ FileSystem.absolute($0, base: root) }) {
            // The depfile does not say which directory and name the include used (`include/x.h`
            // through `.`, or `x.h` through `include`), so every reading is covered.
            for (position, directory) in directories.enumerated() where header.hasPrefix(directory == "/" ? "/" : directory + "/") {
                let name = String(header.dropFirst(directory == "/" ? 1 : directory.count + 1))
                candidates += directories[..<position].map { FileSystem.display(FileSystem.join($0, name), relativeTo: root) }
            }
        }
        return candidates
    }

    /// Puts a cache hit's outputs in place; a note says when the cache held a wrong output.
    private func restore(_ launched: StepExecution.Launched, from hit: CacheHit) -> StepExecution.Finished? {
        var notes: [String] = []
        let restored = execution.restore(launched, from: hit, notes: &notes)
        notes.forEach { reporter.handle(.diagnostic(Diagnostic(.note, $0))) }
        return restored
    }

    private func saveState() {
        do { try state.flush() } catch {
            reporter.handle(.diagnostic(Diagnostic(.warning, "could not save the build state: \(error)")))
        }
    }
}
