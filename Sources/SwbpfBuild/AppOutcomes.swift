import SwbpfModel

/// What became of each app in a build that stopped early (a failure without -k, or an
/// interruption), by name, so the final summary says which binaries are there rather than leaving
/// the user to count them: which apps are finished (their binaries are up to date), which failed
/// (and at which step), which were stopped part-way, and which never started.
public struct AppOutcomes: Sendable, Equatable {
    /// An app whose binary cannot be made because `step` (its own, or a shared one it needs) failed.
    public struct Failure: Sendable, Equatable {
        public var app: String
        public var stepID: Int
        /// `BPF .output/x.tmp.bpf.o`: the step as the console names it.
        public var step: String
    }

    public var finished: [String] = []
    public var failed: [Failure] = []
    /// Apps some of whose steps ran (or were restored) but whose binary was not made.
    public var stoppedPartWay: [String] = []
    /// Apps none of whose steps started; a binary from an earlier build is left as it was.
    public var notStarted: [String] = []

    public init() {}

    /// Sorts every app of `steps` (in plan order). `done` holds the steps whose outputs are in
    /// place (finished in this build, or up to date before it), `started` the apps one of whose
    /// steps had to run. A precompiled header is only a means to its compiles and is not counted.
    package init(steps: [Step], done: Set<Int>, failed: [Step], started: Set<String>) {
        let byID = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0) })
        let failedIDs = Set(failed.map(\.id))
        var apps: [String] = []
        var ownSteps: [String: [Step]] = [:]
        for step in steps {
            guard let app = step.app else { continue }
            if ownSteps[app] == nil { apps.append(app) }
            ownSteps[app, default: []].append(step)
        }
        for app in apps {
            let own = ownSteps[app, default: []]
            if let cause = Self.firstFailure(needing: own, failed: failedIDs, byID: byID) {
                self.failed.append(Failure(app: app, stepID: cause.id, step: "\(cause.kind.label) \(cause.primaryOutput)"))
            } else if own.allSatisfy({ $0.kind == .precompiledHeader || done.contains($0.id) }) {
                finished.append(app)
            } else if started.contains(app) {
                stoppedPartWay.append(app)
            } else {
                notStarted.append(app)
            }
        }
    }

    /// The failed step among `own` or what they need, the app's own failure first.
    private static func firstFailure(needing own: [Step], failed: Set<Int>, byID: [Int: Step]) -> Step? {
        if let step = own.first(where: { failed.contains($0.id) }) { return step }
        var seen = Set<Int>()
        var pending = own.flatMap(\.dependencies)
        while let id = pending.popLast() {
            if failed.contains(id) { return byID[id] }
            if seen.insert(id).inserted { pending += byID[id]?.dependencies ?? [] }
        }
        return nil
    }

    /// Apps that need none of the failed steps but have no up-to-date binary (-k builds them).
    public var leftUnbuilt: [String] { stoppedPartWay + notStarted }

    /// One line for the summary, app names listed and long lists shortened: `48 apps finished;
    /// failed: c (CC .output/c.o); not started: d, e`.
    public var summaryLine: String {
        var parts: [String] = []
        parts.append(finished.count > Self.namesListed || finished.isEmpty
                     ? "\(finished.count) app\(finished.count == 1 ? "" : "s") finished"
                     : "finished: \(finished.joined(separator: ", "))")
        if !failed.isEmpty { parts.append("failed: " + Self.list(failed.map { "\($0.app) (\($0.step))" })) }
        if !stoppedPartWay.isEmpty { parts.append("stopped part-way: " + Self.list(stoppedPartWay)) }
        if !notStarted.isEmpty { parts.append("not started: " + Self.list(notStarted)) }
        return parts.joined(separator: "; ")
    }

    /// Past this many names a list is shortened (`--format json` has them all).
    package static let namesListed = 12

    private static func list(_ names: [String]) -> String {
        guard names.count > namesListed else { return names.joined(separator: ", ") }
        return names.prefix(namesListed).joined(separator: ", ") + " and \(names.count - namesListed) more"
    }
}
