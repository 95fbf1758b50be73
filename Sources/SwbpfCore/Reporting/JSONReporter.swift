import Foundation

/// `--format json`: one JSON object per line on standard output, for editors and CI.
/// Events: plan, started, finished, cached, skipped, note, done.
public final class JSONReporter: BuildReporter {
    let out: TextOutput
    var origin = Date()

    public init(out: TextOutput = .standardOutput) { self.out = out }

    func emit(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        out.write(Array(data) + [0x0A])
    }

    static func describe(_ step: Step) -> [String: Any] {
        var object: [String: Any] = ["id": step.id, "label": step.kind.label, "kind": step.kind.rawValue,
                                     "output": step.primaryOutput, "command": step.shellCommand,
                                     "argv": step.displayCommand, "inputs": step.inputs,
                                     "outputs": step.outputs + (step.standardOutput.map { [$0] } ?? []),
                                     "dependencies": step.dependencies]
        if let app = step.app { object["app"] = app }
        return object
    }

    func milliseconds(_ interval: TimeInterval) -> Double { (interval * 1000 * 1000).rounded() / 1000 }

    public func handle(_ event: BuildEvent) {
        switch event {
        case .planned(let steps, let toRun):
            origin = Date()
            emit(["event": "plan", "steps": steps.map(Self.describe), "toRun": toRun])
        case .started(let step, let worker, let reason, let at):
            emit(["event": "started", "id": step.id, "label": step.kind.label, "output": step.primaryOutput,
                  "reason": reason, "worker": worker, "argv": step.displayCommand, "timeMs": milliseconds(at.timeIntervalSince(origin))])
        case .finished(let step, let worker, let result, let output, let started, let ended):
            var object: [String: Any] = ["event": "finished", "id": step.id, "label": step.kind.label, "output": step.primaryOutput,
                                         "worker": worker, "argv": step.displayCommand,
                                         "durationMs": milliseconds(ended.timeIntervalSince(started)),
                                         "diagnostics": String(decoding: output, as: UTF8.self)]
            switch result {
            case .succeeded: object["status"] = "succeeded"; object["exitStatus"] = 0
            case .failed(let status): object["status"] = "failed"; object["exitStatus"] = Int(status)
            case .interrupted: object["status"] = "interrupted"
            }
            emit(object)
        case .upToDate(let step):
            emit(["event": "cached", "id": step.id, "label": step.kind.label, "output": step.primaryOutput])
        case .skipped(let step, let cause):
            emit(["event": "skipped", "id": step.id, "label": step.kind.label, "output": step.primaryOutput, "because": cause.id])
        case .note(let text):
            emit(["event": "note", "message": text])
        case .buildFinished(let summary):
            emit(["event": "done", "success": summary.succeeded, "ran": summary.ran, "upToDate": summary.upToDate,
                  "failed": summary.failed.map(\.id), "skipped": summary.skipped, "interrupted": summary.interrupted,
                  "durationMs": milliseconds(summary.ended.timeIntervalSince(summary.started))])
        }
    }
}
