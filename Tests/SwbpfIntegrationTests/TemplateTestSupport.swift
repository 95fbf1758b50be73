import Foundation
import Testing
import SwbpfTestSupport
#if canImport(Glibc)
import Glibc
#endif

// Helpers for TemplateTests.swift. Everything here is namespaced (TemplateHarness, TemplateChild,
// TemplatePrintkBuffer) so that it cannot collide with helpers other test files declare.

/// How a template's app ended, with everything it printed.
struct TemplateRun: CustomStringConvertible {
    var status: Int32
    /// True when the process was killed by a signal (status then holds the signal number).
    var signaled: Bool
    var stdout: String
    var stderr: String

    var exitedWith0: Bool { !signaled && status == 0 }

    /// For failure messages: the status and the output, each cut to its last 3000 characters
    /// (tracepoint and ringbuf print everything the machine does).
    var description: String {
        func tail(_ text: String) -> String { text.count > 3000 ? "[...]" + text.suffix(3000) : text }
        return "\(signaled ? "killed by signal" : "exit status") \(status)\n--- stdout:\n\(tail(stdout))--- stderr:\n\(tail(stderr))"
    }
}

enum TemplateHarness {
    /// The environment for every child: the test process's, without the build knobs a user may
    /// have set (they would change what swbpf builds).
    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for knob in ["CLANG", "BPFTOOL", "CC", "ARCH", "CFLAGS", "LDFLAGS", "EXTRA_LDFLAGS", "LIBBPF_OBJ", "VMLINUX", "V"] {
            environment[knob] = nil
        }
        return environment
    }

    /// `ip` from iproute2 (Debian 12 has it in /bin and /usr/sbin).
    static let ip: String = ["/usr/sbin/ip", "/sbin/ip", "/bin/ip", "/usr/bin/ip"]
        .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/ip"

    /// Runs `body` (which blocks) on its own thread, so that a waiting test does not hold one of
    /// the few threads Swift Testing runs tests on.
    static func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
            thread.start()
        }
    }

    /// `swbpf ARGS` in `directory`, to completion.
    static func swbpf(_ arguments: [String], in directory: String) async throws -> RunResult {
        try await offThread { try Swbpf.run(arguments, in: directory) }
    }

    /// A program to completion, killed if it takes longer than `timeout` seconds.
    static func run(_ executable: String, _ arguments: [String], in directory: String,
                    timeout: Double = 30) async throws -> TemplateRun {
        let child = try TemplateChild(executable, arguments, in: directory)
        return await child.finish(timeout: timeout)
    }

    /// `text` with every regular-expression metacharacter escaped.
    static func literal(_ text: String) -> String {
        var result = ""
        for character in text {
            if "\\^$.|?*+()[]{}".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }

    /// The lines of `text` that are complete (newline-terminated), without the newline.
    static func lines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()  // the part after the last newline: empty, or an unfinished line
        return lines
    }

    /// The captures of the whole-line match of `pattern`, or nil. Element 0 is the whole line.
    static func match(_ line: String, _ pattern: String) -> [String]? {
        guard let regex = try? Regex(pattern), let match = try? regex.wholeMatch(in: line) else { return nil }
        return match.output.map { $0.substring.map(String.init) ?? "" }
    }

    /// Every line of `text` that matches `pattern` whole, as its captures.
    static func matches(_ text: String, _ pattern: String) -> [[String]] {
        lines(text).compactMap { match($0, pattern) }
    }

    /// A value of a `key = "value"` line of a template.toml (the templates' values hold no quotes).
    static func tomlString(_ text: String, _ key: String) -> String? {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0] == key, parts[1].hasPrefix("\""), parts[1].hasSuffix("\""), parts[1].count >= 2 else { continue }
            return String(parts[1].dropFirst().dropLast())
        }
        return nil
    }

    /// A private network namespace with its loopback up; `remove()` deletes it.
    struct NetworkNamespace {
        let name: String

        init(_ label: String) throws {
            name = "swbpf-\(label)-\(UUID().uuidString.prefix(8).lowercased())"
            let add = try runProcess(TemplateHarness.ip, ["netns", "add", name])
            guard add.status == 0 else { throw HarnessError("ip netns add \(name): \(add.output)") }
            let up = try runProcess(TemplateHarness.ip, ["-n", name, "link", "set", "lo", "up"])
            guard up.status == 0 else {
                remove()
                throw HarnessError("ip -n \(name) link set lo up: \(up.output)")
            }
        }

        /// argv that runs `command` inside the namespace.
        func exec(_ command: [String]) -> [String] { ["netns", "exec", name] + command }

        /// Sends `count` UDP datagrams "hi\n" to 127.0.0.1:9999 from inside the namespace.
        func sendDatagrams(_ count: Int) async throws -> RunResult {
            let args = exec(["bash", "-c", "for i in $(seq \(count)); do echo hi > /dev/udp/127.0.0.1/9999; done"])
            return try await TemplateHarness.offThread { try runProcess(TemplateHarness.ip, args) }
        }

        func remove() {
            _ = try? runProcess(TemplateHarness.ip, ["netns", "delete", name])
        }
    }

    struct HarnessError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// A running child whose stdout and stderr the test reads while it runs. Dropping the last
/// reference kills the child if it is still running, so a failing test leaves nothing behind.
final class TemplateChild: @unchecked Sendable {
    /// What the reader threads have collected so far (they hold this, not the child, so the
    /// child's deinit still runs while they block in read()).
    private final class Output: @unchecked Sendable {
        let lock = NSLock()
        var stdout = Data()
        var stderr = Data()
        var openStreams = 2
    }

