import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfBuild
import SwbpfTestSupport

// The executor's two parts on their own, on ExecutorTests' plan of two apps with a shared helper:
// the scheduler as a pure value, and one step's execution through the fake runner and the
// in-memory file system.

@Suite struct BuildSchedulerTests {
    /// Hands out every step, runs none, and says each succeeded (or failed, for those in `failing`),
    /// one worker at a time: the order the steps came out, and what was skipped.
    static func drain(_ scheduler: inout BuildScheduler, failing: Set<String> = []) -> (decided: [String], skipped: [String]) {
        var decided: [String] = [], skipped: [String] = []
        while let pick = scheduler.pick() {
            switch pick {
            case .decide(let step):
                decided.append(step.primaryOutput)
                scheduler.starts(step)
                let worker = scheduler.takeWorker()
                if failing.contains(step.primaryOutput) { scheduler.failed(step) } else { scheduler.succeeded(step.id) }
                scheduler.free(worker: worker)
            case .skip(let step, _):
                skipped.append(step.primaryOutput)
            }
        }
        return (decided, skipped)
    }

    @Test func everyStepIsHandedOutOnceAfterWhatItNeeds() throws {
        let steps = try ExecutorTests.plan()
        var scheduler = BuildScheduler(steps: steps, jobs: 2, keepGoing: false)
        let (decided, skipped) = Self.drain(&scheduler)
        #expect(skipped.isEmpty && decided.sorted() == steps.map(\.primaryOutput).sorted())
        let position = Dictionary(uniqueKeysWithValues: decided.enumerated().map { ($1, $0) })
        for step in steps {
            for dependency in step.dependencies {
                #expect(position[steps[dependency].primaryOutput]! < position[step.primaryOutput]!)
            }
        }
        #expect(scheduler.completed == Set(steps.map(\.id)))
    }

    @Test func jobsBoundTheWorkersAndAFreedWorkerIsTakenAgain() throws {
        let steps = try ExecutorTests.plan()
        var scheduler = BuildScheduler(steps: steps, jobs: 2, keepGoing: false)
        // vmlinux.h and the helper need nothing: both start, and a third must wait for a worker.
        guard case .decide(let first)? = scheduler.pick() else { Issue.record("nothing ready"); return }
        let firstWorker = scheduler.takeWorker()
        guard case .decide(let second)? = scheduler.pick() else { Issue.record("one step ready"); return }
        let secondWorker = scheduler.takeWorker()
        #expect(Set([first.primaryOutput, second.primaryOutput]) == [".output/vmlinux.h", ".output/util.o"])
        #expect(firstWorker == 0 && secondWorker == 1)
        #expect(!scheduler.hasFreeWorker && scheduler.pick() == nil)
        scheduler.free(worker: firstWorker)
        #expect(scheduler.pick() == nil, "a step was handed out before what it needs finished")
        scheduler.succeeded(first.id)
        #expect(scheduler.pick() != nil && scheduler.takeWorker() == firstWorker)
    }

    @Test func theCriticalAppGoesFirst() throws {
        // b's binary has an alias, so its chain is one step longer: its compile starts before a's.
        var b = simpleApp("b")
        b.aliases = ["bee"]
        var toolchain = fixedToolchain()
        toolchain.ln = Tool(role: .ln, displayName: "ln", path: "/usr/bin/ln", leadingArguments: [], version: "9.1", fingerprint: "1:2:3")
        let steps = try Planner(project: project([simpleApp("a"), b]), toolchain: toolchain, settings: BuildSettings()).plan().steps
        var scheduler = BuildScheduler(steps: steps, jobs: 1, keepGoing: false)
        let (decided, _) = Self.drain(&scheduler)
        let firstCompile = decided.first { $0.hasSuffix(".tmp.bpf.o") }
        #expect(firstCompile?.hasPrefix(".output/b") == true, "\(decided)")
    }

    @Test func aFailureSkipsItsDependentsAndWithoutKeepGoingStartsNoNewApp() throws {
        let steps = try ExecutorTests.plan()
        var stopping = BuildScheduler(steps: steps, jobs: 1, keepGoing: false)
        let (decided, skipped) = Self.drain(&stopping, failing: [".output/util.o"])
        #expect(skipped.contains("a") && !decided.contains("a") && !decided.contains("b"), "\(decided) \(skipped)")

        // a is the critical app (ties go in plan order): its first compile fails before b starts,
        // so without -k none of b's steps starts; with -k all of them do.
        let appOf = Dictionary(uniqueKeysWithValues: steps.map { ($0.primaryOutput, $0.app) })
        var stopped = BuildScheduler(steps: steps, jobs: 1, keepGoing: false)
        let (beforeB, _) = Self.drain(&stopped, failing: [".output/a.tmp.bpf.o"])
        #expect(!beforeB.contains { appOf[$0] == "b" }, "an app not yet started was started after the failure: \(beforeB)")

        var keepGoing = BuildScheduler(steps: steps, jobs: 1, keepGoing: true)
        let (kept, keptSkipped) = Self.drain(&keepGoing, failing: [".output/a.tmp.bpf.o"])
        #expect(kept.contains("b") && keptSkipped.contains("a"), "\(kept)")
    }

