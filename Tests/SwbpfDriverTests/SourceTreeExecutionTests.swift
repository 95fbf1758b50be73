import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfBuild
@testable import SwbpfViews
import SwbpfTestSupport

// The libbpf and bpftool steps against the in-memory file system of ExecutorTests: tree inputs,
// staged products, and the order ready steps start in. No make and no compiler run.

/// A make that does what libbpf's `install` and bpftool's `bootstrap` do to the file system:
/// libbpf.a (its bytes follow the tree's .c files, so a source edit changes it), the headers
/// (copies of the tree's), a pkg-config file nobody declared, and bpftool's program and objects.
/// Everything else goes to the fake tools of ExecutorTests.
final class FakeMake: ProcessRunning {
    let files: MemoryFileSystem
    let tools: FakeRunner
    let headers: [String]
    /// Runs before the make writes anything (to edit the tree mid-step).
    let during: (@Sendable () -> Void)?
    let failing: Bool

    init(files: MemoryFileSystem, headers: [String], failing: Bool = false, during: (@Sendable () -> Void)? = nil) {
        self.files = files
        self.tools = FakeRunner(files: files)
        self.headers = headers
        self.failing = failing
        self.during = during
    }

    func run(_ request: ProcessRequest) async throws -> ProcessOutcome {
        guard request.executable.hasSuffix("/make") else { return try await tools.run(request) }
        during?()
        let stage = request.arguments.first { $0.hasPrefix("DESTDIR=") || $0.hasPrefix("OUTPUT=") }
            .map { String($0.drop { $0 != "=" }.dropFirst()) } ?? ""
        #expect(stage.contains(".stage."), "make is not pointed at a staging directory: \(request.arguments)")
        let relativeStage = FileSystem.display(stage, relativeTo: files.root)
        let tree = request.arguments[request.arguments.firstIndex(of: "-C")! + 1]
        if failing {
            files.write(FileSystem.join(relativeStage, "libbpf.a"), "half")
            return ProcessOutcome(status: 2, signalled: false, standardOutput: [], standardError: Array("make: *** [Makefile] Error 1\n".utf8))
        }
        if request.arguments.contains("install") {
            var archive: [UInt8] = Array("!<arch>\n".utf8)
            for name in (files.entries(tree) ?? []).map(\.name).sorted() where name.hasSuffix(".c") {
                archive += files.read(FileSystem.join(tree, name)) ?? []
            }
            files.write(FileSystem.join(relativeStage, "libbpf.a"), archive)
            for header in headers {
                files.write(FileSystem.join(relativeStage, "bpf/" + header), files.read(FileSystem.join(tree, header)) ?? [])
            }
            files.write(FileSystem.join(relativeStage, "pkgconfig/libbpf.pc"), "Name: libbpf")
        } else {
            files.write(FileSystem.join(relativeStage, "bootstrap/main.o"), "object")
            // A program built from its tree's sources: new sources, new bytes.
            let sources = [FileSystem.join(tree, "main.c"), FileSystem.normalize(FileSystem.join(tree, "../libbpf/src/libbpf.c"))]
            files.write(FileSystem.join(relativeStage, "bootstrap/bpftool"), Array("bpftool from \(tree)\n".utf8) + sources.flatMap { files.read($0) ?? [] })
        }
        return ProcessOutcome(status: 0, signalled: false, standardOutput: [], standardError: Array("  CC  progress\n".utf8))
    }
}

@Suite struct SourceTreeExecutionTests {
    static let headers = ["bpf_helpers.h", "libbpf.h"]

