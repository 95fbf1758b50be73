import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfToolchain
@testable import SwbpfBuild
@testable import SwbpfKernel
@testable import SwbpfViews
@testable import SwbpfScaffolding
@testable import SwbpfDriver
import SwbpfTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Builds that end early (killed outright, or stopped by SIGINT/SIGTERM) must leave a project that
/// the next build completes to exactly what a clean build makes.
@Suite struct InterruptionTests {
    static let apps = ThreeApps.apps

    /// SIGKILL gives swbpf no chance to clean up: whatever instant it dies at, the build state must
    /// never claim a step whose outputs are not complete, so the next build finishes the job and
    /// every product is byte-identical to a clean build's (made at the same path, so that debug
    /// info paths match). Half of the kills hit a cold build, spread over its whole window
    /// (vmlinux.h generation included: kill i lands at a random moment of the i-th tenth); the
    /// other half hit an incremental build that replaces complete outputs of older sources, where
    /// a record written before its output is in place would leave a stale output looking current.
    @Test func killedBuildsRecoverToTheBytesOfACleanBuild() throws {
        let project = try ThreeApps.make("kill")
        let arguments = ["build", "-C", project.path, "-j", "2"]
        // The build under test always ends at the edited sources: shared.h (a's and b's whole
        // chains) and c.c (c's user side) differ from the base.
        func setSources(edited: Bool) throws {
            try project.write("shared.h", ThreeApps.sharedHeader(tag: edited ? 2 : 1))
            try project.write("c.c", ThreeApps.userSource("c", marker: edited ? "v2" : "v1"))
        }
        func timedBuild() throws -> TimeInterval {
            let started = Date()
            let run = try Child(Swbpf.path, arguments).finish()
            try #require(run.status == .exited(0), "\(run.result.output)")
            return Date().timeIntervalSince(started)
        }
        try setSources(edited: true)
        let coldWindow = try timedBuild()
        let expected = project.products(apps: Self.apps)
        try #require(expected.count == 17, "reference products: \(expected.keys.sorted())")
        try setSources(edited: false)
        _ = try timedBuild()
        try setSources(edited: true)
        let incrementalWindow = try timedBuild()
        try #require(differences(expected, project.products(apps: Self.apps)) == [], "an incremental build differs from a clean one")

        let kills = 20
        var interrupted = 0
        var windows = [false: coldWindow, true: incrementalWindow]
        for index in 0..<kills {
            let incremental = index % 2 == 1
            var moment = ""
            var ended = ExitStatus.exited(0)
            var prepared = true
            // A build that finished before its kill tested nothing (the machine got faster than
            // when the window was measured): shrink the window and try the same stratum again.
            for _ in 0..<4 {
                if incremental {
                    try setSources(edited: false)
                    let base = try project.build(["-j", "2"])
                    if base.status != 0 {
                        Issue.record("the build of the base sources failed\n\(base)")
                        prepared = false
                        break
                    }
                } else {
                    try project.clean(apps: Self.apps)
                }
                try setSources(edited: true)
                let window = windows[incremental]!
                let delay = window * (Double(index / 2) + Double.random(in: 0..<1)) / Double(kills / 2)
                moment = "kill at \(Int(delay * 1000)) ms of a \(Int(window * 1000)) ms \(incremental ? "incremental" : "cold") build"
                let child = try Child(Swbpf.path, arguments, capture: false)
                usleep(useconds_t(delay * 1_000_000))
                child.send(SIGKILL)
                ended = child.wait()
                if ended != .exited(0) { break }
                windows[incremental] = window * 0.8
            }
            if !prepared { continue }
            if ended == .signalled(SIGKILL) { interrupted += 1 }
            // The tools swbpf had started die with it (PR_SET_PDEATHSIG), leaving their partial
            // files; wait until they are gone so that each recovery starts from the same kind of state.
            let stragglers = project.waitUntilNoProcessWorksHere()
            if !stragglers.isEmpty {
                Issue.record("\(moment): processes \(stragglers) still run in the project a minute later")
                continue
            }
            let recovery = try project.build(["-j", "2"])
            if recovery.status != 0 {
                Issue.record("\(moment) (swbpf: \(ended)): the next build failed\n\(recovery)")
                continue
            }
            let problems = differences(expected, project.products(apps: Self.apps))
            if !problems.isEmpty {
                Issue.record("\(moment) (swbpf: \(ended)): \(problems.joined(separator: "; "))\nrecovery build:\n\(recovery)")
            }
            let leftovers = project.leftoverTemporaries()
            if !leftovers.isEmpty {
                Issue.record("\(moment) (swbpf: \(ended)): temporaries left after the recovery build: \(leftovers)")
            }
            let again = try project.build(["--explain"])
            if !again.isNoOp {
                Issue.record("\(moment) (swbpf: \(ended)): the build after the recovery was not a no-op\n\(again)")
            }
        }
        // Kills that came after the build had finished test nothing; most must have landed in it.
        #expect(interrupted >= kills * 3 / 4, "only \(interrupted) of \(kills) kills interrupted a running build")
    }

