import Foundation
import Synchronization
import Testing
import SwbpfTestSupport
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfToolchain
@testable import SwbpfBuild
@testable import SwbpfDriver

// The tool-answer cache as a file, and the one build session over the real tools: what a build
// asks its tools and which processes it starts, counted through the session's machine.

@Suite struct ToolAnswersTests {
    @Test func answersSurviveARoundTripWithAwkwardCharacters() throws {
        let path = temporaryFilePath("swbpf-tools")
        defer { unlink(path) }
        let clang = ToolAnswers.Key(subject: "clang clang /opt/my tools/clang\t-x", identity: "1:2:3")
        let facts = ToolAnswers.Key(subject: "facts libbpf-tree a%b/src/libbpf.map", identity: "4:5:6")
        try ToolAnswers.save([(clang, ["14.0.6", "bpf", "/usr/include\nx"]), (facts, ["1.6.0", ""])], to: path)
        let loaded = ToolAnswers.load(path: path)
        #expect(loaded.count == 2)
        #expect(loaded[clang] == ["14.0.6", "bpf", "/usr/include\nx"])
        #expect(loaded[facts] == ["1.6.0", ""])
    }

    @Test func anAnswerHoldsOnlyForTheIdentityItWasGivenForAndIsReplacedByAFreshOne() throws {
        let path = temporaryFilePath("swbpf-tools")
        defer { unlink(path) }
        let old = ToolAnswers.Key(subject: "version cc /usr/bin/cc", identity: "10:20:30")
        let rebuilt = ToolAnswers.Key(subject: "version cc /usr/bin/cc", identity: "11:21:31")
        try ToolAnswers.save([(old, ["12.2.0"])], to: path)
        #expect(ToolAnswers.load(path: path)[rebuilt] == nil)
        try ToolAnswers.save([(rebuilt, ["13.1.0"])], to: path)
        let loaded = ToolAnswers.load(path: path)
        #expect(loaded.count == 1 && loaded[rebuilt] == ["13.1.0"] && loaded[old] == nil)
    }

    /// Two builds that each asked something keep both answers: a save adds to the file as it is.
    @Test func aSaveKeepsWhatAnotherBuildSavedMeanwhile() throws {
        let path = temporaryFilePath("swbpf-tools")
        defer { unlink(path) }
        let mine = ToolAnswers.Key(subject: "version make /usr/bin/make", identity: "1")
        let theirs = ToolAnswers.Key(subject: "version ln /usr/bin/ln", identity: "2")
        let readBefore = ToolAnswers.load(path: path)
        try ToolAnswers.save([(theirs, ["9.1"])], to: path)
        #expect(readBefore.count == 0)
        try ToolAnswers.save([(mine, ["4.3"])], to: path)
        let loaded = ToolAnswers.load(path: path)
        #expect(loaded[mine] == ["4.3"] && loaded[theirs] == ["9.1"])
    }

    /// A file swbpf did not write, or a torn one, is an empty cache: the tools are asked again.
    @Test func aMalformedFileIsAnEmptyCache() throws {
        let path = temporaryFilePath("swbpf-tools")
        defer { unlink(path) }
        for text in ["", "garbage\n", "swbpf-tools 99\nx\ty\n", "\(ToolAnswers.header)\nonly-a-subject\n"] {
            try FileSystem.writeAtomically(path, Array(text.utf8))
            #expect(ToolAnswers.load(path: path).count == 0, "read answers from \(text.debugDescription)")
        }
        try FileSystem.writeAtomically(path, Array("\(ToolAnswers.header)\nversion cc /usr/bin/cc\t1\t12.2.0\nversion ln".utf8))
        #expect(ToolAnswers.load(path: path).count == 1, "the torn last line should be dropped, the rest kept")
    }
}

/// Counts what a build asks its tools and which processes its steps start.
final class CountingMachine: Sendable {
    let questions = Mutex<[String]>([])
    let runs = Mutex<[String]>([])

    struct Runner: ProcessRunning {
        let machine: CountingMachine
        func run(_ request: ProcessRequest) async throws -> ProcessOutcome {
            machine.runs.withLock { $0.append(request.executable) }
            return try await SystemProcessRunner().run(request)
        }
    }

    var machine: BuildMachine {
        var machine = BuildMachine()
        machine.runner = Runner(machine: self)
        machine.askTool = { [self] question in
            questions.withLock { $0.append(question.key.subject) }
            return try await ToolQuestion.askTool(question)
        }
        return machine
    }