    /// Two apps, with libbpf and bpftool from trees at libbpf-bootstrap's places.
    static func plan(root: String = "/project") throws -> [Step] {
        var toolchain = fixedToolchain(vmlinux: .header(path: "/vmlinux.h/include/x86/vmlinux.h", origin: .vendored(directory: "../../vmlinux.h/include/x86")))
        toolchain.libbpf = Libbpf(archive: "/project/.output/libbpf.a", includeDirectory: "/project/.output",
                                  origin: .sourceTree(display: "../../libbpf", chosenBy: .convention), version: "1.6.0",
                                  uapiIncludeDirectory: "../../libbpf/include/uapi",
                                  sourceBuild: LibbpfSourceBuild(tree: "/libbpf", display: "../../libbpf", headers: headers))
        toolchain.make = Tool(role: .make, displayName: "make", path: "/usr/bin/make", leadingArguments: [], version: "4.3", fingerprint: "1:2:3")
        toolchain.bpftoolSource = BpftoolSourceBuild(tree: "/bpftool", display: "../../bpftool", chosenBy: .convention)
        toolchain.bpftool = Tool(role: .bpftool, displayName: ".output/bpftool/bootstrap/bpftool", path: ".output/bpftool/bootstrap/bpftool",
                                 leadingArguments: [], version: "built from ../../bpftool", fingerprint: "", madeByBuild: true)
        let project = Project(root: root, config: ProjectConfig(), configFile: nil, apps: [simpleApp("a"), simpleApp("b")],
                              helperSources: [], localVmlinuxHeader: nil, notes: [])
        return try Planner(project: project, toolchain: toolchain, settings: BuildSettings()).plan().steps
    }

    final class Fixture {
        let files = MemoryFileSystem.twoAppProject()
        var steps: [Step]
        let statePath = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-trees-\(UUID().uuidString)").path

        init() throws {
            steps = try SourceTreeExecutionTests.plan()
            for name in ["../../libbpf/src/libbpf.c", "../../libbpf/src/btf.c", "../../libbpf/src/libbpf.map", "../../libbpf/src/Makefile",
                         "../../libbpf/include/uapi/linux/bpf.h", "../../bpftool/src/main.c", "../../bpftool/src/Makefile",
                         "../../bpftool/libbpf/src/libbpf.c", "/usr/bin/cc"] {
                files.write(name, "/* \(name) v1 */")
            }
            for header in SourceTreeExecutionTests.headers { files.write("../../libbpf/src/" + header, "/* \(header) */") }
        }
        deinit { try? FileManager.default.removeItem(atPath: statePath) }

        @discardableResult
        func build(runner: ProcessRunning? = nil, jobs: Int = 2) async -> (BuildSummary, EventLog) {
            let log = EventLog()
            let executor = Executor(steps: steps, state: BuildState.load(path: statePath),
                                    options: ExecutionOptions(jobs: jobs, keepGoing: false), reporter: log,
                                    runner: runner ?? FakeMake(files: files, headers: SourceTreeExecutionTests.headers), files: files)
            return (await executor.run(), log)
        }
    }