    @Test func aStoppedOrFailedOnDemandSchedulerStartsNothingMore() throws {
        let steps = try ExecutorTests.plan()
        var interrupted = BuildScheduler(steps: steps, jobs: 2, keepGoing: true)
        interrupted.stop()
        #expect(interrupted.pick() == nil)

        var onDemand = BuildScheduler(steps: steps, jobs: 2, keepGoing: false)
        onDemand.failedOnDemand()
        #expect(onDemand.pick() == nil)
        var keptGoing = BuildScheduler(steps: steps, jobs: 2, keepGoing: true)
        keptGoing.failedOnDemand()
        #expect(keptGoing.pick() != nil, "with -k a failed precompiled header stops only its own compiles")
    }
}

@Suite struct StepExecutionTests {
    final class Fixture {
        let files = MemoryFileSystem.twoAppProject()
        let steps: [Step]
        let statePath = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-step-\(UUID().uuidString)").path
        let execution: StepExecution
        let runner: FakeRunner

        init(behaviours: [String: FakeRunner.Behaviour] = [:]) throws {
            steps = try ExecutorTests.plan()
            runner = FakeRunner(files: files, behaviours: behaviours)
            execution = StepExecution(state: BuildState.load(path: statePath), files: files, runner: runner, cache: nil, reporter: EventLog())
        }
        deinit { try? FileManager.default.removeItem(atPath: statePath) }

        func step(_ output: String) -> Step { steps.first { $0.primaryOutput == output }! }

        /// Takes `step` through its whole life: decide, run, finish.
        func run(_ step: Step) async -> StepResult? {
            guard let reason = execution.reasonToRun(step) else { return nil }
            var launched = execution.launch(step, worker: 0, reason: reason)
            let request = execution.prepareToRun(&launched)
            return execution.finish(await StepExecution.execute(request, launched, runner: runner))
        }
    }

    @Test func aStepThatRunsIsCommittedAndRecordedAndThenUpToDate() async throws {
        let fixture = try Fixture()
        let vmlinux = fixture.step(".output/vmlinux.h")
        #expect(fixture.execution.reasonToRun(vmlinux) == "no previous build state")
        #expect(await fixture.run(vmlinux) == .succeeded)
        #expect(fixture.files.text(".output/vmlinux.h")?.hasPrefix("/usr/sbin/bpftool btf dump") == true)
        #expect(!fixture.files.paths.contains { $0.hasSuffix(FileSystem.temporarySuffix) })
        #expect(fixture.execution.state.steps[".output/vmlinux.h"]?.inputs.map(\.path) == ["/sys/kernel/btf/vmlinux"])
        #expect(await fixture.run(vmlinux) == nil, "ran again with nothing changed")

        // A compile's depfile makes the header it read an input.
        let compile = fixture.step(".output/util.o")
        #expect(await fixture.run(compile) == .succeeded)
        fixture.files.write("common.h", "/* common.h v2 */")
        #expect(fixture.execution.reasonToRun(compile) == "header common.h changed")
    }

    @Test func aFailedStepLeavesNoOutputAndNoRecord() async throws {
        let fixture = try Fixture(behaviours: [".output/util.o": .fail(status: 2)])
        let compile = fixture.step(".output/util.o")
        #expect(await fixture.run(compile) == .failed(.exited(status: 2)))
        #expect(fixture.files.stat(".output/util.o") == nil && fixture.execution.state.steps[".output/util.o"] == nil)
        #expect(!fixture.files.paths.contains { $0.hasSuffix(FileSystem.temporarySuffix) })
        #expect(fixture.execution.reasonToRun(compile) != nil)
    }

    @Test func withoutACacheNothingIsLookedUpOrStored() async throws {
        let fixture = try Fixture()
        let vmlinux = fixture.step(".output/vmlinux.h")
        let launched = fixture.execution.launch(vmlinux, worker: 0, reason: "test")
        #expect(launched.manifestKey == nil && fixture.execution.cacheQuery(for: launched) == nil)
        #expect(await fixture.run(vmlinux) == .succeeded)
        #expect(fixture.execution.storeRequest(for: launched) == nil)
    }
}

