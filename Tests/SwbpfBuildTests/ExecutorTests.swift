import Foundation
import Synchronization
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfBuild
import SwbpfTestSupport

@Suite struct ExecutorTests {
    /// Two apps with a shared helper, planned for a fake project root.
    static func plan() throws -> [Step] {
        let project = Project(root: "/project", config: ProjectConfig(), configFile: nil,
                              apps: [simpleApp("a", helpers: ["util.c"]), simpleApp("b", helpers: ["util.c"])],
                              helperSources: ["util.c"], localVmlinuxHeader: nil, notes: [])
        return try Planner(project: project, toolchain: fixedToolchain(), settings: BuildSettings()).plan().steps
    }

    final class Fixture {
        let files = MemoryFileSystem.twoAppProject()
        let runner: FakeRunner
        let steps: [Step]
        let statePath = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-executor-\(UUID().uuidString)").path

        init(behaviours: [String: FakeRunner.Behaviour] = [:]) throws {
            runner = FakeRunner(files: files, behaviours: behaviours)
            steps = try ExecutorTests.plan()
        }
        deinit { try? FileManager.default.removeItem(atPath: statePath) }

        @discardableResult
        func build(jobs: Int = 2, keepGoing: Bool = false, dryRun: Bool = false) async -> (BuildSummary, EventLog) {
            let log = EventLog()
            let executor = Executor(steps: steps, state: BuildState.load(path: statePath),
                                    options: ExecutionOptions(jobs: jobs, keepGoing: keepGoing, dryRun: dryRun),
                                    reporter: log, runner: runner, files: files)
            return (await executor.run(), log)
        }
    }

    @Test func aColdBuildRunsEveryStepOnceInDependencyOrderAndTheNextRunsNothing() async throws {
        let fixture = try Fixture()
        let (summary, log) = await fixture.build()
        #expect(summary.succeeded && summary.ran == fixture.steps.count)
        #expect(Set(fixture.runner.ran) == Set(fixture.steps.map(\.primaryOutput)) && fixture.runner.ran.count == fixture.steps.count)
        let order = Dictionary(uniqueKeysWithValues: log.started.enumerated().map { ($1, $0) })
        for step in fixture.steps {
            for dependency in step.dependencies {
                #expect(order[fixture.steps[dependency].primaryOutput]! < order[step.primaryOutput]!,
                        "\(step.primaryOutput) started before \(fixture.steps[dependency].primaryOutput)")
            }
        }
        #expect(fixture.files.text("a")?.hasPrefix("/usr/bin/cc") == true, "the binary was committed from its temporary")
        #expect(!fixture.files.paths.contains { $0.hasSuffix(FileSystem.temporarySuffix) }, "temporaries left behind")