    @Test func theTreesAreBuiltFirstAndEveryStepThatUsesThemWaitsForThem() throws {
        let steps = try Self.plan()
        #expect(steps.prefix(2).map(\.kind) == [.libbpf, .bpftool])
        #expect(steps[0].shellCommand == "make -C ../../libbpf/src BUILD_STATIC_ONLY=1 OBJDIR=/project/.output/libbpf DESTDIR=/project/.output INCLUDEDIR= LIBDIR= UAPIDIR= 'EXTRA_CFLAGS=-ffile-prefix-map=/libbpf=libbpf -ffile-prefix-map=/project=.' install")
        #expect(steps[1].shellCommand == "make ARCH= CROSS_COMPILE= OUTPUT=/project/.output/bpftool/ -C ../../bpftool/src 'EXTRA_CFLAGS=-ffile-prefix-map=/bpftool=bpftool -ffile-prefix-map=/project=.' bootstrap")
        #expect(steps.prefix(2).allSatisfy { $0.treeInputs.allSatisfy(\.pathMapped) })
        #expect(steps[0].products == [".output/libbpf.a", ".output/bpf/bpf_helpers.h", ".output/bpf/libbpf.h"])
        #expect(steps[1].products == [".output/bpftool/bootstrap/bpftool"])
        for step in steps.dropFirst(2) {
            switch step.kind {
            case .bpfCompile, .compile: #expect(step.dependencies.contains(0), "\(step.primaryOutput) does not wait for libbpf's headers")
            case .bpfLink, .skeleton: #expect(step.dependencies.contains(1), "\(step.primaryOutput) does not wait for the bpftool it runs")
            case .link: #expect(step.dependencies.contains(0) && step.inputs.contains(".output/libbpf.a"))
            default: Issue.record("unexpected step \(step.primaryOutput)")
            }
        }
        let bpf = steps.first { $0.kind == .bpfCompile }!
        #expect(bpf.displayCommand.contains("-I../../libbpf/include/uapi") && bpf.displayCommand.contains("-I../../vmlinux.h/include/x86"))
        let user = steps.first { $0.kind == .compile }!
        #expect(user.displayCommand.contains("-I../../libbpf/include/uapi") && !user.displayCommand.contains("-I../../vmlinux.h/include/x86"),
                "vmlinux.h's directory is for kernel parts only: \(user.shellCommand)")
    }

    @Test func makeRunsWithoutTheVariablesItsMakefilesReadFromTheEnvironment() throws {
        let steps = try Self.plan()
        let executor = Executor(steps: steps, state: BuildState(path: "/nonexistent/state"), options: ExecutionOptions(jobs: 1, keepGoing: false),
                                reporter: EventLog(), runner: FakeRunner(files: MemoryFileSystem()), files: MemoryFileSystem())
        for step in steps.prefix(2) {
            #expect(["CFLAGS", "LDFLAGS", "EXTRA_CFLAGS", "CROSS_COMPILE", "MAKEFLAGS", "CC"].allSatisfy(step.unsetEnvironment.contains))
            let environment = executor.processRequest(for: step).environment
            #expect(environment != nil && environment?["PATH"] == ProcessInfo.processInfo.environment["PATH"])
            #expect(Set((environment ?? [:]).keys).isDisjoint(with: step.unsetEnvironment))
        }
        // Other tools inherit swbpf's environment whole.
        #expect(executor.processRequest(for: steps[2]).environment == nil)

        // CC is the one knob the libbpf build follows, on its command line.
        var settings = BuildSettings(environment: ["CC": "ccache  cc"])
        settings.cflags = ["-O1"]
        let project = Project(root: "/project", config: ProjectConfig(), configFile: nil, apps: [simpleApp("a")],
                              helperSources: [], localVmlinuxHeader: nil, notes: [])
        var toolchain = fixedToolchain()
        toolchain.libbpf = Libbpf(archive: "/project/.output/libbpf.a", includeDirectory: "/project/.output",
                                  origin: .sourceTree(display: "../../libbpf", chosenBy: .convention), version: "1.6.0",
                                  uapiIncludeDirectory: "../../libbpf/include/uapi",
                                  sourceBuild: LibbpfSourceBuild(tree: "/libbpf", display: "../../libbpf", headers: Self.headers))
        toolchain.make = Tool(role: .make, displayName: "make", path: "/usr/bin/make", leadingArguments: [], version: "4.3", fingerprint: "1:2:3")
        let libbpf = try Planner(project: project, toolchain: toolchain, settings: settings).plan().steps[0]
        #expect(libbpf.shellCommand.hasSuffix(" UAPIDIR= 'CC=ccache cc' 'EXTRA_CFLAGS=-ffile-prefix-map=/libbpf=libbpf -ffile-prefix-map=/project=.' install")
                && !libbpf.shellCommand.contains("-O1"), "\(libbpf.shellCommand)")
    }

    /// A project path make's shell would split into words is not mapped: the trees are built as
    /// before, and keyed by their paths.
    @Test func aPathMakesShellWouldSplitIsNotMapped() throws {
        for step in try Self.plan(root: "/my project").prefix(2) {
            #expect(!step.shellCommand.contains("EXTRA_CFLAGS") && !step.treeInputs.contains(where: \.pathMapped), "\(step.shellCommand)")
        }
    }

    @Test func aScratchDirectoryLeftByAnUnfinishedRunIsEmptiedFirst() throws {
        let project = try TemporaryProject("scratch")
        let files = ProjectFileSystem(root: project.path)
        try project.write(".output/libbpf/staticobjs/btf.o", "half an object a killed make left")
        Executor.prepareScratch(".output/libbpf", files: files)
        #expect(project.exists(".output/libbpf/staticobjs/btf.o"), "a finished run's objects are make's to reuse")
        #expect(FileSystem.isDirectory(project.path(".output/libbpf/" + Executor.unfinishedMarker)))
        // The run was killed: the marker is still there, so nothing in the directory is trusted.
        Executor.prepareScratch(".output/libbpf", files: files)
        #expect(!project.exists(".output/libbpf/staticobjs/btf.o"))
        #expect(FileSystem.isDirectory(project.path(".output/libbpf/" + Executor.unfinishedMarker)))
    }

    @Test func theStageOfAKilledBuildIsSweptAndNoOtherDirectory() throws {
        let project = try TemporaryProject("stale-stage")
        // A pid that is not running: pid_max is at most 2^22.
        try project.write(".output/.stage.4194305.swbpf-tmp/bpf/libbpf.h", "half installed")
        try project.write(".output/.libbpf.a.4194305.swbpf-tmp/x", "a directory at a file's temporary name")
        let removed = FileSystem.removeStaleTemporaries(in: project.path(".output"))
        #expect(removed == [project.path(".output/.stage.4194305.swbpf-tmp")])
        #expect(project.exists(".output/.libbpf.a.4194305.swbpf-tmp/x"))
    }

    @Test func stagedProductsAreMovedIntoPlaceAndTheStageIsRemoved() async throws {
        let fixture = try Fixture()
        let (summary, log) = await fixture.build()
        #expect(summary.succeeded, "\(log.failures)")
        #expect(fixture.files.read(".output/bpf/libbpf.h") == Array("/* libbpf.h */".utf8))
        #expect(fixture.files.text(".output/bpftool/bootstrap/bpftool")?.hasPrefix("bpftool from ../../bpftool/src\n") == true)
        #expect(fixture.files.text(".output/libbpf.a")?.hasPrefix("!<arch>") == true)
        let leftovers = fixture.files.paths.filter { $0.contains(".stage.") || $0.contains("pkgconfig") || $0.contains("main.o") }
        #expect(leftovers.isEmpty, "the stage was not removed: \(leftovers)")
        // gen object ran the built bpftool (an input of the step), not a bpftool from PATH.
        #expect(fixture.files.text(".output/a.bpf.o")?.hasPrefix("/project/.output/bpftool/bootstrap/bpftool gen object") == true)
        let (_, again) = await fixture.build()
        #expect(again.started.isEmpty, "a second build ran \(again.started)")
    }

    @Test func aTreeEditRebuildsItsStepAndWhatChangedATouchOrAnExcludedFileDoesNot() async throws {
        let fixture = try Fixture()
        await fixture.build()

        fixture.files.write("../../libbpf/src/btf.c", fixture.files.read("../../libbpf/src/btf.c") ?? [])
        fixture.files.write("../../libbpf/src/staticobjs/btf.o", "an in-tree build's object")
        fixture.files.write("../../libbpf/.git/index", "git's own files")
        let (_, touched) = await fixture.build()
        #expect(touched.started.isEmpty, "same bytes, new stat data, an excluded object and .git ran \(touched.started)")

        fixture.files.write("../../libbpf/src/btf.c", "/* btf.c v2 */")
        let (_, edited) = await fixture.build()
        // The archive changed, so the links rerun; the installed headers did not, so no compile does.
        #expect(edited.started == [".output/libbpf.a", "a", "b"], "\(edited.started)")
        #expect(edited.reasons[".output/libbpf.a"] == "source tree ../../libbpf changed")

        fixture.files.write("../../libbpf/src/new.h", "/* a new file */")
        let (_, added) = await fixture.build()
        #expect(added.started == [".output/libbpf.a"], "a new file in the tree must rerun the build of the tree: \(added.started)")

        fixture.files.write("../../bpftool/libbpf/src/libbpf.c", "/* bpftool's libbpf v2 */")
        let (_, bumped) = await fixture.build()
        #expect(bumped.started.first == ".output/bpftool/bootstrap/bpftool" && !bumped.started.contains(".output/libbpf.a"),
                "\(bumped.started)")
        #expect(bumped.started.contains(".output/a.bpf.o"), "a rebuilt bpftool reruns the steps that run it: \(bumped.started)")
    }

    @Test func aTreeEditedWhileItsStepRunsIsNotTrusted() async throws {
        let fixture = try Fixture()
        let files = fixture.files
        let editing = FakeMake(files: files, headers: Self.headers) {
            files.write("../../libbpf/src/libbpf.c", "/* edited while make ran */")
        }
        await fixture.build(runner: editing)
        let (_, next) = await fixture.build()
        #expect(next.reasons[".output/libbpf.a"] == "source tree ../../libbpf changed while the step ran")
        let (_, settled) = await fixture.build()
        #expect(settled.started.isEmpty)
    }

    @Test func aFailedMakeLeavesNoProductAndNoStage() async throws {
        let fixture = try Fixture()
        let (summary, log) = await fixture.build(runner: FakeMake(files: fixture.files, headers: Self.headers, failing: true))
        #expect(!summary.succeeded && log.failures[".output/libbpf.a"] == .exited(status: 2))
        let left = fixture.files.paths.filter { $0.contains("/.output/") }
        #expect(left.isEmpty || left.allSatisfy { !$0.contains("libbpf") && !$0.contains(".stage.") }, "\(left)")
        #expect(summary.skipped == fixture.steps.count - summary.failed.count - summary.ran, "every step not run is counted")
    }
}

