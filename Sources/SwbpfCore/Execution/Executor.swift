import FoundationEssentials

public struct ExecutionOptions: Sendable {
    public var jobs: Int
    public var keepGoing: Bool
    public init(jobs: Int, keepGoing: Bool) {
        self.jobs = max(1, jobs)
        self.keepGoing = keepGoing
    }
}

/// Runs a set of planned steps in dependency order with up to `jobs` at once. It decides what is
/// up to date, runs what is not, writes every output atomically, records each finished step in the
/// build state, and reports events. Cancelling the calling task stops the children, removes their
/// partial outputs and returns with `interrupted` set.
public final class Executor {
    let steps: [Step]
    /// The project root, which is also the working directory every step runs in.
    let root: String
    let state: BuildState
    let options: ExecutionOptions
    let reporter: BuildReporter
    var check: DirtyCheck

    public init(steps: [Step], root: String, state: BuildState, options: ExecutionOptions, reporter: BuildReporter) {
        self.steps = steps
        self.root = root
        self.state = state
        self.options = options
        self.reporter = reporter
        self.check = DirtyCheck(state: state)
    }

    /// What a dry run would execute: every step that is out of date, and every step downstream of
    /// one, with its reason, in plan order.
    public func predictedRuns() -> [(step: Step, reason: String)] {
        var rebuilt = Set<String>()
        var willRun = Set<Int>()
        var result: [(Step, String)] = []
        for step in steps {
            var reason = check.reason(for: step, rebuilt: rebuilt)
            if reason == nil, let dependency = step.dependencies.first(where: willRun.contains),
               let upstream = steps.first(where: { $0.id == dependency }) {
                reason = "input \(upstream.primaryOutput) is rebuilt"
            }
            if let reason {
                willRun.insert(step.id)
                rebuilt.formUnion(step.products)
                result.append((step, reason))
            }
        }
        return result
    }

    /// True when no step would run: the same decision `run()` starts from.
    public func wouldRunNothing() -> Bool { predictedRuns().isEmpty }

    /// Reports a build in which every step is up to date (after `wouldRunNothing()`), and saves the
    /// stat data refreshed by the check (a touched file is hashed once, not on every build).
    public func reportUpToDate(since begin: Date) {
        reporter.handle(.planned(steps: steps, toRun: []))
        steps.forEach { reporter.handle(.upToDate(step: $0)) }
        do { try state.flush() } catch { reporter.handle(.note("warning: could not save the build state: \(error)")) }
        reporter.handle(.buildFinished(summary: BuildSummary(ran: 0, upToDate: steps.count, failed: [], skipped: 0,
                                                             interrupted: false, started: begin, ended: Date())))
    }

    private struct Finished: Sendable {
        var step: Step
        var worker: Int
        var outcome: ProcessOutcome?
        var launchError: String?
        var cancelled: Bool
        var started: Date
        var ended: Date
    }

