import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfViews
import SwbpfTestSupport

/// Meanings written where the words are: the planning functions of these step kinds give every
/// word of swbpf's own a `WordMeaning`, and `swbpf explain` reads it from the plan.
@Suite struct WordMeaningTests {
    /// A kprobe app with a precompiled vmlinux.h, a second kernel part, and flags of the user's.
    static func plan() throws -> BuildPlan {
        let app = App(name: "kprobe", bpfSources: ["kprobe.bpf.c", "extra.bpf.c"], userSources: ["kprobe.c"], helpers: [],
                      vmlinuxFirstSources: ["kprobe.bpf.c"])
        var config = ProjectConfig()
        config.bpfCflags = ["-DUSER=1"]
        return try Planner(project: project([app], config: config), toolchain: fixedToolchain(), settings: BuildSettings()).plan()
    }

    /// Roles the explainer reads as a whole (a source, an output, directory pairs): their words
    /// are explained by the role, which is typed already.
    static let explainedByRole: Set<ArgumentRole> = [.source, .output, .systemIncludes, .includePaths]

    @Test(arguments: [StepKind.bpfCompile, .precompiledHeader])
    func everyWordSwbpfWritesHasAMeaning(_ kind: StepKind) throws {
        let steps = try Self.plan().steps.filter { $0.kind == kind }
        #expect(!steps.isEmpty)
        for step in steps {
            for group in step.groups where group.origin == .swbpf && !Self.explainedByRole.contains(group.role) {
                for argument in group.arguments {
                    if case .flag(let word) = argument {
                        Issue.record("\(kind.label) \(step.primaryOutput): \(word) in \(group.role) has no WordMeaning")
                    }
                }
            }
        }
    }

    @Test func thePrecompiledHeadersDebugInfoIsBTFAndTheTargetIsOneItem() throws {
        let explainer = Explainer(toolchain: fixedToolchain(), root: "/work/p")
        let plan = try Self.plan()
        for step in plan.steps where step.kind == .precompiledHeader || step.kind == .bpfCompile {
            let items = explainer.explain(step).groups.flatMap(\.items)
            let debugInfo = try #require(items.first { $0.words == ["-g"] })
            #expect(debugInfo.meaning.contains("BTF") && !debugInfo.meaning.contains("gdb"), "\(step.primaryOutput): \(debugInfo.meaning)")
            #expect(items.contains { $0.words == ["-target", "bpf"] && $0.meaning.hasPrefix("generate eBPF bytecode") })
            #expect(items.first { $0.words == ["-O2"] }?.meaning.contains("verifier") == true)
        }
    }
}