    struct SignalCase: Sendable, CustomTestStringConvertible {
        var signal: Int32
        /// The label of the step line to wait for; nil for the first step line.
        var trigger: String?
        var testDescription: String {
            "\([SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP"][signal]!) at the first \(trigger.map { "\($0) " } ?? "")step line"
        }
    }

    static let signalCases = [SignalCase(signal: SIGINT, trigger: nil), SignalCase(signal: SIGTERM, trigger: nil),
                              SignalCase(signal: SIGINT, trigger: "BPF"), SignalCase(signal: SIGTERM, trigger: "CC"),
                              SignalCase(signal: SIGHUP, trigger: "BPF")]

    /// SIGINT, SIGTERM and SIGHUP stop the children, remove partial outputs and exit 130 / 143 / 129; the next
    /// build completes the project to a clean build's bytes.
    @Test(arguments: signalCases)
    func signalStopsTheBuildCleanly(_ signalCase: SignalCase) throws {
        let project = try ThreeApps.make("signal")
        let cold = try project.build(["-j", "2"])
        try #require(cold.status == 0, "reference build: \(cold)")
        let expected = project.products(apps: Self.apps)
        try project.clean(apps: Self.apps)

        // -j 1: one step at a time, so the signal lands while the awaited step runs.
        let child = try Child(Swbpf.path, ["build", "-C", project.path, "-j", "1"])
        let line = child.waitForLine(timeout: 120) { line in
            guard let step = stepLines(line + "\n").first else { return false }
            return signalCase.trigger == nil || step.label == signalCase.trigger
        }
        if line == nil { child.send(SIGKILL) }
        try #require(line != nil, "no step line appeared: \(child.finish().result.output)")
        child.send(signalCase.signal)
        let (status, result) = child.finish()
        #expect(status == .exited(128 + signalCase.signal), "\(status)\n\(result.output)")
        #expect(stepLines(result.stdout).count < 16, "the build ran to the end: \(result.output)")
        let stragglers = project.waitUntilNoProcessWorksHere(timeout: 2)
        #expect(stragglers.isEmpty, "children left running after swbpf exited: \(stragglers)")
        #expect(project.leftoverTemporaries() == [], "\(result.output)")

        let following = try project.build(["-j", "2"])
        #expect(following.status == 0, "\(following)")
        #expect(differences(expected, project.products(apps: Self.apps)) == [])
        let again = try project.build()
        #expect(again.isNoOp, "\(again)")
    }
}

/// Two builds of one project never write at once: the second waits for the first.
@Suite struct ConcurrentBuildTests {
    static let apps = ThreeApps.apps

    @Test func twoBuildsStartedTogetherTakeTurns() throws {
        let project = try ThreeApps.make("concurrent")
        let arguments = ["build", "-C", project.path, "-j", "2"]
        let children = [try Child(Swbpf.path, arguments), try Child(Swbpf.path, arguments)]
        let results = children.map { $0.finish() }
        for (status, result) in results { #expect(status == .exited(0), "\(result.output)") }

        let ran = results.map { stepLines($0.result.stdout) }
        let builders = ran.indices.filter { !ran[$0].isEmpty }
        try #require(builders.count == 1, "both builds ran steps: \(results.map(\.result.output))")
        let builder = builders[0], other = 1 - builder
        #expect(ran[builder].count == 17 && Set(ran[builder]) == StepID.everything(Self.apps))
        let idle = results[other].result
        // The other one either waited for the lock (and then found nothing to do) or came after.
        #expect(idle.stdout.contains("swbpf: nothing to do"), "\(idle.output)")
        if idle.stderr.contains("swbpf: waiting for another build of this project to finish") {
            let holder = "(pid \(children[builder].pid))"
            #expect(idle.stderr.contains(holder) || idle.stderr.contains("(pid unknown)"),
                    "the waiting line does not name \(holder): \(idle.stderr)")
        }
        for app in Self.apps { #expect(runApp(project, app).hasPrefix("\(app)-user-v1")) }
        let third = try project.build()
        #expect(third.isNoOp, "\(third)")
    }

    /// With the lock held by another process (this test, through flock(2)), --lock-timeout 1 gives
    /// up after a second with an error that names the holder, and builds nothing.
    @Test func lockTimeoutNamesTheHolder() throws {
        let project = try ThreeApps.make("locked")
        let directory = project.path + "/.output/.swbpf"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let lockPath = directory + "/lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        try #require(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let mine = Array("pid \(getpid())\n".utf8)
        _ = mine.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }

        let started = Date()
        let blocked = try project.build(["--lock-timeout", "1"])
        let elapsed = Date().timeIntervalSince(started)
        close(fd)
        #expect(blocked.status == 1, "\(blocked)")
        #expect(blocked.result.stderr.contains("swbpf: waiting for another build of this project to finish (pid \(getpid()))..."),
                "\(blocked)")
        #expect(blocked.result.stderr.contains("error: another swbpf build (pid \(getpid())) has held '\(lockPath)' for 1 s"),
                "\(blocked)")
        #expect(elapsed >= 1 && elapsed < 30, "gave up after \(elapsed) s")
        #expect(blocked.steps.isEmpty && !project.exists(".output/vmlinux.h"), "\(blocked)")

        let free = try project.build()
        #expect(free.status == 0 && Set(free.steps) == StepID.everything(Self.apps), "\(free)")
    }
}
