import SwbpfModel

/// The order in which ready steps start: critical path first, and apps finished one after another.
///
/// Each app is ranked by the longest chain of steps its binary needs (the critical app first; ties
/// in plan order), and every step takes the best rank of the apps that need it, so shared steps
/// (libbpf, bpftool, vmlinux.h, helpers) start before anything that waits for them. Among steps
/// of one rank, the step with the longest remaining chain (counted in steps, down to the last
/// step that needs it) starts first. So a free worker takes the next step of the app that is
/// furthest along rather than the first step of yet another app: apps get their binaries early,
/// and a failure late in one app does not leave every other app without a binary, as running all
/// links last would. After a failure without -k the executor starts only steps that apps it has
/// already started need (`isNeeded(_:byAnyOf:)`), so those finish too.
package struct SchedulingOrder {
    private struct Key: Comparable {
        var rank: Int
        var remainingChain: Int
        var id: Int

        static func < (a: Key, b: Key) -> Bool {
            if a.rank != b.rank { return a.rank < b.rank }
            if a.remainingChain != b.remainingChain { return a.remainingChain > b.remainingChain }
            return a.id < b.id
        }
    }

    private let keys: [Int: Key]
    /// For each step, the apps whose binaries need it.
    private let neededBy: [Int: Set<String>]

    package init(steps: [Step]) {
        let ids = Set(steps.map(\.id))
        var dependents: [Int: [Int]] = [:]
        for step in steps {
            for dependency in step.dependencies where ids.contains(dependency) { dependents[dependency, default: []].append(step.id) }
        }
        // Steps come after their dependencies, so walking backwards sees every dependent first.
        var remaining: [Int: Int] = [:]
        for step in steps.reversed() {
            remaining[step.id] = 1 + ((dependents[step.id] ?? []).map { remaining[$0] ?? 0 }.max() ?? 0)
        }
        let byID = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0) })
        // Each app's steps and everything they need.
        var needs: [String: Set<Int>] = [:]
        var firstStep: [String: Int] = [:]
        for step in steps {
            guard let app = step.app else { continue }
            firstStep[app] = min(firstStep[app] ?? step.id, step.id)
            var closure = needs[app] ?? []
            var pending = [step.id]
            while let id = pending.popLast() {
                if closure.insert(id).inserted { pending += (byID[id]?.dependencies ?? []).filter(ids.contains) }
            }
            needs[app] = closure
        }
        // An app's chain counts only its own steps and what they need, not other apps' steps
        // after a shared one.
        func chainOf(_ app: String) -> Int {
            let closure = needs[app, default: []]
            var longest: [Int: Int] = [:]
            for step in steps.reversed() where closure.contains(step.id) {
                longest[step.id] = 1 + ((dependents[step.id] ?? []).filter(closure.contains).map { longest[$0] ?? 0 }.max() ?? 0)
            }
            return longest.values.max() ?? 0
        }
        let chains = Dictionary(uniqueKeysWithValues: needs.keys.map { ($0, chainOf($0)) })
        let ranked = needs.keys.sorted { a, b in
            let (chainA, chainB) = (chains[a] ?? 0, chains[b] ?? 0)
            return chainA != chainB ? chainA > chainB : firstStep[a, default: 0] < firstStep[b, default: 0]
        }
        var rank: [Int: Int] = [:]
        for (position, app) in ranked.enumerated() {
            for id in needs[app, default: []] where rank[id] == nil { rank[id] = position }
        }
        var neededBy: [Int: Set<String>] = [:]
        for (app, closure) in needs {
            for id in closure { neededBy[id, default: []].insert(app) }
        }
        self.neededBy = neededBy
        keys = Dictionary(uniqueKeysWithValues: steps.map {
            ($0.id, Key(rank: rank[$0.id] ?? ranked.count, remainingChain: remaining[$0.id] ?? 0, id: $0.id))
        })
    }

    /// Whether one of `apps` needs the step.
    package func isNeeded(_ id: Int, byAnyOf apps: Set<String>) -> Bool {
        !(neededBy[id] ?? []).isDisjoint(with: apps)
    }

    /// The position in `ready` of the step to start next.
    package func next(in ready: [Int]) -> Int {
        var best = 0
        for index in ready.indices.dropFirst() {
            if let candidate = keys[ready[index]], let current = keys[ready[best]], candidate < current { best = index }
        }
        return best
    }
}