        let (again, second) = await fixture.build()
        #expect(again.ran == 0 && again.upToDate == fixture.steps.count && second.started.isEmpty)
        #expect(fixture.runner.ran.count == fixture.steps.count)
    }

    @Test func jobsBoundHowManyToolsRunAtOnce() async throws {
        for jobs in [1, 3] {
            let fixture = try Fixture()
            await fixture.build(jobs: jobs)
            #expect(fixture.runner.mostAtOnce <= jobs)
            #expect(jobs == 1 || fixture.runner.mostAtOnce > 1, "independent steps never ran together")
        }
    }

    @Test func anEditReRunsTheStepsDownstreamOfItAndAnUnchangedOutputCutsTheChain() async throws {
        let fixture = try Fixture()
        await fixture.build()
        fixture.files.write("a.c", "/* a.c v2 */")
        let (_, log) = await fixture.build()
        #expect(log.started == [".output/a.o", "a"])
        #expect(log.reasons[".output/a.o"] == "input a.c changed")

        // The fake compiler's output depends only on its inputs: restoring a.c's bytes in a file
        // with new stat data reruns the compile, whose output equals the recorded one, so the link
        // is up to date.
        fixture.files.write("a.c", "/* a.c v2 */")
        let (_, touched) = await fixture.build()
        #expect(touched.started.isEmpty, "a rewrite with the same bytes ran \(touched.started)")
    }

    @Test func aDiscoveredHeaderIsAnInput() async throws {
        let fixture = try Fixture()
        await fixture.build()
        fixture.files.write("common.h", "/* common.h v2 */")
        let (_, log) = await fixture.build()
        // Every compile's depfile names common.h, so every compile and everything after it reruns.
        let compiles = fixture.steps.filter { $0.depfile != nil }.map(\.primaryOutput)
        #expect(Set(compiles).isSubset(of: Set(log.started)))
        #expect(log.reasons[".output/a.o"] == "header common.h changed")
        #expect(!log.started.contains(".output/vmlinux.h"))
    }

    @Test func aFailureSkipsItsDependentsAndStopsTheBuildUnlessKeepGoing() async throws {
        let fixture = try Fixture(behaviours: [".output/a.o": .fail(status: 1)])
        let (summary, log) = await fixture.build(jobs: 1)
        #expect(!summary.succeeded && summary.failed.map(\.primaryOutput) == [".output/a.o"])
        #expect(log.failures[".output/a.o"] == .exited(status: 1))
        #expect(!fixture.files.paths.contains(fixture.files.absolute("a")))

        let keepGoing = try Fixture(behaviours: [".output/a.o": .fail(status: 1)])
        let (kept, keptLog) = await keepGoing.build(jobs: 1, keepGoing: true)
        #expect(keptLog.skipped == ["a"], "only a's binary depends on the failed compile")
        #expect(keepGoing.files.text("b") != nil, "b was not built with -k")
        #expect(kept.failed.count == 1 && kept.skipped == 1)
    }

    /// A watched project renamed while a step runs: its output is nowhere, and the error says why.
    @Test func anOutputMissingBecauseTheProjectMovedSaysSo() async throws {
        let fixture = try Fixture(behaviours: [".output/a.o": .writeNothing])
        fixture.files.removeRoot()
        let (summary, log) = await fixture.build()
        #expect(!summary.succeeded)
        #expect(log.failures[".output/a.o"] == .couldNotCommitOutput(
            path: ".output/a.o", reason: "the project directory /project is gone: it was moved or removed while cc ran"))
    }

    @Test(arguments: [
        (FakeRunner.Behaviour.writeNothing, StepFailure.couldNotCommitOutput(path: ".output/a.o", reason: "cc exited 0 but did not write it")),
        (.cannotLaunch, .couldNotLaunch(reason: "Permission denied")),
    ])
    func aFailureSaysWhy(_ behaviour: FakeRunner.Behaviour, _ expected: StepFailure) async throws {
        let fixture = try Fixture(behaviours: [".output/a.o": behaviour])
        let (summary, log) = await fixture.build()
        #expect(!summary.succeeded)
        #expect(log.failures[".output/a.o"] == expected)
        // Nothing was recorded for it: the next build runs it again.
        fixture.runner.setBehaviour(nil, for: ".output/a.o")
        let (_, next) = await fixture.build()
        #expect(next.started.contains(".output/a.o"))
    }

    @Test func aCapturedOutputThatCannotBeWrittenFailsTheStep() async throws {
        let fixture = try Fixture(behaviours: [".output/a.skel.h": .cannotWriteOutput])
        let (_, log) = await fixture.build()
        guard case .couldNotWriteOutput(_, let reason)? = log.failures[".output/a.skel.h"] else {
            Issue.record("expected couldNotWriteOutput, got \(String(describing: log.failures[".output/a.skel.h"]))")
            return
        }
        #expect(reason == "No space left on device")
        #expect(fixture.files.stat(".output/a.skel.h") == nil)
    }

    @Test func anInputEditedWhileItsStepRunsIsNotTrusted() async throws {
        let fixture = try Fixture(behaviours: [".output/a.o": .editWhileRunning(path: "a.c", text: "/* a.c edited mid-build */")])
        await fixture.build()
        fixture.runner.setBehaviour(nil, for: ".output/a.o")
        // The object holds the old a.c; the next build must compile it again.
        let (_, log) = await fixture.build()
        #expect(log.started.contains(".output/a.o"))
        #expect(log.reasons[".output/a.o"] == "input a.c changed while the step ran, or could not be read")
        let (_, settled) = await fixture.build()
        #expect(settled.started.isEmpty)
    }

    @Test func aDryRunReportsWhatWouldRunAndWritesNothing() async throws {
        let fixture = try Fixture()
        let before = fixture.files.paths
        let (summary, log) = await fixture.build(dryRun: true)
        #expect(summary.dryRun && summary.ran == fixture.steps.count)
        #expect(log.started == fixture.steps.map(\.primaryOutput))
        #expect(fixture.runner.ran.isEmpty && fixture.files.paths == before)
        #expect(!FileManager.default.fileExists(atPath: fixture.statePath))
        let wouldRun = log.events.filter { if case .finished(_, _, .wouldRun, _, _, _) = $0 { return true } else { return false } }
        #expect(wouldRun.count == fixture.steps.count)
    }

    /// Random sequences of edits, rewrites with the same bytes, header edits, flag changes and
    /// builds interrupted at random moments, each followed by a build: the products always equal
    /// those of a clean build of the same sources and flags.
    @Test func anySequenceOfChangesAndKillsEndsLikeACleanBuild() async throws {
        var random = SplitMix(seed: 20261201)
        let fixture = try Fixture()
        var cflags = ["-g", "-Wall"]
        var state = BuildState.load(path: fixture.statePath)
        func plan() throws -> [Step] {
            var settings = BuildSettings()
            settings.cflags = cflags
            let project = Project(root: "/project", config: ProjectConfig(), configFile: nil,
                                  apps: [simpleApp("a", helpers: ["util.c"]), simpleApp("b", helpers: ["util.c"])],
                                  helperSources: ["util.c"], localVmlinuxHeader: nil, notes: [])
            return try Planner(project: project, toolchain: fixedToolchain(), settings: settings).plan().steps
        }
        func build(_ files: MemoryFileSystem, state: BuildState, cancelAfter: Duration? = nil) async throws -> BuildSummary {
            let executor = Executor(steps: try plan(), state: state, options: ExecutionOptions(jobs: 2, keepGoing: false),
                                    reporter: EventLog(), runner: FakeRunner(files: files), files: files)
            let task = Task { await executor.run() }
            if let cancelAfter {
                try await Task.sleep(for: cancelAfter)
                task.cancel()
            }
            return await task.value
        }
        let sources = ["a.bpf.c", "a.c", "b.bpf.c", "b.c", "util.c", "common.h"]
        for round in 0..<60 {
            switch random.next() % 5 {
            case 0, 1:
                let file = sources[Int(random.next() % UInt64(sources.count))]
                fixture.files.write(file, "/* \(file) round \(round) */")
            case 2:
                let file = sources[Int(random.next() % UInt64(sources.count))]
                fixture.files.write(file, fixture.files.read(file) ?? [])
            case 3:
                cflags = random.next() % 2 == 0 ? ["-g", "-Wall"] : ["-O\(random.next() % 3)"]
            default:
                _ = try await build(fixture.files, state: state, cancelAfter: .milliseconds(Int(random.next() % 12)))
                state = BuildState.load(path: fixture.statePath)
            }
            let summary = try await build(fixture.files, state: state)
            #expect(summary.succeeded, "round \(round)")
            state = BuildState.load(path: fixture.statePath)

            let clean = MemoryFileSystem.twoAppProject()
            for file in sources { clean.write(file, fixture.files.read(file) ?? []) }
            let cleanState = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-clean-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: cleanState) }
            _ = try await build(clean, state: BuildState.load(path: cleanState))
            for product in try plan().flatMap(\.products) {
                #expect(fixture.files.read(product) == clean.read(product), "round \(round): \(product) differs from a clean build")
            }
            #expect(!fixture.files.paths.contains { $0.hasSuffix(FileSystem.temporarySuffix) }, "round \(round): temporaries left")
        }
    }
}
