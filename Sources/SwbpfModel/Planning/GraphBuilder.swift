import SwbpfBasics

/// Collects planned steps into a `BuildPlan`: numbers them in the order they are added, refuses two
/// steps that write one file, and derives every dependency from the producer of each input, so no
/// planning function threads step ids by hand.
package struct GraphBuilder {
    private var steps: [Step] = []
    private var producers: [String: Int] = [:]
    /// Ids of the steps that build swbpf's own tools (they belong to no app).
    private var toolIDs = Set<Int>()

    /// Adds a step after every step it reads from (the planner adds producers first).
    package mutating func add(_ step: Step) throws {
        var step = step
        step.id = steps.count
        for path in step.products {
            if let first = producers[path] {
                throw PlanError.duplicateOutput(path: path, first: Self.describe(steps[first]), second: Self.describe(step))
            }
            producers[path] = step.id
        }
        steps.append(step)
    }

    /// Adds a step that builds one of swbpf's own tools: planned with the rest, kept apart in
    /// `BuildPlan.tools`.
    package mutating func addTool(_ step: Step) throws {
        toolIDs.insert(steps.count)
        try add(step)
    }

    package func finish(projectRoot: String, outputDirectory: String) throws -> BuildPlan {
        var steps = self.steps
        for index in steps.indices {
            let reads = steps[index].inputs + steps[index].orderOnlyInputs
            // The planner adds every producer before its consumers, so a later producer of a file
            // a step reads means that file is a source another step would overwrite.
            if let source = reads.first(where: { producers[$0].map { $0 >= index } ?? false }), let writer = producers[source] {
                throw PlanError.productIsSource(path: source, reader: Self.describe(steps[index]), writer: Self.describe(steps[writer]))
            }
            steps[index].dependencies = Set(reads.compactMap { producers[$0] }).sorted()
        }
        let stateDirectory = FileSystem.join(outputDirectory, ".swbpf") + "/"
        if let step = steps.first(where: { $0.products.contains { $0.hasPrefix(stateDirectory) } }) {
            throw PlanError.productIsSource(path: stateDirectory, reader: "swbpf's build state", writer: Self.describe(step))
        }
        // An app's steps are everything its binary, its aliases and its small BTFs need: the
        // closure of their dependencies.
        var appSteps: [String: Set<Int>] = [:]
        for step in steps where step.kind.linksBinary || step.kind == .alias || step.kind == .minCoreBTF {
            guard let app = step.app else { continue }
            var needed = appSteps[app] ?? []
            var pending = [step.id]
            while let id = pending.popLast() {
                if needed.insert(id).inserted { pending += steps[id].dependencies }
            }
            appSteps[app] = needed
        }
        return BuildPlan(projectRoot: projectRoot, outputDirectory: outputDirectory, steps: steps.filter { !toolIDs.contains($0.id) },
                         appSteps: appSteps.mapValues { $0.sorted() }, tools: steps.filter { toolIDs.contains($0.id) })
    }

    package static func describe(_ step: Step) -> String { "\(step.kind.label) \(step.primaryOutput)" }
}
