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
import SwbpfTestSupport
#if canImport(Glibc)
import Glibc
#endif

// Helpers for the incremental-build and interruption tests: a generated multi-app project, the
// parsing of swbpf's step and explain lines, snapshots of build products, and child processes the
// test owns until it reaps them (so that a signal can never reach a recycled pid).

// MARK: - Step lines

/// One step as the short output names it: `  CC       .output/a.o` is (CC, .output/a.o).
struct StepID: Hashable, Comparable, CustomStringConvertible, Sendable {
    var label: String
    var path: String

    init(_ label: String, _ path: String) {
        self.label = label
        self.path = path
    }

    var description: String { "\(label) \(path)" }

    static func < (lhs: StepID, rhs: StepID) -> Bool { (lhs.path, lhs.label) < (rhs.path, rhs.label) }

    static let labels: Set<String> = ["VMLINUX", "PCH", "BPF", "GEN-OBJ", "GEN-SKEL", "CC", "BINARY"]

    /// The steps an app of the standard layout owns (kernel side, then user side).
    static func kernelSide(of app: String) -> [StepID] {
        [StepID("BPF", ".output/\(app).tmp.bpf.o"), StepID("GEN-OBJ", ".output/\(app).bpf.o"),
         StepID("GEN-SKEL", ".output/\(app).skel.h")]
    }

    static func userSide(of app: String) -> [StepID] {
        [StepID("CC", ".output/\(app).o"), StepID("BINARY", app)]
    }

    static func all(of app: String) -> [StepID] { kernelSide(of: app) + userSide(of: app) }

    static let vmlinux = StepID("VMLINUX", ".output/vmlinux.h")
    /// The precompiled vmlinux.h, built when some kernel part includes vmlinux.h first.
    static let pch = StepID("PCH", ".output/vmlinux.h.pch")

    /// Every step of a project with these apps (whose kernel parts include vmlinux.h first).
    static func everything(_ apps: [String]) -> Set<StepID> { Set([vmlinux, pch] + apps.flatMap(all(of:))) }
}

/// The steps a non-verbose build printed on standard output, in order.
func stepLines(_ stdout: String) -> [StepID] {
    stdout.split(separator: "\n").compactMap { line -> StepID? in
        guard line.hasPrefix("  ") else { return nil }
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 2, StepID.labels.contains(String(words[0])) else { return nil }
        return StepID(String(words[0]), String(words[1]))
    }
}

/// One `explain: LABEL OUTPUT: reason` line.
struct Explanation: CustomStringConvertible {
    var step: StepID
    var reason: String
    var description: String { "\(step): \(reason)" }
}

func explanations(_ stderr: String) -> [Explanation] {
    stderr.split(separator: "\n").compactMap { line -> Explanation? in
        guard line.hasPrefix("explain: ") else { return nil }
        let rest = line.dropFirst("explain: ".count)
        guard let space = rest.firstIndex(of: " "), let colon = rest[space...].range(of: ": ") else { return nil }
        let label = String(rest[..<space])
        let path = String(rest[rest.index(after: space)..<colon.lowerBound])
        return Explanation(step: StepID(label, path), reason: String(rest[colon.upperBound...]))
    }
}

func describe(_ steps: some Sequence<StepID>) -> String {
    let sorted = steps.sorted()
    return sorted.isEmpty ? "(none)" : sorted.map(\.description).joined(separator: ", ")
}

// MARK: - The generated project

/// A project of three tracepoint apps that share headers in the ways an incremental build must
/// follow: `shared.h` is included by the kernel and user parts of `a` and `b`; `inner.h` reaches
/// `c.c` only through `outer.h`; `extra.h` is read by `c.c` only while it exists
/// (`__has_include`); `a`'s kernel part depends on the target arch, `b`'s and `c`'s do not.
/// Every marker string is a real change to the generated code, never only to a comment.
enum ThreeApps {
    static let apps = ["a", "b", "c"]

