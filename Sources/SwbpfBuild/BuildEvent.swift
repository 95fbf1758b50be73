import FoundationEssentials
import SwbpfBasics
import SwbpfModel

/// Why a step failed: the tool's own verdict, or what swbpf could not do around it.
public enum StepFailure: Equatable, Sendable {
    case exited(status: Int32)
    case signalled(signal: Int32)
    case couldNotLaunch(reason: String)
    /// The tool's standard output could not be written to its file (a full disk, say).
    case couldNotWriteOutput(path: String, reason: String)
    /// The tool succeeded but an output could not be moved into place, or was never written.
    case couldNotCommitOutput(path: String, reason: String)
    /// The tool succeeded but its output is not what the step promises (`Step.postcondition`).
    case wrongOutput(path: String, reason: String)

    /// `cc exited with status 1`, `could not move .output/x.o into place: No space left on device`.
    public func describe(tool: Tool) -> String {
        switch self {
        case .exited(let status): return "\(tool.displayName) exited with status \(status)"
        case .signalled(let signal): return "\(tool.displayName) was killed by signal \(signal)"
        case .couldNotLaunch(let reason): return "could not run \(tool.path): \(reason)"
        case .couldNotWriteOutput(let path, let reason): return "could not write \(tool.displayName)'s output to \(path): \(reason)"
        case .couldNotCommitOutput(let path, let reason): return "could not move \(path) into place: \(reason)"
        case .wrongOutput(let path, let reason): return "\(tool.displayName) made \(path), but \(reason); it was removed"
        }
    }

    /// The exit status the tool gave, when it ran to completion.
    public var exitStatus: Int32? {
        if case .exited(let status) = self { return status }
        return nil
    }
}

/// How one step ended.
public enum StepResult: Equatable, Sendable {
    case succeeded
    case failed(StepFailure)
    case interrupted
    /// A dry run: the step would have run.
    case wouldRun
}

/// What the executor tells its observers. Every view of a build (short labels, -v, --explain,
/// dry runs, JSON, timings, traces) is a reporter over these events.
public enum BuildEvent: Sendable {
    /// The steps the build covers, and the ids of those expected to run (a step whose inputs come
    /// out unchanged after all is then reported up to date instead).
    case planned(steps: [Step], toRun: [Int], dryRun: Bool)
    case started(step: Step, worker: Int, reason: String, at: Date)
    /// `output` is what the tool printed (standard error, then standard output unless redirected).
    case finished(step: Step, worker: Int, result: StepResult, output: [UInt8], started: Date, ended: Date)
    case upToDate(step: Step)
    /// A step that had to run, whose outputs came from the shared cache instead: `key` names the
    /// entry, `reason` is why it had to run.
    case restored(step: Step, worker: Int, source: CacheSource, key: String, reason: String, started: Date, ended: Date)
    /// Not run because a step it needs failed.
    case skipped(step: Step, failedDependency: Step)
    /// A status line from swbpf itself (a lock wait, where a report was written).
    case note(String)
    /// An error, warning or note about the project, its configuration or the machine.
    case diagnostic(Diagnostic)
    case buildFinished(summary: BuildSummary)
}

public struct BuildSummary: Sendable {
    /// Steps that ran (in a dry run: that would run).
    public var ran: Int
    public var upToDate: Int
    public var failed: [Step]
    /// Steps not run: skipped because a step they need failed, or never reached because a failure
    /// or an interruption stopped the build from starting steps.
    public var skipped: Int
    public var interrupted: Bool
    public var dryRun = false
    /// Steps whose outputs came from the shared cache (not counted in `ran`).
    public var restored = 0
    public var started: Date
    public var ended: Date
    /// Whether the build went on after a failure (-k).
    public var keptGoing = false
    /// After a failure or an interruption: what became of each app.
    public var apps: AppOutcomes?
    /// After a failure: the apps whose binaries need none of the failed steps but were not built,
    /// because the build stopped (-k builds them).
    public var appsLeftUnbuilt: [String] { apps?.leftUnbuilt ?? [] }
    public var succeeded: Bool { failed.isEmpty && !interrupted }

    package init(ran: Int, upToDate: Int, failed: [Step], skipped: Int, interrupted: Bool, dryRun: Bool = false, restored: Int = 0, started: Date, ended: Date, keptGoing: Bool = false) {
        self.ran = ran
        self.upToDate = upToDate
        self.failed = failed
        self.skipped = skipped
        self.interrupted = interrupted
        self.dryRun = dryRun
        self.restored = restored
        self.started = started
        self.ended = ended
        self.keptGoing = keptGoing
    }
}

public protocol BuildReporter: AnyObject {
    func handle(_ event: BuildEvent)
}

/// Sends each event to several reporters, in order.
public final class ReporterGroup: BuildReporter {
    public var reporters: [BuildReporter]
    public init(_ reporters: [BuildReporter]) { self.reporters = reporters }
    public func handle(_ event: BuildEvent) { reporters.forEach { $0.handle(event) } }
}
