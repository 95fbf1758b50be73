import Foundation

/// Chrome trace-event JSON (opens in Perfetto and chrome://tracing): one complete event per
/// executed step on its worker's lane, and an instant event for each step found up to date.
public enum TraceWriter {
    public static func json(_ recorder: TimingsRecorder) -> [UInt8] {
        func micros(_ seconds: TimeInterval) -> Int { Int((seconds * 1_000_000).rounded()) }
        var events: [[String: Any]] = [["name": "process_name", "ph": "M", "pid": 1, "args": ["name": "swbpf build"]]]
        let workers = Set(recorder.executed.map(\.worker)).sorted()
        for worker in workers {
            events.append(["name": "thread_name", "ph": "M", "pid": 1, "tid": worker + 1, "args": ["name": "worker \(worker + 1)"]])
        }
        events.append(["name": "build", "cat": "build", "ph": "X", "pid": 1, "tid": 0, "ts": 0, "dur": micros(recorder.total),
                       "args": ["ran": recorder.executed.count, "upToDate": recorder.cached.count]])
        for timed in recorder.executed {
            var exit: Any = 0
            switch timed.result {
            case .succeeded: exit = 0
            case .failed(let status): exit = Int(status)
            case .interrupted: exit = "interrupted"
            }
            events.append(["name": "\(timed.step.kind.label) \(timed.step.primaryOutput)", "cat": timed.step.kind.rawValue,
                           "ph": "X", "pid": 1, "tid": timed.worker + 1, "ts": micros(timed.start), "dur": max(1, micros(timed.duration)),
                           "args": ["command": timed.step.shellCommand, "inputs": timed.step.inputs,
                                    "outputs": timed.step.outputs + (timed.step.standardOutput.map { [$0] } ?? []),
                                    "exitStatus": exit, "app": timed.step.app ?? ""]])
        }
        for (step, at) in recorder.cached {
            events.append(["name": "\(step.kind.label) \(step.primaryOutput) (up to date)", "cat": step.kind.rawValue,
                           "ph": "i", "s": "t", "pid": 1, "tid": 0, "ts": micros(at)])
        }
        let object: [String: Any] = ["traceEvents": events, "displayTimeUnit": "ms"]
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
    }
}