    static func kernelSource(_ app: String, marker: String = "v1") -> String {
        var text = """
        // SPDX-License-Identifier: GPL-2.0
        #include "vmlinux.h"
        #include <bpf/bpf_helpers.h>

        """
        if app != "c" { text += "#include \"shared.h\"\n" } else { text += "#define SHARED_TAG 0\n" }
        if app == "a" {
            text += """
            #if defined(__TARGET_ARCH_x86)
            #define ARCH_TAG 86
            #elif defined(__TARGET_ARCH_arm64)
            #define ARCH_TAG 64
            #else
            #define ARCH_TAG 0
            #endif

            """
        } else {
            text += "#define ARCH_TAG 0\n"
        }
        text += """
        char LICENSE[] SEC("license") = "GPL";
        int my_pid = 0;

        SEC("tp/syscalls/sys_enter_write")
        int handle_\(app)(void *ctx)
        {
        	int pid = bpf_get_current_pid_tgid() >> 32;

        	if (pid != my_pid)
        		return 0;
        	bpf_printk("\(app)-kernel-\(marker) %d %d %d", pid, SHARED_TAG, ARCH_TAG);
        	return 0;
        }

        """
        return text
    }

    static func userSource(_ app: String, marker: String = "v1") -> String {
        // c reads inner.h only through outer.h, and extra.h only while it exists.
        let include = app == "c"
            ? "#include \"outer.h\"\n#if __has_include(\"extra.h\")\n#include \"extra.h\"\n#endif\n#ifndef EXTRA_TAG\n#define EXTRA_TAG 0\n#endif"
            : "#include \"shared.h\""
        let format = app == "c" ? "tag=%d extra=%d" : "tag=%d"
        let values = app == "c" ? "INNER_TAG, EXTRA_TAG" : "SHARED_TAG"
        return """
        // SPDX-License-Identifier: GPL-2.0
        #include <stdio.h>
        #include <unistd.h>
        #include <bpf/libbpf.h>
        #include "\(app).skel.h"
        \(include)

        static int quiet(enum libbpf_print_level level, const char *format, va_list args)
        {
        	(void)level; (void)format; (void)args;
        	return 0;
        }

        int main(void)
        {
        	struct \(app)_bpf *skel;

        	libbpf_set_print(quiet);
        	skel = \(app)_bpf__open();
        	if (!skel)
        		return 1;
        	skel->bss->my_pid = getpid();
        	printf("\(app)-user-\(marker) \(format)\\n", \(values));
        	\(app)_bpf__destroy(skel);
        	return 0;
        }

        """
    }

    static func sharedHeader(tag: Int = 1) -> String { "#ifndef SHARED_H\n#define SHARED_H\n#define SHARED_TAG \(tag)\n#endif\n" }
    static let outerHeader = "#ifndef OUTER_H\n#define OUTER_H\n#include \"inner.h\"\n#endif\n"
    static func innerHeader(tag: Int = 1) -> String { "#ifndef INNER_H\n#define INNER_H\n#define INNER_TAG \(tag)\n#endif\n" }

    static func make(_ label: String) throws -> TemporaryProject {
        let project = try TemporaryProject(label)
        for app in apps {
            try project.write("\(app).bpf.c", kernelSource(app))
            try project.write("\(app).c", userSource(app))
        }
        try project.write("shared.h", sharedHeader())
        try project.write("outer.h", outerHeader)
        try project.write("inner.h", innerHeader())
        try project.write("extra.h", "#define EXTRA_TAG 5\n")
        return project
    }
}

// MARK: - Build products

extension TemporaryProject {
    var statePath: String { path + "/.output/.swbpf/state" }

    /// Every product of a build: the files of `.output` (swbpf's own `.swbpf/` excepted, leftover
    /// temporaries included) and the app binaries. Compared byte for byte between builds.
    func products(apps: [String]) -> [String: Data] {
        var result: [String: Data] = [:]
        let output = path + "/.output"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? [] where name != ".swbpf" {
            result[".output/" + name] = (try? Data(contentsOf: URL(fileURLWithPath: output + "/" + name))) ?? Data()
        }
        for app in apps { if let data = data(app) { result[app] = data } }
        return result
    }

    /// Removes what a build made (outputs, state, binaries), keeping the sources.
    func clean(apps: [String]) throws {
        try? FileManager.default.removeItem(atPath: path + "/.output")
        for app in apps { try? FileManager.default.removeItem(atPath: url(app).path) }
    }