@Suite struct PreStepTests {
    /// The plan describes the removal of stale outputs; the executor does it, and only for real.
    @Test func anOutputNoStepMakesAnyMoreIsRemovedByTheExecutorNotByPlanning() async throws {
        let files = MemoryFileSystem.twoAppProject()
        let statePath = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-prestep-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: statePath) }
        func plan(_ vmlinux: VmlinuxSource) throws -> BuildPlan {
            let project = Project(root: "/project", config: ProjectConfig(), configFile: nil, apps: [simpleApp("a")],
                                  helperSources: [], localVmlinuxHeader: nil, notes: [])
            return try Planner(project: project, toolchain: fixedToolchain(vmlinux: vmlinux), settings: BuildSettings()).plan()
        }
        func build(_ plan: BuildPlan, dryRun: Bool = false) async -> BuildSummary {
            await Executor(steps: plan.steps, state: BuildState.load(path: statePath),
                           options: ExecutionOptions(jobs: 2, keepGoing: false, dryRun: dryRun), reporter: EventLog(),
                           runner: FakeRunner(files: files), files: files, preSteps: plan.preSteps).run()
        }
        #expect(await build(try plan(.btf(path: "/sys/kernel/btf/vmlinux", origin: .runningKernel))).succeeded)
        #expect(files.stat(".output/vmlinux.h") != nil)
        files.write("vmlinux.h", "/* the project's own */")
        let ownHeader = try plan(.header(path: "/project/vmlinux.h", origin: .projectDirectory))
        guard case .removeStaleOutputs(_, let current)? = ownHeader.preSteps.first else { Issue.record("no pre-step"); return }
        #expect(!current.contains(".output/vmlinux.h") && current.contains(".output/a.o"))
        #expect(files.stat(".output/vmlinux.h") != nil, "planning removed a file")

        #expect(await build(ownHeader, dryRun: true).dryRun)
        #expect(files.stat(".output/vmlinux.h") != nil, "a dry run removed a file")
        #expect(await build(ownHeader).succeeded)
        #expect(files.stat(".output/vmlinux.h") == nil, "the generated header is still there")
        #expect(BuildState.load(path: statePath).steps[".output/vmlinux.h"] == nil)
    }
}

@Suite struct AppOutcomesTests {
    /// ExecutorTests' plan scheduled one step at a time without -k, `failing` failing: the plan,
    /// the failed step, the scheduler at the end and what it says of each app.
    static func stopped(failing: String) throws -> (steps: [Step], failed: Step, scheduler: BuildScheduler, outcomes: AppOutcomes) {
        let steps = try ExecutorTests.plan()
        var scheduler = BuildScheduler(steps: steps, jobs: 1, keepGoing: false)
        _ = BuildSchedulerTests.drain(&scheduler, failing: [failing])
        let failed = steps.first { $0.primaryOutput == failing }!
        return (steps, failed, scheduler, AppOutcomes(steps: steps, done: scheduler.completed, failed: [failed], started: scheduler.startedApps))
    }

    @Test func aSharedFailureFailsEveryAppThatNeedsItWithThatStep() throws {
        let (_, util, _, outcomes) = try Self.stopped(failing: ".output/util.o")
        #expect(outcomes.failed.map(\.app) == ["a", "b"] && outcomes.failed.allSatisfy { $0.stepID == util.id && $0.step == "CC .output/util.o" })
        #expect(outcomes.finished.isEmpty && outcomes.leftUnbuilt.isEmpty)
        #expect(outcomes.summaryLine == "0 apps finished; failed: a (CC .output/util.o), b (CC .output/util.o)")
    }

    @Test func withoutKeepGoingTheAppsNeverStartedAreNamedAndUpToDateOnesCountAsFinished() throws {
        let (steps, compile, scheduler, stopped) = try Self.stopped(failing: ".output/a.tmp.bpf.o")
        #expect(stopped.failed.map(\.app) == ["a"] && stopped.notStarted == ["b"] && stopped.finished.isEmpty, "\(stopped)")
        #expect(stopped.summaryLine == "0 apps finished; failed: a (BPF .output/a.tmp.bpf.o); not started: b")

        // b's steps were up to date before the build (none had to run): its binary is there.
        let bSteps = Set(steps.filter { $0.app == "b" }.map(\.id))
        let upToDate = AppOutcomes(steps: steps, done: scheduler.completed.union(bSteps), failed: [compile], started: [])
        #expect(upToDate.finished == ["b"] && upToDate.notStarted.isEmpty)

        // b started (its first step ran) but its link never did: stopped part-way.
        let firstOfB = steps.first { $0.app == "b" }!.id
        let partWay = AppOutcomes(steps: steps, done: scheduler.completed.union([firstOfB]), failed: [compile], started: ["b"])
        #expect(partWay.stoppedPartWay == ["b"] && partWay.leftUnbuilt == ["b"])
    }

    @Test func longListsAreShortenedAndFinishedAppsCounted() throws {
        var outcomes = AppOutcomes()
        outcomes.finished = (1...48).map { "f\($0)" }
        outcomes.notStarted = (1...14).map { "n\($0)" }
        #expect(outcomes.summaryLine == "48 apps finished; not started: " + (1...12).map { "n\($0)" }.joined(separator: ", ") + " and 2 more")
        outcomes.finished = ["x", "y"]
        outcomes.notStarted = ["z"]
        #expect(outcomes.summaryLine == "finished: x, y; not started: z")
    }
}