@Suite struct SchedulingTests {
    /// `names` as apps of one project (system libbpf, vmlinux.h from the kernel).
    static func steps(_ names: [String]) throws -> [Step] {
        let project = Project(root: "/project", config: ProjectConfig(), configFile: nil, apps: names.map { simpleApp($0) },
                              helperSources: [], localVmlinuxHeader: nil, notes: [])
        return try Planner(project: project, toolchain: fixedToolchain(), settings: BuildSettings()).plan().steps
    }

    static func files(_ names: [String]) -> MemoryFileSystem {
        let files = MemoryFileSystem()
        for name in names.flatMap({ ["\($0).bpf.c", "\($0).c"] }) + ["common.h", "/sys/kernel/btf/vmlinux", "/usr/lib/x86_64-linux-gnu/libbpf.a"] {
            files.write(name, "/* \(name) */")
        }
        return files
    }

    static func build(_ names: [String], failing: String? = nil, jobs: Int, keepGoing: Bool = false)
        async throws -> (summary: BuildSummary, log: EventLog, files: MemoryFileSystem) {
        let files = Self.files(names)
        let runner = FakeRunner(files: files, behaviours: failing.map { [$0: .fail(status: 1)] } ?? [:])
        let statePath = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-order-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: statePath) }
        let log = EventLog()
        let executor = Executor(steps: try steps(names), state: BuildState.load(path: statePath),
                                options: ExecutionOptions(jobs: jobs, keepGoing: keepGoing), reporter: log, runner: runner, files: files)
        return (await executor.run(), log, files)
    }

    @Test func oneWorkerFinishesEachAppBeforeStartingTheNext() async throws {
        let (summary, log, _) = try await Self.build(["a", "b", "c"], jobs: 1)
        #expect(summary.succeeded)
        #expect(log.started == [".output/vmlinux.h",
                                ".output/a.tmp.bpf.o", ".output/a.bpf.o", ".output/a.skel.h", ".output/a.o", "a",
                                ".output/b.tmp.bpf.o", ".output/b.bpf.o", ".output/b.skel.h", ".output/b.o", "b",
                                ".output/c.tmp.bpf.o", ".output/c.bpf.o", ".output/c.skel.h", ".output/c.o", "c"])
    }

    @Test func twoWorkersPipelineTheAppsAndLinkEachAsSoonAsItCan() async throws {
        let (_, log, _) = try await Self.build(["a", "b", "c", "d"], jobs: 2)
        let order = Dictionary(uniqueKeysWithValues: log.started.enumerated().map { ($1, $0) })
        // a's binary is linked before the last app's kernel part is even compiled, which running
        // steps in the order they became ready (every link last) would never do.
        #expect(order["a"]! < order[".output/d.tmp.bpf.o"]!, "\(log.started)")
        #expect(order["b"]! < order[".output/d.o"]!, "\(log.started)")
    }

    @Test func theLongestChainStartsFirst() throws {
        // libbpf's build (libbpf → BPF → GEN-OBJ → GEN-SKEL → CC → BINARY) is a longer chain than
        // bpftool's (which kernel parts do not wait for): both are ready first, libbpf starts.
        let trees = try SourceTreeExecutionTests.plan()
        let ready = trees.filter { $0.dependencies.isEmpty }.map(\.id)
        #expect(Set(ready.map { trees[$0].kind }) == [.libbpf, .bpftool])
        #expect(trees[ready[SchedulingOrder(steps: trees).next(in: ready)]].kind == .libbpf)

        // An alias makes b's chain one step longer than a's: b is the critical app and goes first.
        var withAlias = simpleApp("b")
        withAlias.aliases = ["bee"]
        var toolchain = fixedToolchain()
        toolchain.ln = Tool(role: .ln, displayName: "ln", path: "/usr/bin/ln", leadingArguments: [], version: "9.1", fingerprint: "1:2:3")
        let project = Project(root: "/project", config: ProjectConfig(), configFile: nil, apps: [simpleApp("a"), withAlias],
                              helperSources: [], localVmlinuxHeader: nil, notes: [])
        let steps = try Planner(project: project, toolchain: toolchain, settings: BuildSettings()).plan().steps
        let order = SchedulingOrder(steps: steps)
        let compiles = steps.filter { $0.kind == .bpfCompile }.map(\.id)
        #expect(steps[compiles[order.next(in: compiles)]].app == "b")
    }

    @Test func aFailureInOneAppLeavesTheStartedAppsBuiltAndSaysWhatMinusKWouldBuild() async throws {
        let names = ["a", "b", "c", "d", "e"]
        let (stopped, _, files) = try await Self.build(names, failing: ".output/c.o", jobs: 2)
        #expect(!stopped.succeeded)
        #expect(files.stat("a") != nil && files.stat("b") != nil, "apps ahead of the failure must have their binaries")
        #expect(files.stat("c") == nil)
        // Every step not run is counted, the ones never reached included.
        #expect(stopped.ran + stopped.upToDate + stopped.failed.count + stopped.skipped == (try Self.steps(names)).count)
        let unbuilt = Set(names).subtracting(["c"]).filter { files.stat($0) == nil }
        #expect(Set(stopped.appsLeftUnbuilt) == unbuilt, "\(stopped.appsLeftUnbuilt) vs \(unbuilt)")
        // The summary names each app as the files are: finished ones have binaries, the rest none.
        let apps = try #require(stopped.apps)
        #expect(apps.finished == names.filter { files.stat($0) != nil } && apps.failed.map(\.app) == ["c"], "\(apps)")
        #expect(Set(apps.finished + apps.failed.map(\.app) + apps.leftUnbuilt) == Set(names) && apps.failed.first?.step == "CC .output/c.o")
        let console = CapturingConsole()
        console.reporter.handle(.buildFinished(summary: stopped))
        let lines = console.text.split(separator: "\n").map(String.init)
        let line = lines.last ?? ""
        #expect(lines.dropLast().last == "swbpf: \(apps.summaryLine)", "\(lines)")
        #expect(line.hasPrefix("swbpf: 1 step failed: CC .output/c.o; \(stopped.skipped) steps not run because of it"), "\(line)")
        if !unbuilt.isEmpty {
            #expect(line.hasSuffix("; -k builds the \(unbuilt.count == 1 ? "app" : "\(unbuilt.count) apps") that do\(unbuilt.count == 1 ? "es" : "") not depend on it"), "\(line)")
        }

        let (kept, _, keptFiles) = try await Self.build(names, failing: ".output/c.o", jobs: 2, keepGoing: true)
        #expect(names.filter { keptFiles.stat($0) != nil } == ["a", "b", "d", "e"])
        #expect(kept.skipped == 1 && kept.appsLeftUnbuilt.isEmpty)
    }

    @Test func theLastRankedAppFailingLeavesEveryOtherAppBuilt() async throws {
        let (summary, _, files) = try await Self.build(["a", "b", "c", "z"], failing: ".output/z.tmp.bpf.o", jobs: 2)
        #expect(!summary.succeeded)
        #expect(["a", "b", "c"].allSatisfy { files.stat($0) != nil }, "the apps that do not depend on z's failure have no binary")
        #expect(summary.appsLeftUnbuilt.isEmpty)
    }
}

/// A console reporter writing into memory.
final class CapturingConsole {
    private let pipe = Pipe()
    lazy var reporter = ConsoleReporter(options: .init(decorated: false), out: TextOutput(fd: pipe.fileHandleForWriting.fileDescriptor),
                                        diagnostics: TextOutput(fd: pipe.fileHandleForWriting.fileDescriptor))
    var text: String {
        try? pipe.fileHandleForWriting.close()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}
