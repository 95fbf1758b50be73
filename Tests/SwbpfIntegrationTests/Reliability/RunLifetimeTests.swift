import Foundation
import Testing
import SwbpfTestSupport
@testable import SwbpfBasics
#if canImport(Glibc)
import Glibc
#endif

/// `swbpf run` killed with SIGKILL, which it cannot catch: its app must not run on with its
/// programs attached, and the tracefs instance it could not remove is removed by the next run.
@Suite(.enabled(if: Kernel.isRoot, "needs root (CAP_BPF) to load BPF programs"))
struct RunLifetimeTests {
    /// Whether `pid` is a process that has not exited (a zombie has).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    @Test func aKilledSwbpfRunTakesItsAppWithItAndTheNextRunRemovesItsInstance() async throws {
        let name = "orphan"
        let scratch = try await KernelCommandTests.project("run-sigkill", apps: [(name, "minimal")])
        let run = try TemplateChild(Swbpf.path, ["run", name], in: scratch.path)
        guard let started = await run.waitForLine("\(name): watching write\\(2\\) calls of pid (\\d+); .*", timeout: 120),
              let appPid = pid_t(started[1]) else {
            Issue.record("swbpf run did not start the app: \(await run.finish(timeout: 5))")
            return
        }
        let instance = Kernel.tracefs() + "/instances/swbpf-run-\(run.pid)"
        #expect(FileManager.default.fileExists(atPath: instance))
        kill(run.pid, SIGKILL)
        _ = await run.finish(timeout: 30)
        // The app gets SIGTERM from the kernel when swbpf dies, and stops as on Ctrl-C.
        let deadline = Date().addingTimeInterval(60)
        while Self.isRunning(appPid), Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let survived = Self.isRunning(appPid)
        if survived { kill(appPid, SIGKILL) }
        #expect(!survived, "the app (pid \(appPid)) outlived the swbpf run that started it")
        // A SIGKILLed swbpf cannot remove its instance. Another test's `swbpf run` (tests run in
        // parallel) may sweep it before the run below does: that is the same removal.
        let sweptByAnother = !FileManager.default.fileExists(atPath: instance)

        let later = try await TemplateHarness.run(Swbpf.path, ["run", name, "--", "-d", "1"], in: scratch.path, timeout: 120)
        #expect(later.status == 0, "\(later)")
        #expect(sweptByAnother || later.stderr.contains("removed the tracefs instance swbpf-run-\(run.pid), left behind"), "\(later)")
        #expect(!FileManager.default.fileExists(atPath: instance), "\(instance) is still there")
    }
}
