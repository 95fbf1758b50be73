import Foundation
import Synchronization
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfToolchain
@testable import SwbpfBuild
@testable import SwbpfKernel
@testable import SwbpfViews
@testable import SwbpfScaffolding
@testable import SwbpfDriver

// The executor against an in-memory file system and a fake process runner, as ninja's
// build_test.cc tests its builder: scheduling, up-to-date decisions, failures and what is
// recorded, in milliseconds and without a compiler.

/// Files as bytes with stat data that a clock advances on every write.
final class MemoryFileSystem: BuildFileSystem {
    struct File { var bytes: [UInt8]; var mtime: Int64; var inode: UInt64 }
    let root = "/project"
    private let files = Mutex<[String: File]>([:])
    private let inodes = Atomic<Int>(1)

    func absolute(_ path: String) -> String { FileSystem.join(root, path) }

    func write(_ path: String, _ text: String) { write(path, Array(text.utf8)) }

    func write(_ path: String, _ bytes: [UInt8]) {
        // Mtimes come from the clock a kernel stamps them with, as the executor compares them with
        // the time a step started; every write is a new inode, as an editor's save-and-rename is.
        let inode = UInt64(inodes.add(1, ordering: .relaxed).newValue)
        let key = absolute(path)
        files.withLock { $0[key] = File(bytes: bytes, mtime: Executor.fileTimeNow(), inode: inode) }
    }

    func text(_ path: String) -> String? { read(path).map { String(decoding: $0, as: UTF8.self) } }

    var paths: Set<String> { files.withLock { Set($0.keys) } }

    func stat(_ path: String) -> FileStat? {
        files.withLock { $0[absolute(path)] }.map { FileStat(size: Int64($0.bytes.count), mtimeNanoseconds: $0.mtime, inode: $0.inode) }
    }
    func digest(_ path: String) -> Digest? { read(path).map(ContentHash.of(bytes:)) }
    func read(_ path: String) -> [UInt8]? { files.withLock { $0[absolute(path)]?.bytes } }
    func write(_ path: String, _ bytes: [UInt8], executable: Bool) throws { write(path, bytes) }
    func rename(_ from: String, to: String) throws {
        try files.withLock { files in
            guard let file = files.removeValue(forKey: absolute(from)) else {
                throw FileError.cannotWrite(path: to, reason: "No such file or directory")
            }
            files[absolute(to)] = file
        }
    }
    func remove(_ path: String) { _ = files.withLock { $0.removeValue(forKey: absolute(path)) } }
    func removeStaleTemporaries(in directory: String) {}
    /// Directories exist where files are below them.
    func entries(_ directory: String) -> [(name: String, isDirectory: Bool)]? {
        let prefix = absolute(directory) + "/"
        var found: [String: Bool] = [:]
        for path in paths where path.hasPrefix(prefix) {
            let rest = path.dropFirst(prefix.count)
            let name = String(rest.prefix { $0 != "/" })
            found[name] = found[name] == true || rest.count > name.count
        }
        return found.isEmpty ? nil : found.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
    func createDirectory(_ path: String) throws {}
    func removeTree(_ path: String) {
        let key = absolute(path)
        files.withLock { files in files = files.filter { $0.key != key && !$0.key.hasPrefix(key + "/") } }
    }
}

/// A stand-in for every tool: each output is the tool's name followed by the contents of every
/// input it names, a compiler's depfile lists its source and `common.h`, and tests can make a
/// step fail, stall or edit a file while it runs.
final class FakeRunner: ProcessRunning {
    enum Behaviour: Sendable {
        case fail(status: Int32)
        case writeNothing
        case cannotLaunch
        case cannotWriteOutput
        case editWhileRunning(path: String, text: String)
    }

    let files: MemoryFileSystem
    private let behaviours: Mutex<[String: Behaviour]>
    private let log = Mutex<[String]>([])
    private let concurrency = Mutex<(now: Int, most: Int)>((0, 0))

    init(files: MemoryFileSystem, behaviours: [String: Behaviour] = [:]) {
        self.files = files
        self.behaviours = Mutex(behaviours)
    }

    /// The outputs each run was for, in the order the runs started.
    var ran: [String] { log.withLock { $0 } }
    var mostAtOnce: Int { concurrency.withLock { $0.most } }

    func setBehaviour(_ behaviour: Behaviour?, for output: String) { behaviours.withLock { $0[output] = behaviour } }