    /// Any `*.swbpf-tmp` file left anywhere in the project.
    func leftoverTemporaries() -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: path) else { return [] }
        var found: [String] = []
        while let name = walker.nextObject() as? String {
            if name.contains(".swbpf-tmp") { found.append(name) }
        }
        return found.sorted()
    }

    /// The processes whose working directory is this project: swbpf and the tools it started.
    func processesWorkingHere() -> [pid_t] {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        var found: [pid_t] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), pid != getpid() else { continue }
            if let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd"), cwd == target {
                found.append(pid)
            }
        }
        return found
    }

    /// Waits (up to `timeout`) until no process works in this project any more; returns those left.
    @discardableResult
    func waitUntilNoProcessWorksHere(timeout: TimeInterval = 60) -> [pid_t] {
        let deadline = Date().addingTimeInterval(timeout)
        var left = processesWorkingHere()
        while !left.isEmpty, Date() < deadline {
            usleep(20_000)
            left = processesWorkingHere()
        }
        return left
    }

    /// A build's steps and explanations, with the process's output kept for failure messages.
    func build(_ arguments: [String] = [], environment: [String: String] = [:]) throws -> ObservedBuild {
        let result = try Swbpf.run(["build"] + arguments, in: path, environment: environment)
        return ObservedBuild(result: result)
    }
}

/// A read-only view of the state file's lines, enough to name the path a line is about. The
/// file may spell paths inline or by number (`P<TAB>number<TAB>path` lines); both are resolved.
struct StateLines {
    var lines: [[String]]
    var pathNumbers: [String: String] = [:]

    init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        for fields in lines where fields.count == 3 && fields[0] == "P" { pathNumbers[fields[1]] = fields[2] }
    }

    /// The path a field names: through a `P` line when it is a number, else the field itself.
    func path(_ field: String) -> String { pathNumbers[field] ?? field }

    /// The file (`F`) or step (`S`) a line records, as its kind and path.
    func subject(_ fields: [String]) -> (kind: String, path: String)? {
        guard fields.count > 1, fields[0] == "F" || fields[0] == "S" else { return nil }
        return (fields[0], path(fields[1]))
    }
}

/// Names files whose bytes differ between two product snapshots (missing and extra files too).
func differences(_ expected: [String: Data], _ actual: [String: Data]) -> [String] {
    var problems: [String] = []
    for name in Set(expected.keys).union(actual.keys).sorted() {
        switch (expected[name], actual[name]) {
        case (nil, _): problems.append("\(name) is extra")
        case (_, nil): problems.append("\(name) is missing")
        case let (want?, got?) where want != got:
            problems.append("\(name) differs (\(want.count) bytes expected, \(got.count) found)")
        default: break
        }
    }
    return problems
}

struct ObservedBuild: CustomStringConvertible {
    var result: RunResult
    var status: Int32 { result.status }
    var steps: [StepID] { stepLines(result.stdout) }
    var explained: [Explanation] { explanations(result.stderr) }
    var isNoOp: Bool { steps.isEmpty && result.stdout.contains("swbpf: nothing to do") }
    var warnings: [String] { result.stderr.split(separator: "\n").filter { $0.hasPrefix("warning:") }.map(String.init) }
    var description: String { "exit \(status)\n--- stdout\n\(result.stdout)--- stderr\n\(result.stderr)" }
}

// MARK: - Files

/// Sets a file's modification time to now without touching its bytes (as `touch` does).
func touch(_ path: String) {
    _ = utimensat(AT_FDCWD, path, nil, 0)
}

/// Size, modification time (ns) and inode, as swbpf's fast path compares them.
func fileStat(_ path: String) -> FileStat? { FileSystem.stat(path) }

// MARK: - Child processes

enum ExitStatus: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    var description: String {
        switch self {
        case .exited(let code): return "exit \(code)"
        case .signalled(let signal): return "killed by signal \(signal)"
        }
    }
}

private typealias Pipe2Function = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
private typealias CloseFromFunction = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

/// glibc functions that need _GNU_SOURCE, which the Glibc module does not import.
private enum GNU {
    static let pipe2: Pipe2Function? = dlsym(nil, "pipe2").map { unsafeBitCast($0, to: Pipe2Function.self) }
    static let closeFrom: CloseFromFunction? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: CloseFromFunction.self) }
}

