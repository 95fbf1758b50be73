import FoundationEssentials
import SwbpfBasics
import SwbpfModel

/// The life of one step, apart from when it runs (ninja's `Builder`, n2's `Work::run`; the
/// `BuildScheduler` decides when): the dirty check, the cache lookup, the tool's run, then the
/// commit of its outputs, the record of what it was built from, and what the cache is to store.
///
/// It touches the machine only through the process runner and the file system it is handed.
package final class StepExecution {
    /// A step that must run, as it was when it was decided.
    package struct Launched: Sendable {
        package var step: Step
        package var worker: Int
        package var reason: String
        /// The step's first-level cache key, when the cache may hold it.
        package var manifestKey: String?
        package var started: Date
        /// When the tool started, in the units of file mtimes.
        package var startedAtFileTime: Int64
        /// Stat data of the step's inputs (and last build's headers) just before it started.
        package var inputsBefore: [String: FileStat]
        /// Fingerprints of the step's source trees just before it started.
        package var treesBefore: [String: Digest]
    }

    package struct Finished: Sendable {
        package var launched: Launched
        package var outcome: Result<ProcessOutcome, ProcessFailure>?
        package var cancelled: Bool
        package var ended: Date
        /// Set when the outputs came from the cache instead of the tool.
        package var restored: CacheHit?
    }

    package let state: BuildState
    package let files: any BuildFileSystem
    package let runner: any ProcessRunning
    /// Asked before a step that must run is launched, told after one succeeds; nil: no cache.
    package let cache: (any StepCache)?
    /// Hears the warning when the state cannot be saved.
    package let reporter: BuildReporter
    /// `-B`: every step runs, and none is looked up in the cache (what they make is still stored).
    package let alwaysRun: Bool
    package var check: DirtyCheck
    /// The products of steps just recorded that the cache will store, by step id: read and hashed
    /// once for both.
    private var productsToStore: [Int: [CacheStoreRequest.Product]] = [:]

    package init(state: BuildState, files: any BuildFileSystem, runner: any ProcessRunning, cache: (any StepCache)?,
                 reporter: BuildReporter, alwaysRun: Bool = false) {
        self.state = state
        self.files = files
        self.runner = runner
        self.cache = cache
        self.reporter = reporter
        self.alwaysRun = alwaysRun
        check = DirtyCheck(state: state, files: files)
    }

    // MARK: Dirty check and cache lookup

    /// Why `step` must run, or nil when it is up to date: with `-B`, every step runs. Paths in
    /// `rebuilt` will be rewritten by earlier steps (a prediction cannot know their new contents).
    package func reasonToRun(_ step: Step, rebuilt: Set<String> = []) -> String? {
        alwaysRun ? Executor.alwaysRunReason : check.reason(for: step, rebuilt: rebuilt)
    }

    /// `step` decided to run on `worker`: what it reads, as it is now, and its cache key.
    package func launch(_ step: Step, worker: Int, reason: String) -> Launched {
        Launched(step: step, worker: worker, reason: reason, manifestKey: manifestKey(of: step), started: Date(),
                 startedAtFileTime: Executor.fileTimeNow(), inputsBefore: inputStats(of: step), treesBefore: treeDigests(of: step))
    }

    /// A step made only because `consumer` needs it (a precompiled header), on the consumer's worker.
    package func launchOnDemand(_ step: Step, reason: String, for consumer: Launched) -> Launched {
        launch(step, worker: consumer.worker, reason: "\(reason) (needed by \(consumer.step.primaryOutput))")
    }

    /// The step's first-level cache key, when the cache may hold it.
    private func manifestKey(of step: Step) -> String? {
        guard cache != nil, step.kind.cacheable else { return nil }
        return CacheKey.manifest(of: step, root: files.root, digest: { self.check.digest($0) }, treeDigest: { self.check.treeDigest($0) },
                                 resolved: FileSystem.resolved)
    }

    /// What to ask the cache for `launched`, when it may hold it (never with `-B`).
    package func cacheQuery(for launched: Launched) -> CacheQuery? {
        guard cache != nil, !alwaysRun, let manifestKey = launched.manifestKey else { return nil }
        return CacheQuery(step: launched.step, manifestKey: manifestKey, knownDigests: knownDigests(of: launched.step))
    }

    /// Puts a cache hit's outputs in place and records the step as if its tool had made them; nil
    /// when they could not be put in place (the tool makes them then).
    /// `notes` gets one line when the restored outputs are not what the step makes (the cache
    /// holds a wrong output): the tool then makes them.
    package func restore(_ launched: Launched, from hit: CacheHit, notes: inout [String]) -> Finished? {
        let restored = Finished(launched: launched, outcome: .success(ProcessOutcome(status: 0, signalled: false, standardOutput: [], standardError: [])),
                                cancelled: false, ended: Date(), restored: hit)
        let placed = finish(restored)
        if case .failed(.wrongOutput(let path, let reason)) = placed {
            notes.append("cache: the '\(path)' restored from the \(hit.source.rawValue) cache was refused (\(reason)): the cache holds a wrong output; building it")
        }
        return placed == .succeeded ? restored : nil
    }

    // MARK: Running

    /// Readies the directories `launched`'s tool writes into and stamps its start: what to run.
    package func prepareToRun(_ launched: inout Launched) -> ProcessRequest {
        launched.started = Date()
        let step = launched.step
        if let staging = step.stagingDirectory { try? files.createDirectory(FileSystem.stagingDirectory(in: staging)) }
        if let scratch = step.scratchDirectory { Executor.prepareScratch(scratch, files: files) }
        Executor.prepareDepfileAndDirectories(of: step, files: files)
        return processRequest(for: step)
    }

    package func processRequest(for step: Step) -> ProcessRequest {
        ProcessRequest(executable: files.absolute(step.tool.path), arguments: step.executedArguments, workingDirectory: files.root,
                       environment: step.unsetEnvironment.isEmpty ? nil : ProcessEnvironment.inherited(without: Set(step.unsetEnvironment)),
                       standardOutputFile: step.standardOutput.map { files.absolute(FileSystem.temporarySibling(of: $0)) })
    }

    package static func execute(_ request: ProcessRequest, _ launched: Launched, runner: any ProcessRunning) async -> Finished {
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

    // MARK: Commit and record

    /// Moves a successful step's outputs into place and records it; removes the partial outputs of
    /// anything else. The record is written only after the renames, so a crash in between makes
    /// the step run again rather than trusting a half-finished output.
    package func finish(_ finished: Finished) -> StepResult {
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
        if let scratch = step.scratchDirectory { files.removeTree(FileSystem.join(scratch, Executor.unfinishedMarker)) }
        if let restored = finished.restored {
            for (product, digest) in restored.digests {
                if let stat = files.stat(product) { state.remember(product, stat: stat, digest: digest) }
            }
        }
        let headers = finished.restored.map(\.headers) ?? depfileTemporary.map(discoveredHeaders(depfile:)) ?? []
        record(step, launched: finished.launched, headers: headers, forTheCache: finished.restored == nil)
        return .succeeded
    }

    /// What to store a step that just ran under: the headers it read, as recorded. A step with an
    /// input of unknown content (changed while it ran) is not stored: its outputs may be stale.
    package func storeRequest(for launched: Launched) -> CacheStoreRequest? {
        guard let products = productsToStore.removeValue(forKey: launched.step.id), let manifestKey = launched.manifestKey,
              let record = state.steps[launched.step.primaryOutput],
              !record.inputs.contains(where: { $0.kind != .mustStayAbsent && $0.digest == .unknown }) else { return nil }
        let headers = record.inputs.filter(\.discovered).map { CacheStoreRequest.Header(path: $0.path, digest: $0.digest) }
        return CacheStoreRequest(step: launched.step, manifestKey: manifestKey, headers: headers, products: products)
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
                let reason = files.rootIsPresent ? "\(step.tool.displayName) exited 0 but did not write it"
                    : "the project directory \(files.root) is gone: it was moved or removed while \(step.tool.displayName) ran"
                return .couldNotCommitOutput(path: product, reason: reason)
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

    /// The headers a compile's depfile lists, as paths relative to the root where they are inside it.
    private func discoveredHeaders(depfile: String) -> [String] {
        guard let bytes = files.read(depfile) else { return [] }
        return Depfile.dependencies(in: String(decoding: bytes, as: UTF8.self)).map { FileSystem.display($0, relativeTo: files.root) }
    }

    /// Records what a finished step was built from. An input whose stat data changed while the
    /// step ran (or, for a header first seen now, whose mtime is after the step started) is
    /// recorded as unknown: the output may hold its old contents, so the next build runs the step
    /// again rather than trusting it.
    private func record(_ step: Step, launched: Launched, headers discovered: [String], forTheCache: Bool) {
        var recordedOutputs: [StepRecord.Output] = []
        let storing = forTheCache && cache != nil && launched.manifestKey != nil
        var products: [CacheStoreRequest.Product] = []
        for product in step.products {
            guard let stat = files.stat(product) else { continue }
            // Outputs are checked by their stat data; a product's digest is taken when a step
            // that reads it is checked (so a binary, which none reads, is never hashed), unless
            // the cache reads and hashes it anyway.
            if storing, let bytes = files.read(product) {
                // One read and one SHA-256 for the state's digest and the cache's blob name.
                let sha256 = SHA256Hex.of(bytes)
                state.remember(product, stat: stat, digest: Digest(hex: Array(sha256.utf8.prefix(32))) ?? .unknown)
                products.append(.init(path: product, bytes: bytes, sha256: sha256, executable: stat.isExecutable))
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
            for candidate in Executor.shadowingCandidates(of: headers, searchOrder: step.includeSearchOrder, root: files.root)
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

    // MARK: What a step read before it ran

    /// The digests the dirty check already knows for what `step` read last time (hashing a 3 MB
    /// vmlinux.h once per build, not once per step).
    private func knownDigests(of step: Step) -> [String: Digest] {
        var digests: [String: Digest] = [:]
        for path in readBefore(step) { digests[path] = check.digest(path) }
        return digests
    }

    /// The stat data of what `step` reads, as far as it is known before it runs.
    private func inputStats(of step: Step) -> [String: FileStat] {
        var stats: [String: FileStat] = [:]
        for path in readBefore(step) { stats[path] = files.stat(path) }
        return stats
    }

    /// What `step` reads as far as it is known before it runs: its declared inputs and the
    /// headers it read last time.
    private func readBefore(_ step: Step) -> [String] {
        guard let record = state.steps[step.primaryOutput] else { return step.inputs }
        return step.inputs + record.inputs.filter(\.discovered).map(\.path)
    }

    /// The fingerprints of `step`'s source trees, as the check saw them before it started.
    private func treeDigests(of step: Step) -> [String: Digest] {
        var digests: [String: Digest] = [:]
        for tree in step.treeInputs { digests[tree.path] = check.treeDigest(tree) }
        return digests
    }
}

/// With a cache, a precompiled header is made on demand: held when it is ready, and restored from
/// the cache or built by the first compile that needs it, after that compile missed the cache. A
/// build whose compiles all come from the cache never spends the time.
package struct PrecompiledHeadersOnDemand {
    private enum State {
        case held(reason: String)
        case building(waiting: [StepExecution.Launched])
        case built
        case failed
    }

    /// What a compile that must run needs first.
    package enum Need {
        /// Nothing: it runs now.
        case nothing
        /// Restore or build this header first, on the compile's worker; the compile waits for it.
        case build(StepExecution.Launched)
        /// The header is being built; the compile waits for it, without a worker.
        case wait
        /// The header failed: the compile is skipped.
        case failed(Step)
    }

    private var headers: [String: (step: Step, state: State)] = [:]

    package init() {}

    /// `step` is due but is built only when a compile needs it.
    package mutating func hold(_ step: Step, reason: String) {
        headers[step.primaryOutput] = (step, .held(reason: reason))
    }

    package mutating func need(of compile: StepExecution.Launched, execution: StepExecution) -> Need {
        guard let path = compile.step.orderOnlyInputs.first(where: { headers[$0] != nil }), let (step, state) = headers[path] else {
            return .nothing
        }
        switch state {
        case .built:
            return .nothing
        case .held(let reason):
            headers[path] = (step, .building(waiting: [compile]))
            return .build(execution.launchOnDemand(step, reason: reason, for: compile))
        case .building(let waiting):
            headers[path] = (step, .building(waiting: waiting + [compile]))
            return .wait
        case .failed:
            return .failed(step)
        }
    }

    /// A header made on demand is in place (or failed): the compiles that waited for it, or nil
    /// when `step` was not made on demand.
    package mutating func finished(_ step: Step, succeeded: Bool) -> [StepExecution.Launched]? {
        guard case let (held, .building(waiting))? = headers[step.primaryOutput] else { return nil }
        headers[step.primaryOutput] = (held, succeeded ? .built : .failed)
        return waiting
    }

    /// Held and never needed: every compile that loads them came from the cache or was up to date.
    package var neverNeeded: [Step] {
        headers.values.compactMap { if case .held = $0.state { return $0.step } else { return nil } }
    }
}