    let process = Process()
    let command: String
    private let output = Output()

    init(_ executable: String, _ arguments: [String], in directory: String) throws {
        command = ([executable] + arguments).joined(separator: " ")
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = TemplateHarness.environment
        let stdoutPipe = Pipe(), stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = FileHandle.nullDevice
        // The child inherits the signal mask of the thread that spawns it, and the threads tests
        // run on (libdispatch workers) block most signals: SIGINT, SIGTERM, SIGALRM and more
        // (SigBlk fffffffe3bfbea27 here). An app that stops on alarm() or SIGTERM would never
        // stop. Started from a shell it has none blocked; so spawn with none blocked, too.
        var none = sigset_t(), saved = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        try process.run()
        Self.drain(stdoutPipe.fileHandleForReading, into: output, stdout: true)
        Self.drain(stderrPipe.fileHandleForReading, into: output, stdout: false)
    }

    private static func drain(_ handle: FileHandle, into output: Output, stdout: Bool) {
        let thread = Thread {
            while true {
                let chunk = handle.availableData
                output.lock.lock()
                if chunk.isEmpty {
                    output.openStreams -= 1
                    output.lock.unlock()
                    return
                }
                if stdout { output.stdout.append(chunk) } else { output.stderr.append(chunk) }
                output.lock.unlock()
            }
        }
        thread.start()
    }

    var pid: Int32 { process.processIdentifier }

    var stdout: String {
        output.lock.lock(); defer { output.lock.unlock() }
        return String(decoding: output.stdout, as: UTF8.self)
    }

    var stderr: String {
        output.lock.lock(); defer { output.lock.unlock() }
        return String(decoding: output.stderr, as: UTF8.self)
    }

    /// Exited, and both pipes read to their end.
    private var finished: Bool {
        output.lock.lock(); defer { output.lock.unlock() }
        return output.openStreams == 0 && !process.isRunning
    }

    /// Waits until a complete stdout line matches `pattern` whole; returns its captures, or nil
    /// if the child exits or `timeout` seconds pass first.
    func waitForLine(_ pattern: String, timeout: Double = 15) async -> [String]? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let done = finished
            for line in TemplateHarness.lines(stdout) {
                if let captures = TemplateHarness.match(line, pattern) { return captures }
            }
            if done || Date() >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until `done` holds for the stdout read so far; false if the child exits or `timeout`
    /// seconds pass first.
    func waitForOutput(timeout: Double, _ done: (String) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let exited = finished
            if done(stdout) { return true }
            if exited || Date() >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Ctrl-C: runs are stopped once they showed what the test waits for, not after a fixed
    /// duration that a loaded machine can use up before the traced event even starts.
    func interrupt() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGINT) }
    }

    /// Waits for the child to exit (killing it after `timeout` seconds) and for its output.
    func finish(timeout: Double = 30) async -> TemplateRun {
        let deadline = Date().addingTimeInterval(timeout)
        while !finished {
            if Date() >= deadline {
                Issue.record("\(command) did not exit within \(timeout) s; killed it")
                kill()
                // The pipes close when the process dies; give the readers a moment.
                let grace = Date().addingTimeInterval(5)
                while !finished && Date() < grace { try? await Task.sleep(for: .milliseconds(20)) }
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let signaled = !process.isRunning && process.terminationReason == .uncaughtSignal
        return TemplateRun(status: process.isRunning ? -1 : process.terminationStatus, signaled: signaled,
                           stdout: stdout, stderr: stderr)
    }

    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    deinit {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// A private ftrace instance that records bpf_printk() output (the bpf_trace:bpf_trace_printk
/// event), removed when the value goes away.
///
/// Why not /sys/kernel/tracing/trace: the global buffer is shared by the whole machine. Reading
/// `trace` does not consume, but reading `trace_pipe` does, and other sessions read it. Measured
/// here: a `minimal -d 3` run of ours attached and wrote, tracing_on was 1, and yet none of its
/// lines could be read back from `trace`, while older lines of earlier runs still were (the
/// header said "entries-in-buffer/entries-written: 25/317": the rest had been consumed). That
/// is what a reader blocked on trace_pipe would do: it takes each new line as it arrives. The same
/// run repeated a minute later showed its lines. An instance of our own is a buffer nobody else
/// reads or clears; the kernel writes each bpf_printk() line to every instance that enables the
/// event, so the assertion is the same, without the race.
final class TemplatePrintkBuffer {
    let path: String

    init() throws {
        path = "\(Kernel.tracefs())/instances/swbpf-templates-\(UUID().uuidString.prefix(8).lowercased())"
        guard mkdir(path, 0o755) == 0 else {
            throw TemplateHarness.HarnessError("cannot create the trace instance \(path): \(String(cString: strerror(errno)))")
        }
        try write("events/bpf_trace/bpf_trace_printk/enable", "1")
        try write("tracing_on", "1")
    }

    private func write(_ file: String, _ value: String) throws {
        do {
            try value.write(toFile: "\(path)/\(file)", atomically: false, encoding: .utf8)
        } catch {
            throw TemplateHarness.HarnessError("cannot write '\(value)' to \(path)/\(file): \(error)")
        }
    }

    /// The instance's `trace` file: the whole buffer, not consumed by reading.
    func contents() throws -> String { try String(contentsOfFile: "\(path)/trace", encoding: .utf8) }

    deinit {
        try? write("events/bpf_trace/bpf_trace_printk/enable", "0")
        rmdir(path)
    }
}
