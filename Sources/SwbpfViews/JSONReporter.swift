import FoundationEssentials
import SwbpfBasics
import SwbpfBuild
import SwbpfModel

/// `--format json`: one JSON object per line on standard output, for editors and CI.
/// Events: plan, started, finished, upToDate, restored (from the shared cache), skipped, note,
/// diagnostic, done. docs/events.schema.json describes every one; ViewTests checks a real build's
/// events against it.
public final class JSONReporter: BuildReporter {
    package let out: TextOutput
    package var origin = Date()
    package let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public init(out: TextOutput = .standardOutput) { self.out = out }

    /// A step as the plan event lists it.
    package struct StepInfo: Encodable {
        package var id: Int
        package var label: String
        package var kind: String
        package var app: String?
        package var output: String
        package var command: String
        package var argv: [String]
        package var inputs: [String]
        package var orderOnlyInputs: [String]
        package var outputs: [String]
        package var dependencies: [Int]

        package init(_ step: Step) {
            id = step.id
            label = step.kind.label
            kind = step.kind.rawValue
            app = step.app
            output = step.primaryOutput
            command = step.shellCommand
            argv = step.displayCommand
            inputs = step.inputs
            orderOnlyInputs = step.orderOnlyInputs
            outputs = step.products
            dependencies = step.dependencies
        }
    }

    /// Every event is this one shape; fields that do not apply are left out.
    package struct Event: Encodable {
        package var event: String
        package var steps: [StepInfo]?
        package var toRun: Int?
        package var dryRun: Bool?
        package var id: Int?
        package var label: String?
        package var output: String?
        package var reason: String?
        package var worker: Int?
        package var argv: [String]?
        package var timeMs: Double?
        package var durationMs: Double?
        package var status: String?
        package var exitStatus: Int?
        /// What the tool printed, whole.
        package var diagnostics: String?
        /// The same, parsed: the compiler's messages with file, line and column.
        package var messages: [CompilerMessage]?
        package var failure: String?
        package var severity: String?
        package var file: String?
        package var line: Int?
        package var column: Int?
        package var notes: [String]?
        package var help: String?
        package var because: Int?
        package var message: String?
        package var success: Bool?
        package var ran: Int?
        package var upToDate: Int?
        package var failed: [Int]?
        package var skipped: Int?
        package var interrupted: Bool?
        package var source: String?
        package var key: String?
        package var restored: Int?
        package var apps: Apps?

        package init(_ event: String, step: Step? = nil) {
            self.event = event
            id = step?.id
            label = step?.kind.label
            output = step?.primaryOutput
        }
    }

    /// The done event's account of each app after a failure or an interruption (`AppOutcomes`).
    package struct Apps: Encodable {
        package struct Failure: Encodable {
            package var app: String
            /// The id of the failed step (its own, or a shared one it needs).
            package var step: Int
            package var label: String
        }
        package var finished: [String]
        package var failed: [Failure]
        package var stoppedPartWay: [String]
        package var notStarted: [String]

        package init(_ outcomes: AppOutcomes) {
            finished = outcomes.finished
            failed = outcomes.failed.map { Failure(app: $0.app, step: $0.stepID, label: $0.step) }
            stoppedPartWay = outcomes.stoppedPartWay
            notStarted = outcomes.notStarted
        }
    }

    package func emit(_ event: Event) {
        guard let data = try? encoder.encode(event) else { return }
        out.write(Array(data) + [0x0A])
    }

    package func milliseconds(_ interval: TimeInterval) -> Double { (interval * 1_000_000).rounded() / 1000 }

    public func handle(_ event: BuildEvent) {
        switch event {
        case .planned(let steps, let toRun, let dryRun):
            origin = Date()
            var object = Event("plan")
            object.steps = steps.map(StepInfo.init)
            object.toRun = toRun.count
            object.dryRun = dryRun
            emit(object)
        case .started(let step, let worker, let reason, let at):
            var object = Event("started", step: step)
            object.reason = reason
            object.worker = worker
            object.argv = step.displayCommand
            object.timeMs = milliseconds(at.timeIntervalSince(origin))
            emit(object)
        case .finished(let step, let worker, let result, let output, let started, let ended):
            var object = Event("finished", step: step)
            object.worker = worker
            object.argv = step.displayCommand
            object.durationMs = milliseconds(ended.timeIntervalSince(started))
            object.diagnostics = String(decoding: output, as: UTF8.self)
            object.messages = CompilerMessage.parse(object.diagnostics ?? "")
            switch result {
            case .succeeded: (object.status, object.exitStatus) = ("succeeded", 0)
            case .failed(let failure):
                object.status = "failed"
                object.exitStatus = failure.exitStatus.map(Int.init)
                object.failure = failure.describe(tool: step.tool)
            case .interrupted: object.status = "interrupted"
            case .wouldRun: object.status = "would-run"
            }
            emit(object)
        case .upToDate(let step):
            emit(Event("upToDate", step: step))
        case .restored(let step, let worker, let source, let key, let reason, let started, let ended):
            var object = Event("restored", step: step)
            object.worker = worker
            object.source = source.rawValue
            object.key = key
            object.reason = reason
            object.argv = step.displayCommand
            object.timeMs = milliseconds(started.timeIntervalSince(origin))
            object.durationMs = milliseconds(ended.timeIntervalSince(started))
            emit(object)
        case .skipped(let step, let cause):
            var object = Event("skipped", step: step)
            object.because = cause.id
            emit(object)
        case .note(let text):
            var object = Event("note")
            object.message = text
            emit(object)
        case .diagnostic(let diagnostic):
            var object = Event("diagnostic")
            object.severity = diagnostic.severity.rawValue
            object.message = diagnostic.message
            object.file = diagnostic.location?.file
            object.line = diagnostic.location?.line
            object.column = diagnostic.location?.column
            object.notes = diagnostic.notes.isEmpty ? nil : diagnostic.notes
            object.help = diagnostic.help
            emit(object)
        case .buildFinished(let summary):
            var object = Event("done")
            object.success = summary.succeeded
            object.ran = summary.ran
            object.upToDate = summary.upToDate
            object.failed = summary.failed.map(\.id)
            object.skipped = summary.skipped
            object.restored = summary.restored
            object.interrupted = summary.interrupted
            object.dryRun = summary.dryRun
            object.apps = summary.apps.map(Apps.init)
            object.durationMs = milliseconds(summary.ended.timeIntervalSince(summary.started))
            emit(object)
        }
    }
}
