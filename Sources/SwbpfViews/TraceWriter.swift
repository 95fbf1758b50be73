import FoundationEssentials

/// Chrome trace-event JSON (opens in Perfetto and chrome://tracing): one complete event per
/// executed step on its worker's lane, and an instant event for each step found up to date.
public enum TraceWriter {
    package struct Event: Encodable {
        package var name: String
        package var cat: String?
        /// X: complete, i: instant, M: metadata.
        package var ph: String
        package var pid = 1
        package var tid: Int?
        package var ts: Int?
        package var dur: Int?
        /// The scope of an instant event ("t": its thread).
        package var s: String?
        package var args: Arguments?

        package init(name: String, cat: String? = nil, ph: String, pid: Int = 1, tid: Int? = nil, ts: Int? = nil, dur: Int? = nil, s: String? = nil, args: Arguments? = nil) {
            self.name = name
            self.cat = cat
            self.ph = ph
            self.pid = pid
            self.tid = tid
            self.ts = ts
            self.dur = dur
            self.s = s
            self.args = args
        }
    }

    package struct Arguments: Encodable {
        package var name: String?
        package var command: String?
        package var inputs: [String]?
        package var outputs: [String]?
        package var exitStatus: Int?
        package var failure: String?
        package var interrupted: Bool?
        package var app: String?
        package var ran: Int?
        package var upToDate: Int?

        package init(name: String? = nil, command: String? = nil, inputs: [String]? = nil, outputs: [String]? = nil, exitStatus: Int? = nil, failure: String? = nil, interrupted: Bool? = nil, app: String? = nil, ran: Int? = nil, upToDate: Int? = nil) {
            self.name = name
            self.command = command
            self.inputs = inputs
            self.outputs = outputs
            self.exitStatus = exitStatus
            self.failure = failure
            self.interrupted = interrupted
            self.app = app
            self.ran = ran
            self.upToDate = upToDate
        }
    }

    package struct Document: Encodable {
        package var traceEvents: [Event]
        package var displayTimeUnit = "ms"

        package init(traceEvents: [Event], displayTimeUnit: String = "ms") {
            self.traceEvents = traceEvents
            self.displayTimeUnit = displayTimeUnit
        }
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