/// The executor's scheduler (ninja's `Plan`, n2's `BuildStates`): which steps are ready, which
/// starts next (`SchedulingOrder`), how many run at once (-j, each on a numbered worker: the lanes
/// of timings and traces), and what a failure keeps from starting (-k). It runs nothing and reads
/// no file; `StepExecution` decides what becomes of each step it hands out, and the executor tells
/// it back.
package struct BuildScheduler {
    /// What to do with the next ready step.
    package enum Pick: Equatable {
        /// Decide it: up to date, or run (or restore) it on a worker.
        case decide(Step)
        /// Not run: `because` failed upstream. Its dependents are skipped in turn.
        case skip(Step, because: Step)
    }

    private let byID: [Int: Step]
    private let order: SchedulingOrder
    private let keepGoing: Bool
    private var waitingOn: [Int: Int]
    private var dependents: [Int: [Int]] = [:]
    private var ready: [Int]
    private var freeWorkers: [Int]
    private var failedBecause: [Int: Step] = [:]
    /// Apps one of whose steps had to run.
    package private(set) var startedApps = Set<String>()
    /// Without -k a failure stops the build from starting apps; the apps it has started (that do
    /// not need the failed step) are finished, so they still get their binaries.
    private var failedWithoutKeepGoing = false
    /// Interrupted (or a step built on demand failed without -k): nothing more starts.
    package private(set) var stopped = false
    /// Steps that finished with their outputs in place: run, restored or up to date.
    package private(set) var completed = Set<Int>()

    package init(steps: [Step], jobs: Int, keepGoing: Bool) {
        let byID = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0) })
        var waitingOn: [Int: Int] = [:]
        for step in steps {
            let inBuild = step.dependencies.filter { byID[$0] != nil }
            waitingOn[step.id] = inBuild.count
            for dependency in inBuild { dependents[dependency, default: []].append(step.id) }
        }
        self.byID = byID
        self.waitingOn = waitingOn
        self.keepGoing = keepGoing
        order = SchedulingOrder(steps: steps)
        ready = steps.filter { waitingOn[$0.id] == 0 }.map(\.id)
        freeWorkers = Array((0..<max(1, jobs)).reversed())
    }

    package var hasFreeWorker: Bool { !freeWorkers.isEmpty }

    /// Takes the lowest-numbered free worker; call only when `hasFreeWorker`.
    package mutating func takeWorker() -> Int { freeWorkers.removeLast() }

    package mutating func free(worker: Int) { freeWorkers.append(worker) }

    /// The next ready step, best first, while a worker is free and the build has not stopped. A
    /// step that a failure or a stop keeps from starting is dropped (counted as skipped at the end).
    package mutating func pick() -> Pick? {
        while hasFreeWorker, !ready.isEmpty, let step = byID[ready.remove(at: order.next(in: ready))] {
            if let cause = failedBecause[step.id] {
                skip(step.id, because: cause)
                return .skip(step, because: cause)
            }
            if stopped { continue }
            if failedWithoutKeepGoing, !order.isNeeded(step.id, byAnyOf: startedApps) { continue }
            return .decide(step)
        }
        return nil
    }

    /// One of `step`'s tools (or cache lookups) starts: its app is under way.
    package mutating func starts(_ step: Step) {
        if let app = step.app { startedApps.insert(app) }
    }

    /// `id` finished with its outputs in place: what waits for it may start.
    package mutating func succeeded(_ id: Int) {
        completed.insert(id)
        release(id)
    }

    /// `id` is out of the way without outputs of its own yet (a precompiled header held until a
    /// compile needs it): what waits for it may start.
    package mutating func release(_ id: Int) {
        for dependent in dependents[id] ?? [] {
            waitingOn[dependent, default: 0] -= 1
            if waitingOn[dependent] == 0 { ready.append(dependent) }
        }
    }

    /// `step` failed: everything downstream is skipped, and without -k no new app starts.
    package mutating func failed(_ step: Step) {
        for dependent in dependents[step.id] ?? [] { failedBecause[dependent] = step }
        if !keepGoing { failedWithoutKeepGoing = true }
        release(step.id)
    }

    /// A step built on demand (a precompiled header) failed. It was released when it was held, so
    /// the steps waiting for it are skipped one by one (`skip`); without -k nothing more starts.
    package mutating func failedOnDemand() {
        if !keepGoing { stopped = true }
    }

    /// `id` is not run because `cause` failed; its dependents are skipped too.
    package mutating func skip(_ id: Int, because cause: Step) {
        for dependent in dependents[id] ?? [] { failedBecause[dependent] = cause }
        release(id)
    }

    /// Interrupted: nothing more starts.
    package mutating func stop() { stopped = true }
}