    public func run() async -> BuildSummary {
        let begin = Date()
        let predicted = predictedRuns()
        let predictedReasons = Dictionary(uniqueKeysWithValues: predicted.map { ($0.step.id, $0.reason) })
        reporter.handle(.planned(steps: steps, toRun: predicted.map(\.step.id)))
        if !predicted.isEmpty {
            let directories = Set(steps.flatMap(\.products).map { FileSystem.split($0).directory })
            directories.forEach { FileSystem.removeStaleTemporaries(in: $0) }
        }

        let byID = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0) })
        var waitingOn: [Int: Int] = [:]
        var dependents: [Int: [Int]] = [:]
        for step in steps {
            let inBuild = step.dependencies.filter { byID[$0] != nil }
            waitingOn[step.id] = inBuild.count
            for dependency in inBuild { dependents[dependency, default: []].append(step.id) }
        }
        var ready = steps.filter { waitingOn[$0.id] == 0 }.map(\.id)
        var failedBecause: [Int: Step] = [:]
        var summary = BuildSummary(ran: 0, upToDate: 0, failed: [], skipped: 0, interrupted: false, started: begin, ended: begin)
        var freeWorkers = Array((0..<options.jobs).reversed())
        var stopLaunching = false

        func complete(_ id: Int) {
            for dependent in dependents[id] ?? [] {
                waitingOn[dependent]! -= 1
                if waitingOn[dependent] == 0 { ready.append(dependent) }
            }
        }

        await withTaskGroup(of: Finished.self) { group in
            var running = 0
            while true {
                while running < options.jobs, !ready.isEmpty, !Task.isCancelled {
                    let step = byID[ready.removeFirst()]!
                    if let cause = failedBecause[step.id] {
                        reporter.handle(.skipped(step: step, failedDependency: cause))
                        summary.skipped += 1
                        for dependent in dependents[step.id] ?? [] { failedBecause[dependent] = cause }
                        complete(step.id)
                        continue
                    }
                    if stopLaunching { continue }
                    // A step predicted to run is checked again now that everything it needs is
                    // done: an upstream output that came out byte-identical cuts the chain here.
                    // A step predicted up to date had no input that could change.
                    let reason = predictedReasons[step.id] == nil ? nil : check.reason(for: step)
                    guard let reason else {
                        reporter.handle(.upToDate(step: step))
                        summary.upToDate += 1
                        complete(step.id)
                        continue
                    }
                    let worker = freeWorkers.removeLast()
                    let started = Date()
                    reporter.handle(.started(step: step, worker: worker, reason: reason, at: started))
                    running += 1
                    group.addTask { [root] in await Self.execute(step, root: root, worker: worker, started: started) }
                }
                guard running > 0, let finished = await group.next() else { break }
                running -= 1
                freeWorkers.append(finished.worker)
                let step = finished.step
                let result = finish(finished)
                var output = finished.outcome.map { $0.standardError + $0.standardOutput } ?? []
                if let message = finished.launchError { output += Array((message + "\n").utf8) }
                reporter.handle(.finished(step: step, worker: finished.worker, result: result, output: output,
                                          started: finished.started, ended: finished.ended))
                switch result {
                case .succeeded:
                    summary.ran += 1
                case .failed:
                    summary.failed.append(step)
                    for dependent in dependents[step.id] ?? [] { failedBecause[dependent] = step }
                    if !options.keepGoing { stopLaunching = true }
                case .interrupted:
                    summary.interrupted = true
                    stopLaunching = true
                }
                complete(step.id)
            }
        }
        if Task.isCancelled { summary.interrupted = true }
        do { try state.flush() } catch { reporter.handle(.note("warning: could not save the build state: \(error)")) }
        summary.ended = Date()
        reporter.handle(.buildFinished(summary: summary))
        return summary
    }

    private static func execute(_ step: Step, root: String, worker: Int, started: Date) async -> Finished {
        let redirect = step.standardOutput.map { FileSystem.absolute(FileSystem.temporarySibling(of: $0), base: root) }
        let request = ProcessRequest(executable: step.tool.path, arguments: step.executedArguments, workingDirectory: root,
                                     standardOutputFile: redirect)
        do {
            let outcome = try await SystemProcessRunner().run(request)
            return Finished(step: step, worker: worker, outcome: outcome, launchError: nil, cancelled: Task.isCancelled,
                            started: started, ended: Date())
        } catch is CancellationError {
            return Finished(step: step, worker: worker, outcome: nil, launchError: nil, cancelled: true, started: started, ended: Date())
        } catch {
            return Finished(step: step, worker: worker, outcome: nil, launchError: "swbpf: \(error)",
                            cancelled: Task.isCancelled, started: started, ended: Date())
        }
    }

    /// Moves a successful step's outputs into place and records it; removes the partial outputs of
    /// anything else. The record is written only after the renames, so a crash in between makes
    /// the step run again rather than trusting a half-finished output.
    private func finish(_ finished: Finished) -> StepResult {
        let step = finished.step
        let products = step.products
        let temporaries = products.map(FileSystem.temporarySibling)
        let depfileTemporary = step.depfile.map(FileSystem.temporarySibling)
        defer { if let depfileTemporary { FileSystem.remove(depfileTemporary) } }
        guard !finished.cancelled, let outcome = finished.outcome, outcome.status == 0 else {
            temporaries.forEach { FileSystem.remove($0) }
            if finished.cancelled || (finished.outcome?.signalled ?? false) && Task.isCancelled { return .interrupted }
            return .failed(status: finished.outcome?.status ?? 127)
        }
        var recordedOutputs: [StepRecord.Output] = []
        for (temporary, product) in zip(temporaries, products) {
            do {
                try FileSystem.rename(temporary, to: product)
            } catch {
                temporaries.forEach { FileSystem.remove($0) }
                return .failed(status: 1)
            }
            check.invalidate(product)
            if let stat = FileSystem.stat(product) {
                _ = state.currentDigest(of: product, stat: stat)
                recordedOutputs.append(.init(path: product, stat: stat))
            }
        }
        var inputs: [StepRecord.Input] = []
        let missing = Digest(high: 0, low: 0)
        for path in step.inputs {
            inputs.append(.init(path: path, digest: state.currentDigest(of: path) ?? missing, discovered: false))
        }
        if let depfileTemporary, let text = FileSystem.readText(depfileTemporary) {
            var seen = Set(step.inputs)
            for dependency in Depfile.dependencies(in: text) {
                let path = FileSystem.display(dependency, relativeTo: root)
                guard seen.insert(path).inserted else { continue }
                inputs.append(.init(path: path, digest: state.currentDigest(of: path) ?? missing, discovered: true))
            }
        }
        let record = StepRecord(key: step.primaryOutput, toolRole: step.tool.role, toolVersion: step.tool.version,
                                toolIdentity: step.tool.identity, commandLine: StepRecord.commandLine(step.displayCommand), inputs: inputs,
                                outputs: recordedOutputs)
        do { try state.record(record) } catch {
            reporter.handle(.note("warning: could not save the build state: \(error)"))
        }
        return .succeeded
    }
}
