import FoundationEssentials
import SwbpfBasics
import SwbpfBuild
import SwbpfModel

/// One executed (or cached) step with its times, as the timings table, HTML report and trace see it.
public struct TimedStep {
    public var step: Step
    public var worker: Int
    public var start: TimeInterval
    public var end: TimeInterval
    public var result: StepResult
    /// Set when the outputs came from the shared cache.
    public var restoredFrom: CacheSource? = nil
    public var duration: TimeInterval { end - start }

    package init(step: Step, worker: Int, start: TimeInterval, end: TimeInterval, result: StepResult, restoredFrom: CacheSource? = nil) {
        self.step = step
        self.worker = worker
        self.start = start
        self.end = end
        self.result = result
        self.restoredFrom = restoredFrom
    }
}

/// Collects step times during a build; the table, the HTML report and the Chrome trace are all
/// rendered from what it recorded.
public final class TimingsRecorder: BuildReporter {
    public private(set) var executed: [TimedStep] = []
    public private(set) var cached: [(step: Step, at: TimeInterval)] = []
    public private(set) var steps: [Step] = []
    public private(set) var summary: BuildSummary?
    package var origin = Date()
    package let onFinish: (TimingsRecorder) -> Void

    public init(onFinish: @escaping (TimingsRecorder) -> Void) { self.onFinish = onFinish }

    public func handle(_ event: BuildEvent) {
        switch event {
        case .planned(let steps, _, _):
            origin = Date()
            self.steps = steps
        case .finished(let step, let worker, let result, _, let started, let ended):
            executed.append(TimedStep(step: step, worker: worker, start: started.timeIntervalSince(origin),
                                      end: ended.timeIntervalSince(origin), result: result))
        case .restored(let step, let worker, let source, _, _, let started, let ended):
            executed.append(TimedStep(step: step, worker: worker, start: started.timeIntervalSince(origin),
                                      end: ended.timeIntervalSince(origin), result: .succeeded, restoredFrom: source))
        case .upToDate(let step):
            cached.append((step, Date().timeIntervalSince(origin)))
        case .buildFinished(let summary):
            self.summary = summary
            onFinish(self)
        case .started, .skipped, .note, .diagnostic:
            break
        }
    }

    public var total: TimeInterval { summary.map { $0.ended.timeIntervalSince($0.started) } ?? 0 }

    /// The chain of executed steps, each depending on the previous, with the largest summed time:
    /// what no amount of parallelism could shorten.
    public var criticalPath: [TimedStep] {
        let byID = Dictionary(uniqueKeysWithValues: executed.map { ($0.step.id, $0) })
        var best: [Int: (total: TimeInterval, previous: Int?)] = [:]
        for timed in executed.sorted(by: { $0.end < $1.end }) {
            let upstream = timed.step.dependencies.compactMap { id in best[id].map { (id, $0.total) } }.max { $0.1 < $1.1 }
            best[timed.step.id] = (timed.duration + (upstream?.1 ?? 0), upstream?.0)
        }
        guard var current = best.max(by: { $0.value.total < $1.value.total })?.key else { return [] }
        var path: [TimedStep] = []
        while let timed = byID[current] {
            path.append(timed)
            guard let previous = best[current]?.previous else { break }
            current = previous
        }
        return path.reversed()
    }

    /// The end-of-build table: every executed step, slowest first, then the critical path.
    public func table() -> String {
        func ms(_ seconds: TimeInterval) -> String { Decimal.string(seconds * 1000, places: 1).leftPadded(to: 8) + " ms" }
        var out = "swbpf timings: \(executed.count) step\(executed.count == 1 ? "" : "s") run, \(cached.count) up to date, total \(ms(total).trimmed([" ", "\t"]))\n"
        for timed in executed.sorted(by: { $0.duration > $1.duration }) {
            let label = timed.restoredFrom == nil ? timed.step.kind.label : "CACHED"
            out += "  \(ms(timed.duration))  \(label.padded(to: 8)) \(timed.step.primaryOutput)\n"
        }
        let path = criticalPath
        if !path.isEmpty {
            let sum = path.reduce(0) { $0 + $1.duration }
            out += "critical path (\(ms(sum).trimmed([" ", "\t"]))): "
                + path.map { "\($0.step.kind.label) \($0.step.primaryOutput)" }.joined(separator: " → ") + "\n"
        }
        return out
    }
}
