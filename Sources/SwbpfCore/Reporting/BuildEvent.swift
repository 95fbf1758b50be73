import FoundationEssentials

/// How one step ended.
public enum StepResult: Equatable, Sendable {
    case succeeded
    case failed(status: Int32)
    case interrupted
}

/// What the executor tells its observers. Every view of a build (short labels, -v, --explain,
/// JSON, timings, traces) is a reporter over these events.
public enum BuildEvent: Sendable {
    /// The steps the build covers, and the ids of those expected to run (a step whose inputs come
    /// out unchanged after all is then reported up to date instead).
    case planned(steps: [Step], toRun: [Int])
    case started(step: Step, worker: Int, reason: String, at: Date)
    /// `output` is what the tool printed (standard error, then standard output unless redirected).
    case finished(step: Step, worker: Int, result: StepResult, output: [UInt8], started: Date, ended: Date)
    case upToDate(step: Step)
    /// Not run because a step it needs failed.
    case skipped(step: Step, failedDependency: Step)
    /// A note from swbpf itself (not a step), such as a lock wait or a state warning.
    case note(String)
    case buildFinished(summary: BuildSummary)
}

public struct BuildSummary: Sendable {
    public var ran: Int
    public var upToDate: Int
    public var failed: [Step]
    public var skipped: Int
    public var interrupted: Bool
    public var started: Date
    public var ended: Date
    public var succeeded: Bool { failed.isEmpty && !interrupted }
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
