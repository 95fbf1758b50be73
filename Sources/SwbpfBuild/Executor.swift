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
/// It touches the machine only through the process runner and the file system it is handed.
public final class Executor {
    package let steps: [Step]
    package let state: BuildState
    package let options: ExecutionOptions
    package let reporter: BuildReporter
    package let runner: any ProcessRunning
    package let files: any BuildFileSystem
    /// Asked before a step that must run is launched, told after one succeeds; nil: no cache.
    package let cache: (any StepCache)?
    package var check: DirtyCheck
    /// The products of steps just recorded that the cache will store, by step id: read and hashed
    /// once for both.
    private var productsToStore: [Int: [CacheStoreRequest.Product]] = [:]
    /// The steps that must run, with why, in plan order: decided once, before anything runs.
    public private(set) lazy var predicted: [(step: Step, reason: String)] = predictRuns()

    public init(steps: [Step], state: BuildState, options: ExecutionOptions, reporter: BuildReporter,
                runner: any ProcessRunning, files: any BuildFileSystem, cache: (any StepCache)? = nil) {
        self.steps = steps
        self.cache = cache
        self.state = state
        self.options = options
        self.reporter = reporter
        self.runner = runner
        self.files = files
        self.check = DirtyCheck(state: state, files: files)
    }

    /// Every step that is out of date, and every step downstream of one, with its reason. A
    /// precompiled header is only a means to its compiles: it is due only when one of them is.
    private func predictRuns() -> [(step: Step, reason: String)] {
        var rebuilt = Set<String>()
        var willRun = Set<Int>()
        var reasons: [Int: String] = [:]
        let byID = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0) })
        for step in steps where step.kind != .precompiledHeader {
            var reason = reasonToRun(step, rebuilt: rebuilt)
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
            reasons[step.id] = reasonToRun(step, rebuilt: rebuilt)
        }
        return steps.compactMap { step in reasons[step.id].map { (step, $0) } }
    }

    /// Why `step` must run, or nil when it is up to date: with `-B`, every step runs.
    private func reasonToRun(_ step: Step, rebuilt: Set<String> = []) -> String? {
        options.alwaysRun ? Self.alwaysRunReason : check.reason(for: step, rebuilt: rebuilt)
    }

    package static let alwaysRunReason = "-B (--always-make): every step runs"

    /// The compiles that load `step`'s precompiled header.
    private func consumers(of step: Step) -> [Int] {
        steps.filter { $0.orderOnlyInputs.contains(step.primaryOutput) && $0.kind == .bpfCompile }.map(\.id)
    }

    /// With a cache, a precompiled header is made on demand: held when it is ready, and restored
    /// from the cache or built by the first compile that needs it, after that compile missed the
    /// cache. A build whose compiles all come from the cache never spends the time.
    private enum PrecompiledHeaderState {
        case held(reason: String)
        case building(waiting: [Launched])
        case built
        case failed
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

    private struct Launched: Sendable {
        var step: Step
        var worker: Int
        var reason: String
        /// The step's first-level cache key, when the cache may hold it.
        var manifestKey: String?
        var started: Date
        /// When the tool started, in the units of file mtimes.
        var startedAtFileTime: Int64
        /// Stat data of the step's inputs (and last build's headers) just before it started.
        var inputsBefore: [String: FileStat]
        /// Fingerprints of the step's source trees just before it started.
        var treesBefore: [String: Digest]
    }

    private struct Finished: Sendable {
        var launched: Launched
        var outcome: Result<ProcessOutcome, ProcessFailure>?
        var cancelled: Bool
        var ended: Date
        /// Set when the outputs came from the cache instead of the tool.
        var restored: CacheHit?
    }

    /// What a child task of the run loop did: looked a step up in the cache, or ran it.
    private enum ChildResult: Sendable {
        case lookedUp(Launched, CacheLookup)
        case ran(Finished)
    }

    public func run(since begin: Date = Date()) async -> BuildSummary {
        if let summary = finishWithoutRunning(since: begin) { return summary }
        let predictedReasons = Dictionary(uniqueKeysWithValues: predicted.map { ($0.step.id, $0.reason) })
        reporter.handle(.planned(steps: steps, toRun: predicted.map(\.step.id), dryRun: false))
        Set(steps.flatMap(\.products).map { FileSystem.split($0).directory } + steps.compactMap(\.stagingDirectory))
            .forEach(files.removeStaleTemporaries)

        let byID = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0) })
        var waitingOn: [Int: Int] = [:]
        var dependents: [Int: [Int]] = [:]
        for step in steps {
            let inBuild = step.dependencies.filter { byID[$0] != nil }
            waitingOn[step.id] = inBuild.count
            for dependency in inBuild { dependents[dependency, default: []].append(step.id) }
        }
        var ready = steps.filter { waitingOn[$0.id] == 0 }.map(\.id)
        let order = SchedulingOrder(steps: steps)
        var failedBecause: [Int: Step] = [:]
        var summary = BuildSummary(ran: 0, upToDate: 0, failed: [], skipped: 0, interrupted: false, started: begin, ended: begin)
        var freeWorkers = Array((0..<options.jobs).reversed())
        var stopLaunching = false
        // Without -k a failure stops the build from starting apps; the apps it has started (that
        // do not need the failed step) are finished, so they still get their binaries.
        var failedWithoutKeepGoing = false
        var startedApps = Set<String>()
        var completed = Set<Int>()

        func complete(_ id: Int) {
            for dependent in dependents[id] ?? [] {
                waitingOn[dependent, default: 0] -= 1
                if waitingOn[dependent] == 0 { ready.append(dependent) }
            }
        }

        let runner = self.runner
        let cache = options.dryRun ? nil : self.cache
        let files = self.files
        var stores: [Task<[String], Never>] = []
        var precompiledHeaders: [String: (id: Int, state: PrecompiledHeaderState)] = [:]
        // Compiles whose precompiled header is now built, waiting for a worker.
        var resumed: [Launched] = []
        await withTaskGroup(of: ChildResult.self) { group in
            var running = 0
            func startProcess(_ launched: Launched) {
                var launched = launched
                launched.started = Date()
                if let staging = launched.step.stagingDirectory { try? files.createDirectory(FileSystem.stagingDirectory(in: staging)) }
                if let scratch = launched.step.scratchDirectory { Self.prepareScratch(scratch, files: files) }
                Self.prepareDepfileAndDirectories(of: launched.step, files: files)
                reporter.handle(.started(step: launched.step, worker: launched.worker, reason: launched.reason, at: launched.started))
                running += 1
                let request = processRequest(for: launched.step)
                group.addTask { .ran(await Self.execute(request, launched, runner: runner)) }
            }
            /// Runs a step's tool, first building the precompiled header it loads if that is held.
            func startProcessWithItsPCH(_ launched: Launched) {
                guard let pch = launched.step.orderOnlyInputs.first(where: { precompiledHeaders[$0] != nil }),
                      let (id, state) = precompiledHeaders[pch], let pchStep = byID[id] else { return startProcess(launched) }
                switch state {
                case .built:
                    startProcess(launched)
                case .held(let reason):
                    // The compile's worker restores the PCH from the cache or builds it; the compile waits for it.
                    precompiledHeaders[pch] = (id, .building(waiting: [launched]))
                    let pchLaunched = Launched(step: pchStep, worker: launched.worker, reason: "\(reason) (needed by \(launched.step.primaryOutput))",
                                               manifestKey: cache.flatMap { _ in CacheKey.manifest(of: pchStep, root: files.root) { self.check.digest($0) } },
                                               started: Date(), startedAtFileTime: Self.fileTimeNow(),
                                               inputsBefore: inputStats(of: pchStep), treesBefore: [:])
                    if let cache, let manifestKey = pchLaunched.manifestKey {
                        let query = CacheQuery(step: pchStep, manifestKey: manifestKey, knownDigests: knownDigests(of: pchStep))
                        running += 1
                        group.addTask { .lookedUp(pchLaunched, await cache.restore(query, files: files)) }
                    } else {
                        startProcess(pchLaunched)
                    }
                case .building(let waiting):
                    freeWorkers.append(launched.worker)
                    precompiledHeaders[pch] = (id, .building(waiting: waiting + [launched]))
                case .failed:
                    freeWorkers.append(launched.worker)
                    reporter.handle(.skipped(step: launched.step, failedDependency: pchStep))
                    summary.skipped += 1
                    for dependent in dependents[launched.step.id] ?? [] { failedBecause[dependent] = pchStep }
                    complete(launched.step.id)
                }
            }
            while true {
                while running < options.jobs, !resumed.isEmpty, !stopLaunching, !Task.isCancelled {
                    var launched = resumed.removeFirst()
                    launched.worker = freeWorkers.removeLast()
                    startProcess(launched)
                }
                while running < options.jobs, !ready.isEmpty, !Task.isCancelled, let step = byID[ready.remove(at: order.next(in: ready))] {
                    if let cause = failedBecause[step.id] {
                        reporter.handle(.skipped(step: step, failedDependency: cause))
                        for dependent in dependents[step.id] ?? [] { failedBecause[dependent] = cause }
                        complete(step.id)
                        continue
                    }
                    if stopLaunching { continue }
                    if failedWithoutKeepGoing, !order.isNeeded(step.id, byAnyOf: startedApps) { continue }
                    // A step predicted to run is checked again now that everything it needs is
                    // done: an upstream output that came out byte-identical cuts the chain here.
                    // A step predicted up to date had no input that could change.
                    let reason = predictedReasons[step.id] == nil ? nil : reasonToRun(step)
                    guard let reason else {
                        reporter.handle(.upToDate(step: step))
                        summary.upToDate += 1
                        completed.insert(step.id)
                        complete(step.id)
                        continue
                    }
                    if let app = step.app { startedApps.insert(app) }
                    if step.kind == .precompiledHeader, cache != nil {
                        precompiledHeaders[step.primaryOutput] = (step.id, .held(reason: reason))
                        complete(step.id)
                        continue
                    }
                    let manifestKey = cache == nil || !step.kind.cacheable ? nil
                        : CacheKey.manifest(of: step, root: files.root, digest: { self.check.digest($0) }, treeDigest: { self.check.treeDigest($0) })
                    let launched = Launched(step: step, worker: freeWorkers.removeLast(), reason: reason, manifestKey: manifestKey,
                                            started: Date(), startedAtFileTime: Self.fileTimeNow(), inputsBefore: inputStats(of: step),
                                            treesBefore: treeDigests(of: step))
                    if let cache, let manifestKey, !options.alwaysRun {
                        let query = CacheQuery(step: step, manifestKey: manifestKey, knownDigests: knownDigests(of: step))
                        running += 1
                        group.addTask { .lookedUp(launched, await cache.restore(query, files: files)) }
                    } else {
                        startProcessWithItsPCH(launched)
                    }
                }
                guard running > 0, let child = await group.next() else { break }
                running -= 1
                let finished: Finished
                switch child {
                case .ran(let ran):
                    finished = ran
                case .lookedUp(let launched, let lookup):
                    lookup.notes.forEach { reporter.handle(.diagnostic(Diagnostic(.note, $0))) }
                    guard let hit = lookup.hit, !Task.isCancelled else {
                        // Interrupted while looking up: nothing was written, nothing runs.
                        if Task.isCancelled {
                            freeWorkers.append(launched.worker)
                            summary.interrupted = true
                            stopLaunching = true
                            complete(launched.step.id)
                        } else {
                            startProcessWithItsPCH(launched)
                        }
                        continue
                    }
                    let restored = Finished(launched: launched, outcome: .success(ProcessOutcome(status: 0, signalled: false, standardOutput: [], standardError: [])),
                                            cancelled: false, ended: Date(), restored: hit)
                    let placed = finish(restored)
                    guard placed == .succeeded else {
                        // The restored outputs could not be put in place, or are not what the step makes: the tool makes them.
                        if case .failed(.wrongOutput(let path, let reason)) = placed {
                            reporter.handle(.diagnostic(Diagnostic(.note, "cache: the '\(path)' restored from the \(hit.source.rawValue) cache was refused (\(reason)): the cache holds a wrong output; building it")))
                        }
                        startProcessWithItsPCH(launched)
                        continue
                    }
                    freeWorkers.append(launched.worker)
                    reporter.handle(.restored(step: launched.step, worker: launched.worker, source: hit.source, key: hit.entryKey,
                                              reason: launched.reason, started: launched.started, ended: restored.ended))
                    summary.restored += 1
                    completed.insert(launched.step.id)
                    // A PCH restored on demand was completed when it was held: its compiles go on now.
                    if launched.step.kind == .precompiledHeader, case let (id, .building(waiting))? = precompiledHeaders[launched.step.primaryOutput] {
                        precompiledHeaders[launched.step.primaryOutput] = (id, .built)
                        resumed += waiting
                        continue
                    }
                    complete(launched.step.id)
                    continue
                }
                let step = finished.launched.step
                freeWorkers.append(finished.launched.worker)
                let result = finish(finished)
                if result == .succeeded, let cache, let request = storeRequest(for: finished.launched) {
                    stores.append(Task { await cache.store(request, files: files) })
                }
                var output: [UInt8] = []
                if case .success(let outcome) = finished.outcome { output = outcome.standardError + outcome.standardOutput }
                reporter.handle(.finished(step: step, worker: finished.launched.worker, result: result, output: output,
                                          started: finished.launched.started, ended: finished.ended))
                // A PCH built on demand was completed when it was held: its compiles go on now.
                if step.kind == .precompiledHeader, case let (id, .building(waiting))? = precompiledHeaders[step.primaryOutput] {
                    precompiledHeaders[step.primaryOutput] = (id, result == .succeeded ? .built : .failed)
                    switch result {
                    case .succeeded:
                        summary.ran += 1
                        resumed += waiting
                    case .failed:
                        summary.failed.append(step)
                        if !options.keepGoing { stopLaunching = true }
                        for launched in waiting {
                            reporter.handle(.skipped(step: launched.step, failedDependency: step))
                            summary.skipped += 1
                            for dependent in dependents[launched.step.id] ?? [] { failedBecause[dependent] = step }
                            complete(launched.step.id)
                        }
                    case .interrupted, .wouldRun:
                        summary.interrupted = true
                        stopLaunching = true
                    }
                    continue
                }
                switch result {
                case .succeeded, .wouldRun:
                    summary.ran += 1
                    completed.insert(step.id)
                case .failed:
                    summary.failed.append(step)
                    for dependent in dependents[step.id] ?? [] { failedBecause[dependent] = step }
                    if !options.keepGoing { failedWithoutKeepGoing = true }
                case .interrupted:
                    summary.interrupted = true
                    stopLaunching = true
                }
                complete(step.id)
            }
        }
        if Task.isCancelled { summary.interrupted = true }
        // Held and never needed: every compile that loads it came from the cache or was up to date.
        for case let (id, .held(_)) in precompiledHeaders.values {
            if let step = byID[id] { reporter.handle(.upToDate(step: step)) }
            summary.upToDate += 1
        }
        // Every step not run: those a failure skipped, and those never reached because the build
        // stopped starting steps.
        summary.skipped = steps.count - summary.ran - summary.upToDate - summary.restored - summary.failed.count
        summary.keptGoing = options.keepGoing
        summary.appsLeftUnbuilt = Self.links(of: steps, independentOf: Set(summary.failed.map(\.id))).filter { link in
            !completed.contains(link.id)
        }.compactMap(\.app)
        if let cache {
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
        return summary
    }

    package func processRequest(for step: Step) -> ProcessRequest {
        ProcessRequest(executable: files.absolute(step.tool.path), arguments: step.executedArguments, workingDirectory: files.root,
                       environment: step.unsetEnvironment.isEmpty ? nil : ProcessEnvironment.inherited(without: Set(step.unsetEnvironment)),
                       standardOutputFile: step.standardOutput.map { files.absolute(FileSystem.temporarySibling(of: $0)) })
    }

    private static func execute(_ request: ProcessRequest, _ launched: Launched, runner: any ProcessRunning) async -> Finished {
        let outcome: Result<ProcessOutcome, ProcessFailure>?
        do {
            outcome = .success(try await runner.run(request))
        } catch let failure as ProcessFailure {
            outcome = .failure(failure)
        } catch {
            // CancellationError: the build was interrupted.
            outcome = nil
        }
        return Finished(launched: launched, outcome: outcome, cancelled: Task.isCancelled, ended: Date())
    }

    /// The digests the dirty check already knows for what `step` read last time (hashing a 3 MB
    /// vmlinux.h once per build, not once per step).
    private func knownDigests(of step: Step) -> [String: Digest] {
        var digests: [String: Digest] = [:]
        var paths = step.inputs
        if let record = state.steps[step.primaryOutput] { paths += record.inputs.filter(\.discovered).map(\.path) }
        for path in paths { digests[path] = check.digest(path) }
        return digests
    }

    /// What to store a step that just ran under: the headers it read, as recorded. A step with an
    /// input of unknown content (changed while it ran) is not stored: its outputs may be stale.
    private func storeRequest(for launched: Launched) -> CacheStoreRequest? {
        guard let products = productsToStore.removeValue(forKey: launched.step.id), let manifestKey = launched.manifestKey,
              let record = state.steps[launched.step.primaryOutput],
              !record.inputs.contains(where: { $0.kind != .mustStayAbsent && $0.digest == .unknown }) else { return nil }
        let headers = record.inputs.filter(\.discovered).map { CacheStoreRequest.Header(path: $0.path, digest: $0.digest) }
        return CacheStoreRequest(step: launched.step, manifestKey: manifestKey, headers: headers, products: products)
    }

    /// The stat data of what `step` reads, as far as it is known before it runs: its declared
    /// inputs and the headers it read last time.
    private func inputStats(of step: Step) -> [String: FileStat] {
        var paths = step.inputs
        if let record = state.steps[step.primaryOutput] { paths += record.inputs.filter(\.discovered).map(\.path) }
        var stats: [String: FileStat] = [:]
        for path in paths { stats[path] = files.stat(path) }
        return stats
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

    /// The fingerprints of `step`'s source trees, as the check saw them before it started.
    private func treeDigests(of step: Step) -> [String: Digest] {
        var digests: [String: Digest] = [:]
        for tree in step.treeInputs { digests[tree.path] = check.treeDigest(tree) }
        return digests
    }

    /// The link steps among `steps` that need none of the `failed` steps.
    package static func links(of steps: [Step], independentOf failed: Set<Int>) -> [Step] {
        guard !failed.isEmpty else { return [] }
        let byID = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0) })
        return steps.filter { $0.kind.linksBinary }.filter { link in
            var seen = Set<Int>()
            var pending = [link.id]
            while let id = pending.popLast() {
                if failed.contains(id) { return false }
                if seen.insert(id).inserted { pending += byID[id]?.dependencies ?? [] }
            }
            return true
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

    /// Moves a successful step's outputs into place and records it; removes the partial outputs of
    /// anything else. The record is written only after the renames, so a crash in between makes
    /// the step run again rather than trusting a half-finished output.
    private func finish(_ finished: Finished) -> StepResult {
        let step = finished.launched.step
        let temporaries = step.temporaryProducts
        let depfileTemporary = step.depfile.map { step.depfileNamedByCommand ? $0 : FileSystem.temporarySibling(of: $0) }
        defer {
            if let depfileTemporary { files.remove(depfileTemporary) }
            // What a staged tool wrote besides its products, or everything when it failed.
            if let staging = step.stagingDirectory { files.removeTree(FileSystem.stagingDirectory(in: staging)) }
        }
        guard let outcome = finished.outcome, !finished.cancelled else {
            temporaries.forEach(files.remove)
            return .interrupted
        }
        let failure: StepFailure?
        switch outcome {
        case .failure(.couldNotLaunch(_, let reason)):
            failure = .couldNotLaunch(reason: reason)
        case .failure(.couldNotWriteOutput(let path, let reason)):
            failure = .couldNotWriteOutput(path: FileSystem.display(path, relativeTo: files.root), reason: reason)
        case .success(let outcome) where outcome.signalled:
            failure = .signalled(signal: outcome.status - 128)
        case .success(let outcome) where outcome.status != 0:
            failure = .exited(status: outcome.status)
        case .success:
            failure = violatedPostcondition(step, temporaries: temporaries) ?? commit(step, temporaries: temporaries)
        }
        if let failure {
            temporaries.forEach(files.remove)
            return .failed(failure)
        }
        if let scratch = step.scratchDirectory { files.removeTree(FileSystem.join(scratch, Self.unfinishedMarker)) }
        if let restored = finished.restored {
            for (product, digest) in restored.digests {
                if let stat = files.stat(product) { state.remember(product, stat: stat, digest: digest) }
            }
        }
        let headers = finished.restored.map(\.headers) ?? depfileTemporary.map(discoveredHeaders(depfile:)) ?? []
        record(step, launched: finished.launched, headers: headers, forTheCache: finished.restored == nil)
        return .succeeded
    }

    /// The failure when the primary output, still under its temporary name, breaks the step's
    /// postcondition (a binary for the wrong machine): it is then removed with the rest.
    private func violatedPostcondition(_ step: Step, temporaries: [String]) -> StepFailure? {
        guard let postcondition = step.postcondition, let index = step.products.firstIndex(of: step.primaryOutput),
              let bytes = files.read(temporaries[index]) else { return nil }
        return postcondition.violation(bytes).map { .wrongOutput(path: step.primaryOutput, reason: $0) }
    }

    /// Renames every temporary into place; the failure, if one could not be.
    private func commit(_ step: Step, temporaries: [String]) -> StepFailure? {
        for (temporary, product) in zip(temporaries, step.products) {
            guard files.stat(temporary) != nil else {
                return .couldNotCommitOutput(path: product, reason: "\(step.tool.displayName) exited 0 but did not write it")
            }
            if step.kind.keepsIdenticalOutputs, let existing = files.read(product), existing == files.read(temporary) {
                files.remove(temporary)
                continue
            }
            do {
                if step.stagingDirectory != nil { try files.createDirectory(FileSystem.split(product).directory) }
                try files.rename(temporary, to: product)
            } catch let error as DiagnosticError {
                return .couldNotCommitOutput(path: product, reason: error.diagnostic.message)
            } catch {
                return .couldNotCommitOutput(path: product, reason: "\(error)")
            }
            check.invalidate(product)
        }
        return nil
    }

    /// Records what a finished step was built from. An input whose stat data changed while the
    /// step ran (or, for a header first seen now, whose mtime is after the step started) is
    /// recorded as unknown: the output may hold its old contents, so the next build runs the step
    /// again rather than trusting it.
    /// The headers a compile's depfile lists, as paths relative to the root where they are inside it.
    private func discoveredHeaders(depfile: String) -> [String] {
        guard let bytes = files.read(depfile) else { return [] }
        return Depfile.dependencies(in: String(decoding: bytes, as: UTF8.self)).map { FileSystem.display($0, relativeTo: files.root) }
    }

    private func record(_ step: Step, launched: Launched, headers discovered: [String], forTheCache: Bool) {
        var recordedOutputs: [StepRecord.Output] = []
        let storing = forTheCache && cache != nil && launched.manifestKey != nil
        var products: [CacheStoreRequest.Product] = []
        for product in step.products {
            guard let stat = files.stat(product) else { continue }
            if storing, let bytes = files.read(product) {
                // One read and one SHA-256 for the state's digest and the cache's blob name.
                let sha256 = SHA256Hex.of(bytes)
                state.remember(product, stat: stat, digest: Digest(hex: Array(sha256.utf8.prefix(32))) ?? .unknown)
                products.append(.init(path: product, bytes: bytes, sha256: sha256, executable: stat.isExecutable))
            } else {
                _ = state.currentDigest(of: product, stat: stat, files: files)
            }
            recordedOutputs.append(.init(path: product, stat: stat))
        }
        func input(_ path: String, kind: StepRecord.InputKind) -> StepRecord.Input {
            guard let now = files.stat(path) else { return .init(path: path, digest: .unknown, kind: kind) }
            let changedWhileRunning = launched.inputsBefore[path].map { !$0.sameVersion(as: now) }
                ?? (now.mtimeNanoseconds > launched.startedAtFileTime)
            let digest = changedWhileRunning ? .unknown : state.currentDigest(of: path, stat: now, files: files) ?? .unknown
            return .init(path: path, digest: digest, kind: kind)
        }
        var inputs = step.inputs.map { input($0, kind: .declared) }
        for tree in step.treeInputs {
            // A tree edited while the step ran may be half old in the products: recorded as unknown.
            let now = TreeFingerprint.digest(of: tree, state: state, files: files)
            let digest = now.flatMap { $0 == launched.treesBefore[tree.path] ? $0 : nil } ?? .unknown
            inputs.append(.init(path: tree.path, digest: digest, kind: .tree))
        }
        if !discovered.isEmpty {
            // A depfile may name the PCH too; it is not an input (see PathUse.precompiledHeader).
            var seen = Set(step.inputs + step.precompiledHeaders)
            var headers: [String] = []
            for path in discovered {
                if seen.insert(path).inserted {
                    inputs.append(input(path, kind: .discovered))
                    headers.append(path)
                }
            }
            for candidate in Self.shadowingCandidates(of: headers, searchOrder: step.includeSearchOrder, root: files.root)
            where seen.insert(candidate).inserted && files.stat(candidate) == nil {
                inputs.append(.init(path: candidate, digest: .unknown, kind: .mustStayAbsent))
            }
        }
        let record = StepRecord(key: step.primaryOutput, toolRole: step.tool.role.rawValue, toolVersion: step.tool.version,
                                toolIdentity: step.tool.identity, commandLine: StepRecord.commandLine(step.displayCommand),
                                inputs: inputs, outputs: recordedOutputs)
        do { try state.record(record) } catch {
            reporter.handle(.diagnostic(Diagnostic(.warning, "could not save the build state: \(error)")))
        }
        if storing && products.count == step.products.count { productsToStore[step.id] = products }
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

    private func saveState() {
        do { try state.flush() } catch {
            reporter.handle(.diagnostic(Diagnostic(.warning, "could not save the build state: \(error)")))
        }
    }
}