/// A child process the test starts with posix_spawn and reaps itself. Its standard output and
/// error are drained by background threads (so it never blocks on a full pipe), and a caller can
/// wait for a line to appear while it runs. Nothing of the test process leaks into it: every
/// descriptor above 2 is closed in the child, and the test's own pipes are close-on-exec.
final class Child: @unchecked Sendable {
    let pid: pid_t
    private let lock = NSCondition()
    private var out = Data()
    private var err = Data()
    private var openStreams = 0
    private var reaped: ExitStatus?

    /// Starts `executable` with `arguments`; the user's build knobs are removed from the
    /// environment as `runProcess` does. With `capture` false, all output goes to /dev/null.
    init(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:], capture: Bool = true) throws {
        var environment = ProcessInfo.processInfo.environment
        for knob in ["CLANG", "BPFTOOL", "CC", "ARCH", "CFLAGS", "LDFLAGS", "EXTRA_LDFLAGS", "LIBBPF_OBJ", "VMLINUX", "V"] {
            environment[knob] = nil
        }
        for (key, value) in extra { environment[key] = value }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var readEnds: [Int32] = []
        var writeEnds: [Int32] = []
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if capture {
            for target in [Int32(1), 2] {
                var fds: [Int32] = [-1, -1]
                guard let pipe2 = GNU.pipe2, pipe2(&fds, O_CLOEXEC) == 0 else { throw POSIXError(.EMFILE) }
                readEnds.append(fds[0])
                writeEnds.append(fds[1])
                posix_spawn_file_actions_adddup2(&actions, fds[1], target)
            }
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        if let closeFrom = GNU.closeFrom { _ = closeFrom(&actions, 3) }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // As a shell starts a command: every signal at its default and none blocked, whatever
        // this thread has (the concurrency pool's threads block them all, and a mask is inherited).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var child: pid_t = 0
        let spawned = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        writeEnds.forEach { close($0) }
        guard spawned == 0 else {
            readEnds.forEach { close($0) }
            throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL)
        }
        pid = child
        openStreams = readEnds.count
        for (index, fd) in readEnds.enumerated() {
            let thread = Thread { [self] in drain(fd, intoStandardOutput: index == 0) }
            thread.start()
        }
    }

    private func drain(_ fd: Int32, intoStandardOutput: Bool) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            lock.lock()
            if intoStandardOutput { out.append(contentsOf: buffer[0..<n]) } else { err.append(contentsOf: buffer[0..<n]) }
            lock.broadcast()
            lock.unlock()
        }
        close(fd)
        lock.lock()
        openStreams -= 1
        lock.broadcast()
        lock.unlock()
    }

    var standardOutput: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var standardError: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }

    /// Waits until a complete line of standard output satisfies `matches`; returns it, or nil when
    /// the output ended or `timeout` passed first.
    func waitForLine(timeout: TimeInterval, _ matches: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while true {
            let text = String(decoding: out, as: UTF8.self)
            let complete = text.hasSuffix("\n") ? text : String(text[..<(text.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex)])
            if let line = complete.split(separator: "\n").map(String.init).first(where: matches) { return line }
            if openStreams == 0 { return nil }
            if !lock.wait(until: deadline) { return nil }
        }
    }

    /// Sends `signal` to the child. Safe until `wait()` has reaped it: the pid stays ours.
    func send(_ signal: Int32) {
        lock.lock()
        defer { lock.unlock() }
        if reaped == nil { kill(pid, signal) }
    }

    /// Reaps the child and waits for its output to end; returns how it ended.
    @discardableResult
    func wait() -> ExitStatus {
        lock.lock()
        if let reaped { lock.unlock(); return reaped }
        lock.unlock()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        let result: ExitStatus = signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
        lock.lock()
        reaped = result
        // The child's own descendants may hold its output open for a while; do not wait forever.
        let deadline = Date().addingTimeInterval(60)
        while openStreams > 0 && lock.wait(until: deadline) {}
        lock.unlock()
        return result
    }

    /// Standard output and error as a `RunResult`, once the child has ended.
    func finish() -> (status: ExitStatus, result: RunResult) {
        let status = wait()
        let code: Int32
        switch status {
        case .exited(let value): code = value
        case .signalled(let value): code = 128 + value
        }
        return (status, RunResult(status: code, stdout: standardOutput, stderr: standardError))
    }
}
