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

/// The process runner on its own: what a child gets, what comes back, and how it is stopped.
@Suite struct ProcessRunnerTests {
    let runner = SystemProcessRunner()

    func shell(_ script: String, _ arguments: [String] = [], in directory: String = "/",
               output: String? = nil) -> ProcessRequest {
        ProcessRequest(executable: "/bin/sh", arguments: ["-c", script, "sh"] + arguments, workingDirectory: directory,
                       standardOutputFile: output)
    }

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func exitCodesSignalsAndOutput() async throws {
        let exited = try await runner.run(shell("printf out; printf err >&2; exit 3"))
        #expect(exited.status == 3 && !exited.signalled)
        #expect(text(exited.standardOutput) == "out" && text(exited.standardError) == "err")
        let killed = try await runner.run(shell("kill -TERM $$"))
        #expect(killed.status == 128 + SIGTERM && killed.signalled)
    }

    @Test func launchFailuresSayWhy() async throws {
        let scratch = try TemporaryProject("launch")
        try scratch.write("not-executable", "#!/bin/sh\n")
        try scratch.write("no-interpreter-line", "echo hi\n")
        chmod(scratch.path + "/no-interpreter-line", 0o755)
        let cases: [(path: String, directory: String, reason: String)] = [
            ("/nonexistent/tool", "/", "No such file or directory"),
            (scratch.path + "/not-executable", "/", "Permission denied"),
            (scratch.path + "/no-interpreter-line", "/", "Exec format error (a script needs a #! line)"),
            ("/bin/true", scratch.path + "/missing",
             "cannot enter its working directory \(scratch.path)/missing: No such file or directory"),
        ]
        for (path, directory, reason) in cases {
            await #expect(throws: ProcessFailure.couldNotLaunch(path: path, reason: reason)) {
                try await runner.run(ProcessRequest(executable: path, arguments: [], workingDirectory: directory))
            }
        }
        #expect("\(ProcessFailure.couldNotLaunch(path: "/x", reason: "No such file or directory"))"
                == "could not run /x: No such file or directory")
    }

    @Test func workingDirectoryAndEnvironmentAreTheRequests() async throws {
        let scratch = try TemporaryProject("cwd")
        let real = URL(fileURLWithPath: scratch.path).resolvingSymlinksInPath().path
        let pwd = try await runner.run(ProcessRequest(executable: "/bin/pwd", arguments: [], workingDirectory: scratch.path))
        #expect(text(pwd.standardOutput) == real + "\n")

        let given = try await runner.run(ProcessRequest(executable: "/usr/bin/env", arguments: [], workingDirectory: "/",
                                                        environment: ["SWBPF_TEST": "a value; with $pecials", "EMPTY": ""]))
        #expect(text(given.standardOutput).split(separator: "\n").sorted() == ["EMPTY=", "SWBPF_TEST=a value; with $pecials"])
        let inherited = try await runner.run(ProcessRequest(executable: "/usr/bin/env", arguments: [], workingDirectory: "/"))
        let path = try #require(ProcessInfo.processInfo.environment["PATH"])
        #expect(text(inherited.standardOutput).split(separator: "\n").contains { $0 == "PATH=\(path)" })
    }

    /// A tool starts as a shell would start it: its own process group, no signal blocked or
    /// ignored (this test process ignores SIGPIPE, as swbpf does), no descriptor of ours open.
    @Test func childStartsClean() async throws {
        signal(SIGPIPE, SIG_IGN)
        let leaked = fcntl(open("/dev/null", O_RDONLY), F_DUPFD, 100)
        try #require(leaked >= 100)
        defer { close(leaked) }

        let status = text(try await runner.run(ProcessRequest(executable: "/bin/cat", arguments: ["/proc/self/status"],
                                                               workingDirectory: "/")).standardOutput)
        let fields = Dictionary(status.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: ":", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces)) : nil
        }, uniquingKeysWith: { first, _ in first })
        #expect(fields["SigBlk"] == "0000000000000000", "\(status)")
        #expect(fields["SigIgn"] == "0000000000000000", "\(status)")

        let stat = text(try await runner.run(ProcessRequest(executable: "/bin/cat", arguments: ["/proc/self/stat"],
                                                             workingDirectory: "/")).standardOutput)
        let pid = stat.split(separator: " ").first.map(String.init)
        // After the command name in parentheses: state, parent pid, process group.
        let afterName = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
        #expect(afterName.count > 2 && String(afterName[2]) == pid, "\(stat)")

        let descriptors = text(try await runner.run(ProcessRequest(executable: "/bin/ls", arguments: ["/proc/self/fd"],
                                                                    workingDirectory: "/")).standardOutput)
        let inherited = Set(descriptors.split(separator: "\n").compactMap { Int($0) })
        // ls itself has the directory open (3).
        #expect(inherited.isSubset(of: [0, 1, 2, 3]) && !inherited.contains(Int(leaked)), "\(inherited)")
    }

    /// A few MB of standard output land in the file byte for byte while standard error, as big,
    /// is drained at the same time (a child writing to both never blocks on either).
    @Test func standardOutputFileIsByteExact() async throws {
        let scratch = try TemporaryProject("stdout")
        var generator = UInt64(0x9E37_79B9_7F4A_7C15)
        let bytes = (0..<(3 << 20)).map { _ -> UInt8 in
            generator = generator &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: generator >> 56)
        }
        let source = scratch.path + "/source"
        try Data(bytes).write(to: URL(fileURLWithPath: source))
        let output = scratch.path + "/output"
        let outcome = try await runner.run(shell("cat \"$1\" & cat \"$1\" >&2; wait", [source], output: output))
        #expect(outcome.status == 0 && outcome.standardOutput.isEmpty)
        #expect(outcome.standardError == bytes, "standard error: \(outcome.standardError.count) bytes")
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data(bytes))
        var info = stat()
        #expect(lstat(output, &info) == 0 && info.st_mode & 0o777 == 0o644 & ~currentUmask())
    }

    /// The output path is a fresh temporary name: anything already there, a symbolic link planted
    /// to make swbpf overwrite another file above all, is refused before the tool runs.
    @Test func plantedSymlinkIsRefused() async throws {
        let scratch = try TemporaryProject("symlink")
        try scratch.write("victim", "precious\n")
        let output = scratch.path + "/output"
        let dangling = scratch.path + "/dangling-output"
        try #require(symlink(scratch.path + "/victim", output) == 0 && symlink(scratch.path + "/created", dangling) == 0)
        for path in [output, dangling] {
            await #expect(throws: ProcessFailure.couldNotWriteOutput(path: path, reason: "File exists")) {
                try await runner.run(shell("touch ran; echo overwritten", in: scratch.path, output: path))
            }
        }
        #expect(try scratch.read("victim") == "precious\n")
        #expect(!scratch.exists("created") && !scratch.exists("ran"), "the tool ran or the link was followed")
    }

    /// bpftool exits 0 when its stdout hits a full disk; swbpf writes the file itself and says so.
    @Test func fullDiskFailsTheOutput() async throws {
        let scratch = try TemporaryProject("enospc")
        let mountPoint = scratch.path + "/small"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", mountPoint])
        guard mounted.status == 0 else {
            print("skipped fullDiskFailsTheOutput: cannot mount a tmpfs: \(mounted.output)")
            return
        }
        defer { _ = try? runProcess("/bin/umount", [mountPoint]) }
        let output = mountPoint + "/vmlinux.h"
        await #expect(throws: ProcessFailure.couldNotWriteOutput(path: output, reason: "No space left on device")) {
            try await runner.run(ProcessRequest(executable: "/usr/bin/head", arguments: ["-c", "1000000", "/dev/zero"],
                                                workingDirectory: "/", standardOutputFile: output))
        }
        #expect(!FileManager.default.fileExists(atPath: output), "the truncated file was left")
        #expect("\(ProcessFailure.couldNotWriteOutput(path: output, reason: "No space left on device"))"
                == "could not write \(output): No space left on device")
    }

    @Test func cancelledBeforeLaunchRunsNothing() async throws {
        let scratch = try TemporaryProject("precancelled")
        let request = shell("touch ran", in: scratch.path)
        let runner = self.runner
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await runner.run(request)
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(!scratch.exists("ran"))
    }

    /// Cancelling stops the tool and what it started (SIGTERM to the group), reaps the tool, and
    /// throws; a group that ignores SIGTERM gets SIGKILL after the grace period.
    @Test(arguments: [false, true])
    func cancellationEndsTheWholeGroup(ignoringSIGTERM: Bool) async throws {
        // The whole test runs on a thread of its own: the tests beside it block the concurrency
        // pool's few threads for long stretches, and a cancellation sent late proves nothing.
        try await withTaskExecutorPreference(OwnThreadExecutor()) { try await cancellationEndsTheWholeGroupOwnThread(ignoringSIGTERM) }
    }

    func cancellationEndsTheWholeGroupOwnThread(_ ignoringSIGTERM: Bool) async throws {
        let scratch = try TemporaryProject("cancel")
        let script = (ignoringSIGTERM ? "trap '' TERM; " : "")
            + "sleep 30 & echo $! > grandchild.tmp; mv grandchild.tmp grandchild; echo $$ > child.tmp; mv child.tmp child; wait"
        let request = shell(script, in: scratch.path)
        let runner = self.runner
        let executor = OwnThreadExecutor()
        let task = Task(executorPreference: executor) { try await runner.run(request) }
        let deadline = Date().addingTimeInterval(600)
        while !(scratch.exists("child") && scratch.exists("grandchild")) && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let pids = try ["child", "grandchild"].map { try #require(pid_t(try scratch.read($0).trimmingCharacters(in: .whitespacesAndNewlines))) }
        let cancelled = Date()
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        let elapsed = Date().timeIntervalSince(cancelled)
        // Far below the 30 s the sleep would take on its own (the margin is for a loaded machine).
        #expect(elapsed < 10, "cancellation took \(elapsed) s")
        if ignoringSIGTERM { #expect(elapsed >= 0.3, "SIGKILL came before the grace period: \(elapsed) s") }
        #expect(try await waitUntilExited(pids, timeout: 1) == [], "still running after cancellation: \(pids)")
    }
}

/// Runs jobs on a serial Dispatch queue rather than the concurrency pool, for tests whose timing
/// must not depend on the pool's threads (which blocking tests beside them hold).
final class OwnThreadExecutor: TaskExecutor {
    private let queue = DispatchQueue(label: "swbpf-tests.own-thread")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}

/// What a killed build leaves, and what its tools left (clang writes its output under a name of
/// its own and renames it; killed with swbpf, it leaves that one), is swept; nothing else is.
/// The sweep runs before this process makes temporaries of its own, so one with its pid is
/// someone else's plant and goes too (`SymlinkSafePrimitiveTests` says why).
@Test func staleTemporariesOfToolsAreSweptToo() throws {
    let scratch = try TemporaryProject("sweep")
    let dead = Int32.max - 1
    let swept = [".a.bpf.o.\(dead).swbpf-tmp", ".a.tmp.bpf.o.\(dead)-c0154909.swbpf-tmp.tmp", ".a.bpf.o.\(getpid()).swbpf-tmp"]
    let kept = [".a.bpf.o.swbpf-tmp", "a.bpf.o.\(dead).swbpf-tmp", ".a.bpf.o.\(dead).other"]
    for name in swept + kept { try scratch.write(name, "x") }
    #expect(FileSystem.removeStaleTemporaries(in: scratch.path, base: "b.bpf.o") == [])
    let removed = FileSystem.removeStaleTemporaries(in: scratch.path).map { FileSystem.split($0).base }
    #expect(removed.sorted() == swept.sorted())
    #expect(kept.allSatisfy(scratch.exists) && !swept.contains(where: scratch.exists))
}

func currentUmask() -> mode_t {
    let mask = umask(0o022)
    umask(mask)
    return mask
}

/// True once `pid` has ended. A zombie counts: once its parent is gone, reaping it is up to
/// whichever process adopts it.
func hasExited(_ pid: pid_t) -> Bool {
    if kill(pid, 0) != 0 { return errno == ESRCH }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let name = stat.lastIndex(of: ")") else { return true }
    return stat[name...].dropFirst(2).first == "Z"
}

/// Waits up to `timeout` for every pid to end; returns those still running.
func waitUntilExited(_ pids: [pid_t], timeout: TimeInterval) async throws -> [pid_t] {
    let deadline = Date().addingTimeInterval(timeout)
    var running = pids.filter { !hasExited($0) }
    while !running.isEmpty && Date() < deadline {
        try await Task.sleep(for: .milliseconds(10))
        running = running.filter { !hasExited($0) }
    }
    return running
}

/// swbpf's children and signals, through the binary: they die with it, signals are never lost,
/// and a closed standard output does not stop a build.
@Suite(.serialized) struct ChildLifetimeTests {
    static let apps = ThreeApps.apps

    /// A clang whose compiles never finish: each writes the pid and a partial output, then sleeps
    /// (`exec`, so the sleeping process is the one swbpf started). Queries go to the real clang.
    static func sleepingClang(_ tools: TemporaryProject) throws -> String {
        try tools.write("clang", """
            #!/bin/sh
            previous=
            for arg in "$@"; do
              if [ "$previous" = "-o" ]; then output=$arg; fi
              previous=$arg
            done
            if [ -n "$output" ]; then
              printf partial > "$output"
              echo $$ >> "$SWBPF_TEST_PIDS"
              exec sleep 600
            fi
            exec /usr/bin/clang "$@"

            """)
        chmod(tools.path("clang"), 0o755)
        return tools.path("clang")
    }

    static func pids(in file: String) -> [pid_t] {
        ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { pid_t($0) }
    }

    /// SIGKILL leaves swbpf no chance to stop its tools: the kernel does (PR_SET_PDEATHSIG), and the
    /// next build sweeps the partial output the tool left.
    @Test func toolsDieWithAKilledSwbpf() async throws {
        try await withTaskExecutorPreference(OwnThreadExecutor()) { try await toolsDieWithAKilledSwbpfOwnThread() }
    }

    func toolsDieWithAKilledSwbpfOwnThread() async throws {
        let project = try ThreeApps.make("pdeathsig")
        let tools = try TemporaryProject("sleeping-clang")
        let pidFile = tools.path + "/pids"
        let child = try Child(Swbpf.path, ["build", "-C", project.path, "-j", "2"],
                              environment: ["CLANG": try Self.sleepingClang(tools), "SWBPF_TEST_PIDS": pidFile])
        let deadline = Date().addingTimeInterval(600)
        while Self.pids(in: pidFile).isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let sleeping = Self.pids(in: pidFile)
        if sleeping.isEmpty { child.send(SIGKILL) }
        try #require(!sleeping.isEmpty, "no compile started: \(child.finish().result.output)")
        // The first clang to run is the PCH's (every kernel part waits for it).
        #expect(project.leftoverTemporaries().contains { $0.hasSuffix(".vmlinux.h.pch.\(child.pid).swbpf-tmp") },
                "\(project.leftoverTemporaries())")
        child.send(SIGKILL)
        #expect(child.wait() == .signalled(SIGKILL))
        #expect(try await waitUntilExited(sleeping, timeout: 1) == [], "tools outlived swbpf: \(sleeping)")

        let recovery = try project.build(["-j", "2"])
        #expect(recovery.status == 0, "\(recovery)")
        #expect(project.leftoverTemporaries() == [], "\(recovery)")
    }

    /// A SIGINT at any moment of start-up stops swbpf before it builds anything. Until swbpf's
    /// main runs, the kernel's default action ends it (a shell reports 130 too); from then on
    /// swbpf catches it and exits 130 itself, never building on as if it had not come.
    @Test func earlySIGINTBuildsNothing() throws {
        let project = try ThreeApps.make("early-sigint")
        var caught = 0
        var delays: [Int] = []
        for attempt in 0..<20 {
            try project.clean(apps: Self.apps)
            let child = try Child(Swbpf.path, ["build", "-C", project.path, "-j", "2"])
            let spawned = Date()
            usleep(useconds_t(attempt * 1_500))
            child.send(SIGINT)
            // On a loaded machine the sleep can last much longer than asked; say what it was.
            let delay = Int(Date().timeIntervalSince(spawned) * 1000)
            delays.append(delay)
            let (status, result) = child.finish()
            let moment = "SIGINT \(delay) ms after the start"
            #expect(status == .exited(130) || status == .signalled(SIGINT), "\(moment): \(status)\n\(result.output)")
            if status == .exited(130) { caught += 1 }
            let products = project.products(apps: Self.apps).keys.filter { !$0.contains(".swbpf-tmp") }
            #expect(products.isEmpty, "\(moment): built \(products.sorted())\n\(result.output)")
        }
        print("earlySIGINTBuildsNothing: swbpf caught \(caught) of 20 SIGINTs sent after \(delays) ms; the others came before its main")
        // On a loaded machine start-up can outlast every delay above. So, deterministically: the
        // moment the kernel shows swbpf's SIGINT handler installed (SigCgt in /proc/PID/status),
        // a SIGINT must be caught and stop the build before anything is built.
        for _ in 0..<5 {
            try project.clean(apps: Self.apps)
            let child = try Child(Swbpf.path, ["build", "-C", project.path, "-j", "2"])
            let deadline = Date().addingTimeInterval(60)
            while !Self.catchesSIGINT(child.pid), Date() < deadline { usleep(200) }
            child.send(SIGINT)
            let (status, result) = child.finish()
            #expect(status == .exited(130), "SIGINT right after the handler was installed: \(status)\n\(result.output)")
            let products = project.products(apps: Self.apps).keys.filter { !$0.contains(".swbpf-tmp") }
            #expect(products.isEmpty, "built \(products.sorted())\n\(result.output)")
        }
    }

    /// Whether the process has a handler for SIGINT, as /proc/PID/status says (bit 1 of SigCgt).
    static func catchesSIGINT(_ pid: pid_t) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
              let mask = UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16) else { return false }
        return mask & (1 << (UInt64(SIGINT) - 1)) != 0
    }

    /// Standard output a pipe whose reader leaves after one line (`swbpf build | head -1`): the
    /// build goes on to the end.
    @Test func closedStandardOutputDoesNotStopTheBuild() throws {
        let project = try ThreeApps.make("epipe")
        let launched = try ShellLaunch(Swbpf.path, ["build", "-C", project.path, "-j", "2"])
        let first = launched.readLine()
        close(launched.output)
        let status = launched.wait()
        #expect(first.map { stepLines($0 + "\n").count == 1 } == true, "first line: \(first ?? "none")")
        #expect(status == .exited(0))
        let products = project.products(apps: Self.apps)
        #expect(products.count == 17, "\(products.keys.sorted())")
        let again = try project.build()
        #expect(again.isNoOp, "\(again)")
    }

    /// Started with SIGHUP ignored (nohup), swbpf keeps it ignored and builds on.
    @Test func inheritedIgnoredSIGHUPIsKept() throws {
        let project = try ThreeApps.make("nohup")
        let launched = try ShellLaunch(Swbpf.path, ["build", "-C", project.path, "-j", "2"], ignoring: [SIGHUP])
        let first = launched.readLine()
        kill(launched.pid, SIGHUP)
        var lines = first.map { [$0] } ?? []
        while let line = launched.readLine() { lines.append(line) }
        close(launched.output)
        #expect(launched.wait() == .exited(0))
        #expect(Set(stepLines(lines.map { $0 + "\n" }.joined())) == StepID.everything(Self.apps), "\(lines)")
    }
}

/// swbpf started as a shell starts a command: every signal at its default (but `ignoring`), none
/// blocked, standard output a pipe the test reads, standard error discarded.
final class ShellLaunch {
    let pid: pid_t
    let output: Int32
    private var pending: [UInt8] = []

    init(_ executable: String, _ arguments: [String], ignoring: [Int32] = []) throws {
        var fds: [Int32] = [-1, -1]
        try #require(pipe(&fds) == 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigfillset(&defaults)
        for signal in ignoring { sigdelset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        // Ignored in this process while spawning, so the child inherits it ignored.
        let previous = ignoring.map { signal($0, SIG_IGN) }
        defer { for (number, handler) in zip(ignoring, previous) { signal(number, handler) } }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        close(fds[1])
        guard spawned == 0 else {
            close(fds[0])
            throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL)
        }
        pid = child
        output = fds[0]
    }

    /// The next line of standard output, without its newline; nil at the end.
    func readLine() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            let count = buffer.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return nil }
            pending += buffer[0..<count]
        }
    }

    func wait() -> ExitStatus {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }
}
