/// Collects planned steps into a `BuildPlan`: numbers them in the order they are added, refuses two
/// steps that write one file, and derives every dependency from the producer of each input, so no
/// planning function threads step ids by hand.
struct GraphBuilder {
    private var steps: [Step] = []
    private var producers: [String: Int] = [:]

    /// Adds a step after every step it reads from (the planner adds producers first).
    mutating func add(_ step: Step) throws {
        var step = step
        step.id = steps.count
        for path in step.products {
            if let first = producers[path] {
                throw SwbpfError.duplicateOutput(path: path, first: Self.describe(steps[first]), second: Self.describe(step))
            }
            producers[path] = step.id
        }
        steps.append(step)
    }

    func finish(projectRoot: String, outputDirectory: String) throws -> BuildPlan {
        var steps = self.steps
        for index in steps.indices {
            let upstream = Set((steps[index].inputs + steps[index].orderOnlyInputs).compactMap { producers[$0] })
            // A producer added after its consumer would break the plan's topological order.
            precondition(upstream.allSatisfy { $0 < index }, "planner added a consumer before its producer")
            steps[index].dependencies = upstream.sorted()
        }
        // An app's steps are everything its binary needs: the closure of the link step's dependencies.
        var appSteps: [String: [Int]] = [:]
        for step in steps where step.kind == .link {
            guard let app = step.app else { continue }
            var needed = Set<Int>()
            var pending = [step.id]
            while let id = pending.popLast() {
                if needed.insert(id).inserted { pending += steps[id].dependencies }
            }
            appSteps[app] = needed.sorted()
        }
        return BuildPlan(projectRoot: projectRoot, outputDirectory: outputDirectory, steps: steps, appSteps: appSteps)
    }

    static func describe(_ step: Step) -> String { "\(step.kind.label) \(step.primaryOutput)" }
}
