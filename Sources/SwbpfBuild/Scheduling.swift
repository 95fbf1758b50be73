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