    func reset() {
        questions.withLock { $0 = [] }
        runs.withLock { $0 = [] }
    }

    var asked: [String] { questions.withLock { $0 } }
    var ran: [String] { runs.withLock { $0 } }
}

@Suite(.timeLimit(.minutes(20))) struct BuildSessionTests {
    /// Without the shared cache, whose hits would stand in for the tools.
    func request(_ project: TemporaryProject) -> BuildRequest {
        var request = BuildRequest(directory: project.path, jobs: 2, environment: ProcessInfo.processInfo.environment)
        request.noCache = true
        return request
    }

    /// The fast no-op is the session's own path when every answer is cached: `start` ends the
    /// build with no question asked and no process started.
    @Test func aNoOpWithEveryAnswerCachedEndsInStartWithoutAProcess() async throws {
        let project = try TemporaryProject(copying: "examples/minimal")
        let counting = CountingMachine()
        // A finished build holds the project's lock until it is released: only its status is kept.
        #expect(await BuildSession.build(request(project), console: EventLog(), since: Date(), machine: counting.machine).status == 0)
        #expect(counting.asked.contains { $0.hasPrefix("clang clang ") } && counting.asked.contains { $0.hasPrefix("version cc ") },
                "the first build should ask clang and cc: \(counting.asked)")
        #expect(!counting.ran.isEmpty)
        #expect(project.exists(".output/.swbpf/tools"))
        #expect(!(try project.read(".output/.swbpf/state")).contains("\nT\t"), "tool answers leaked into the build state")

        // The shared cache's tool identity (a digest of each executable) is kept with the answers.
        #expect(try project.read(".output/.swbpf/tools").contains("facts executable "))
        let toolsBefore = FileSystem.stat(project.path + "/.output/.swbpf/tools")

        counting.reset()
        let events = EventLog()
        guard case .ended(let status, let build?) = BuildSession.start(request(project), console: events, since: Date(),
                                                                        machine: counting.machine) else {
            Issue.record("a no-op build went on past start")
            return
        }
        #expect(status == 0 && counting.asked.isEmpty && counting.ran.isEmpty)
        // Nothing fresh to save: no executable was hashed again.
        #expect(FileSystem.stat(project.path + "/.output/.swbpf/tools") == toolsBefore)
        #expect(build.questions.isEmpty && events.started.isEmpty && events.upToDate.count == build.executor?.steps.count)
    }

    /// An edit needs processes but no tool answer: the build is planned and decided in `start`
    /// (once), and `finish` runs exactly the steps the edit affects.
    @Test func anEditIsDecidedInStartAndRunByFinishWithoutAskingTheTools() async throws {
        let project = try TemporaryProject(copying: "examples/minimal")
        let counting = CountingMachine()
        #expect(await BuildSession.build(request(project), console: EventLog(), since: Date(), machine: counting.machine).status == 0)
        try project.append("minimal.c", "int edited;\n")
        counting.reset()
        guard case .goesOn(let build) = BuildSession.start(request(project), console: EventLog(), since: Date(),
                                                           machine: counting.machine) else {
            Issue.record("an edited project's build ended in start")
            return
        }
        let decided = try #require(build.executor, "the build was not decided in start")
        #expect(build.questions.isEmpty && counting.ran.isEmpty)
        #expect(await BuildSession.finish(build) == 0)
        #expect(build.executor === decided, "finish decided the build again")
        #expect(counting.asked.isEmpty)
        #expect(counting.ran.count == 2, "expected CC and BINARY to run: \(counting.ran)")
    }

    /// Without the answers file (a project built by an older swbpf: its state still holds the
    /// answers as T lines), the tools are asked again, and nothing is rebuilt: the old state's
    /// records still hold.
    @Test func anOlderStateWithoutTheAnswersFileAsksTheToolsAndRebuildsNothing() async throws {
        let project = try TemporaryProject(copying: "examples/minimal")
        let counting = CountingMachine()
        #expect(await BuildSession.build(request(project), console: EventLog(), since: Date(), machine: counting.machine).status == 0)
        try FileManager.default.removeItem(atPath: project.path + "/.output/.swbpf/tools")
        try project.append(".output/.swbpf/state", "T\tclang /usr/bin/clang  1:2:3\t14.0.6\tbpf\t/usr/include\n")
        counting.reset()
        await {
            guard case .goesOn(let build) = BuildSession.start(request(project), console: EventLog(), since: Date(),
                                                               machine: counting.machine) else {
                Issue.record("a build without cached answers ended in start")
                return
            }
            #expect(!build.questions.isEmpty && build.opened == nil && counting.asked.isEmpty, "the tools were asked in start")
            #expect(await BuildSession.finish(build) == 0)
            #expect(!counting.asked.isEmpty && counting.ran.isEmpty, "ran \(counting.ran)")
            #expect(build.executor?.predicted.isEmpty == true)
        }()
        #expect(!(try project.read(".output/.swbpf/state")).contains("\nT\t"), "the old T line was kept")
        counting.reset()
        guard case .ended(0, _) = BuildSession.start(request(project), console: EventLog(), since: Date(), machine: counting.machine) else {
            Issue.record("the answers asked were not cached")
            return
        }
    }

    /// Whether an app includes an optional header is the preprocessor's answer, cached with the
    /// tools': asked by `finish` when missing (the tools are not asked again), and a no-op with
    /// every answer cached ends in `start`. An edit of the source asks it again.
    @Test func thePreprocessorsAnswersAreCachedAndAskedInTheQuestionsRound() async throws {
        let project = try TemporaryProject("session-optional-header")
        try SourceTreeApps.writeBlazesymApp(project, name: "guarded")
        try project.write("guarded.c", "#include <bpf/libbpf.h>\n#include \"guarded.skel.h\"\n#ifdef USE_BLAZESYM\n#include \"blazesym.h\"\n#endif\nint main(void) { return 0; }\n")
        let counting = CountingMachine()
        #expect(await BuildSession.build(request(project), console: EventLog(), since: Date(), machine: counting.machine).status == 0)
        let includes = counting.asked.filter { $0.hasPrefix("includes ") }
        #expect(includes.count == 1 && includes[0].contains(" guarded.c ") && includes[0].hasSuffix(" -M -MG"), "\(counting.asked)")
        #expect(project.isExecutable("guarded"))
        #expect(try project.read(".output/.swbpf/tools").contains("includes "))

        counting.reset()
        guard case .ended(0, _) = BuildSession.start(request(project), console: EventLog(), since: Date(), machine: counting.machine) else {
            Issue.record("a no-op with the preprocessor's answer cached went on past start")
            return
        }
        #expect(counting.asked.isEmpty && counting.ran.isEmpty)

        try project.append("guarded.c", "int edited;\n")
        counting.reset()
        guard case .goesOn(let build) = BuildSession.start(request(project), console: EventLog(), since: Date(),
                                                           machine: counting.machine) else {
            Issue.record("an edited candidate's build ended in start")
            return
        }
        #expect(build.opened == nil && build.questions.map(\.key.subject) == includes, "\(build.questions.map(\.key))")
        #expect(counting.asked.isEmpty && counting.ran.isEmpty, "start asked or ran something: \(counting.asked) \(counting.ran)")
        #expect(await BuildSession.finish(build) == 0)
        #expect(counting.asked == includes, "finish asked more than the preprocessor: \(counting.asked)")
    }

    /// While another build holds the lock, `start` plans but reads no state and removes nothing;
    /// `finish` waits, then reads the state the other build left, once.
    @Test func aBuildThatMustWaitForTheLockReadsTheStateOnlyOnceItHoldsIt() async throws {
        let project = try TemporaryProject(copying: "examples/minimal")
        let counting = CountingMachine()
        #expect(await BuildSession.build(request(project), console: EventLog(), since: Date(), machine: counting.machine).status == 0)
        var other = BuildLock.tryAcquire(path: project.path + "/.output/.swbpf/lock")
        #expect(other != nil)
        counting.reset()
        guard case .goesOn(let build) = BuildSession.start(request(project), console: EventLog(), since: Date(),
                                                           machine: counting.machine) else {
            Issue.record("a build that must wait for the lock ended in start")
            return
        }
        #expect(build.opened != nil && build.executor == nil && build.lock == nil)
        other = nil
        #expect(await BuildSession.finish(build) == 0)
        #expect(build.executor?.predicted.isEmpty == true && counting.ran.isEmpty && counting.asked.isEmpty)
        withExtendedLifetime(other) {}
    }
}
