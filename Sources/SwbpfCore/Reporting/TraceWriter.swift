import FoundationEssentials

/// Chrome trace-event JSON (opens in Perfetto and chrome://tracing): one complete event per
/// executed step on its worker's lane, and an instant event for each step found up to date.
public enum TraceWriter {
    struct Event: Encodable {
        var name: String
        var cat: String?
        /// X: complete, i: instant, M: metadata.
        var ph: String
        var pid = 1
        var tid: Int?
        var ts: Int?
        var dur: Int?
        /// The scope of an instant event ("t": its thread).
        var s: String?
        var args: Arguments?
    }

    struct Arguments: Encodable {
        var name: String?
        var command: String?
        var inputs: [String]?
        var outputs: [String]?
        var exitStatus: Int?
        var failure: String?
        var interrupted: Bool?
        var app: String?
        var ran: Int?
        var upToDate: Int?
    }

    struct Document: Encodable {
        var traceEvents: [Event]
        var displayTimeUnit = "ms"
    }

    public static func json(_ recorder: TimingsRecorder) -> [UInt8] {
        func micros(_ seconds: TimeInterval) -> Int { Int((seconds * 1_000_000).rounded()) }
        var events = [Event(name: "process_name", ph: "M", args: Arguments(name: "swbpf build"))]
        for worker in Set(recorder.executed.map(\.worker)).sorted() {
            events.append(Event(name: "thread_name", ph: "M", tid: worker + 1, args: Arguments(name: "worker \(worker + 1)")))
        }
        events.append(Event(name: "build", cat: "build", ph: "X", tid: 0, ts: 0, dur: micros(recorder.total),
                            args: Arguments(ran: recorder.executed.count, upToDate: recorder.cached.count)))
        for timed in recorder.executed {
            var arguments = Arguments(command: timed.step.shellCommand, inputs: timed.step.inputs,
                                      outputs: timed.step.products,
                                      app: timed.step.app)
            switch timed.result {
            case .succeeded: arguments.exitStatus = 0
            case .failed(let failure):
                arguments.exitStatus = failure.exitStatus.map(Int.init)
                arguments.failure = failure.describe(tool: timed.step.tool)
            case .interrupted: arguments.interrupted = true
            case .wouldRun: break
            }
            events.append(Event(name: "\(timed.step.kind.label) \(timed.step.primaryOutput)", cat: timed.step.kind.rawValue, ph: "X",
                                tid: timed.worker + 1, ts: micros(timed.start), dur: max(1, micros(timed.duration)), args: arguments))
        }
        for (step, at) in recorder.cached {
            events.append(Event(name: "\(step.kind.label) \(step.primaryOutput) (up to date)", cat: step.kind.rawValue, ph: "i",
                                tid: 0, ts: micros(at), s: "t"))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(Document(traceEvents: events))) ?? Data())
    }
}