    func run(_ request: ProcessRequest) async throws -> ProcessOutcome {
        let temporaries = request.arguments.filter { $0.hasSuffix(FileSystem.temporarySuffix) }
            + (request.standardOutputFile.map { [$0] } ?? [])
        // The real name of the step's first output: the key tests use.
        let output = Self.realName(of: temporaries.first { !$0.contains(".d.") } ?? "")
        log.withLock { $0.append(output) }
        concurrency.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
        defer { concurrency.withLock { $0.now -= 1 } }
        try await Task.sleep(for: .milliseconds(2))
        switch behaviours.withLock({ $0[output] }) {
        case .fail(let status)?:
            return ProcessOutcome(status: status, signalled: false, standardOutput: [], standardError: Array("broken\n".utf8))
        case .writeNothing?:
            return ProcessOutcome(status: 0, signalled: false, standardOutput: [], standardError: [])
        case .cannotLaunch?:
            throw ProcessFailure.couldNotLaunch(path: request.executable, reason: "Permission denied")
        case .cannotWriteOutput?:
            throw ProcessFailure.couldNotWriteOutput(path: request.standardOutputFile ?? output, reason: "No space left on device")
        case .editWhileRunning(let path, let text)?:
            files.write(path, text)
        case nil:
            break
        }
        let inputs = request.arguments.filter { !$0.hasSuffix(FileSystem.temporarySuffix) && files.stat($0) != nil }
        // The command's words and its inputs' bytes, and for a compile the header it reads: the
        // output changes exactly when one of them does, as a real tool's would.
        var contents = Array((request.executable + " " + request.arguments.filter { !$0.contains(FileSystem.temporarySuffix) }
            .joined(separator: " ")).utf8)
        for input in inputs { contents += files.read(input) ?? [] }
        if request.arguments.contains("-c") { contents += files.read("common.h") ?? [] }
        for temporary in temporaries {
            if temporary.contains(".d.") {
                files.write(temporary, "x.o: \(inputs.joined(separator: " ")) common.h\n")
            } else {
                files.write(temporary.hasPrefix("/") ? FileSystem.display(temporary, relativeTo: files.root) : temporary, contents)
            }
        }
        return ProcessOutcome(status: 0, signalled: false, standardOutput: [], standardError: [])
    }

    /// `.output/.kprobe.o.123.swbpf-tmp` → `.output/kprobe.o`.
    static func realName(of temporary: String) -> String {
        let relative = temporary.hasPrefix("/") ? FileSystem.display(temporary, relativeTo: "/project") : temporary
        let (directory, base) = FileSystem.split(relative)
        let parts = base.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        return FileSystem.join(directory, parts.dropLast(2).joined(separator: "."))
    }
}

/// Keeps every event.
final class EventLog: BuildReporter {
    var events: [BuildEvent] = []
    func handle(_ event: BuildEvent) { events.append(event) }

    var started: [String] { events.compactMap { if case .started(let step, _, _, _) = $0 { return step.primaryOutput } else { return nil } } }
    var reasons: [String: String] {
        var result: [String: String] = [:]
        for case .started(let step, _, let reason, _) in events { result[step.primaryOutput] = reason }
        return result
    }
    var upToDate: [String] { events.compactMap { if case .upToDate(let step) = $0 { return step.primaryOutput } else { return nil } } }
    var failures: [String: StepFailure] {
        var result: [String: StepFailure] = [:]
        for case .finished(let step, _, .failed(let failure), _, _, _) in events { result[step.primaryOutput] = failure }
        return result
    }
    var skipped: [String] { events.compactMap { if case .skipped(let step, _) = $0 { return step.primaryOutput } else { return nil } } }
}

@Suite struct ExecutorTests {
    /// Two apps with a shared helper, planned for a fake project root.
    static func plan() throws -> [Step] {
        let project = Project(root: "/project", config: ProjectConfig(), configFile: nil,
                              apps: [simpleApp("a", helpers: ["util.c"]), simpleApp("b", helpers: ["util.c"])],
                              helperSources: ["util.c"], localVmlinuxHeader: nil, notes: [])
        return try Planner(project: project, toolchain: fixedToolchain(), settings: BuildSettings()).plan().steps
    }

    /// A fresh fake project: its sources, the kernel's BTF, libbpf.a and a header every compile reads.
    static func files() -> MemoryFileSystem {
        let files = MemoryFileSystem()
        for name in ["a.bpf.c", "a.c", "b.bpf.c", "b.c", "util.c", "common.h", "/sys/kernel/btf/vmlinux",
                     "/usr/lib/x86_64-linux-gnu/libbpf.a"] {
            files.write(name, "/* \(name) v1 */")
        }
        return files
    }

    final class Fixture {
        let files = ExecutorTests.files()
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

            let clean = ExecutorTests.files()
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

/// A small seeded generator, so a failing sequence can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
