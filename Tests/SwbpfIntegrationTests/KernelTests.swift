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

/// A private ftrace instance that records bpf_printk output.
///
/// Why not the global buffer: /sys/kernel/tracing/trace is shared by everything on the machine.
/// Reading it does not consume, but any other session reading trace_pipe does, and anyone may clear
/// it (on this machine it showed "entries-in-buffer/entries-written: 0/292": every line had been
/// consumed by another reader). A line our child wrote can vanish before we look. bpf_printk()
/// goes through the bpf_trace:bpf_trace_printk trace event (the kernel enables it in the global
/// instance when such a program loads); enabling that event in an instance of our own gives us a
/// buffer nobody else reads or clears. The child's lines are in it as soon as its write(2) calls
/// return, so reading it after the child has exited needs no waiting.
final class TraceInstance {
    let path: String

    init() throws {
        let tracefs = Kernel.tracefs()
        path = "\(tracefs)/instances/swbpf-test-\(UUID().uuidString.prefix(8))"
        guard mkdir(path, 0o755) == 0 else {
            throw TraceError("cannot create the trace instance \(path): \(String(cString: strerror(errno)))")
        }
        try set("events/bpf_trace/bpf_trace_printk/enable", "1")
        try set("tracing_on", "1")
    }

    private func set(_ file: String, _ value: String) throws {
        do {
            try value.write(toFile: "\(path)/\(file)", atomically: false, encoding: .utf8)
        } catch {
            throw TraceError("cannot write \(value) to \(path)/\(file): \(error)")
        }
    }

    /// The whole buffer (non-consuming).
    func contents() throws -> String { try String(contentsOfFile: "\(path)/trace", encoding: .utf8) }

    /// tracefs instances are removed with rmdir (their files cannot be deleted one by one).
    deinit {
        try? set("events/bpf_trace/bpf_trace_printk/enable", "0")
        rmdir(path)
    }

    struct TraceError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// Loading into the kernel: the verifier, libbpf's open_and_load, attaching a tracepoint and
/// reading what the program printed. Needs root with CAP_BPF.
@Suite(.enabled(if: Kernel.isRoot, "needs root to load BPF programs"), .timeLimit(.minutes(20)))
struct KernelTests {
    func built(_ example: String, environment: [String: String] = [:]) throws -> TemporaryProject {
        let project = try TemporaryProject(copying: "examples/\(example)")
        let build = try project.swbpf("build", environment: environment)
        #expect(build.status == 0, "build of examples/\(example) failed: \(build.output)")
        return project
    }

    @Test(arguments: ["kprobe", "minimal"])
    func everyBuiltObjectPassesTheVerifier(example: String) throws {
        let project = try built(example)
        let objects = allFiles(under: project.path(".output")).filter { $0.hasSuffix(".bpf.o") }
        #expect(Set(objects) == ["\(example).tmp.bpf.o", "\(example).bpf.o"], "objects: \(objects)")
        for object in objects {
            let check = try Kernel.verifierCheck(project.path(".output/" + object))
            #expect(check.status == 0, "the verifier refused \(object): \(check.output)")
        }
    }

    @Test func objectBuiltWithSwiftClangPassesTheVerifier() throws {
        let project = try built("minimal", environment: ["CLANG": "/opt/swift/usr/bin/clang"])
        let check = try Kernel.verifierCheck(project.path(".output/minimal.bpf.o"))
        #expect(check.status == 0, "the verifier refused clang 21's object: \(check.output)")
    }

    @Test(arguments: ["kprobe", "minimal"])
    func loadOnlyLoadsThroughTheSkeleton(example: String) throws {
        let project = try built(example)
        let run = try project.runApp(example, ["--load-only"])
        #expect(run.status == 0, "./\(example) --load-only: \(run.output)")
        #expect(run.stdout == "\(example): all programs loaded (verifier accepted)\n", "./\(example) --load-only: \(run.output)")
    }

    /// minimal attaches to sys_enter_write and prints for its own pid only; with -d 2 it writes a
    /// dot a second for two seconds and exits.
    @Test func minimalPrintsForItsOwnPid() throws {
        let project = try built("minimal")
        let trace = try TraceInstance()
        // The shell prints its pid and then becomes minimal, so the pid is known independently of
        // what minimal says about itself.
        let run = try runProcess("/bin/sh", ["-c", "echo $$; exec ./minimal -d 2"], in: project.path)
        #expect(run.status == 0, "./minimal -d 2: \(run.output)")
        let pid = try #require(run.stdout.lines.first.flatMap { Int($0) }, "no pid in: \(run.stdout)")
        #expect(run.stdout.contains("watching PID \(pid)."), "\(run.stdout)")
        #expect(run.stdout.contains("minimal: duration elapsed, detaching and exiting."), "\(run.stdout)")

        let lines = try trace.contents().lines.filter { !$0.hasPrefix("#") }
        let ours = lines.filter { $0.contains("bpf_trace_printk: BPF triggered from PID \(pid).") }
        #expect(!ours.isEmpty, "no 'BPF triggered from PID \(pid)' in the trace; it holds:\n\(lines.suffix(20).joined(separator: "\n"))")
        // Written from minimal's own context (the TASK-PID column). Lines for other pids may exist:
        // another minimal elsewhere on the machine prints into every instance that enables the event.
        #expect(ours.allSatisfy { $0.contains("-\(pid) ") }, "\(ours)")
    }

    /// The examples/c-like project's apps each open and load their skeleton for real (XDP included).
    @Test func layoutAppsLoadTheirSkeletons() throws {
        let project = try TemporaryProject("layout-kernel")
        try LayoutProject.create(project)
        let build = try project.swbpf("build")
        #expect(build.status == 0, "build failed: \(build.output)")
        for app in LayoutProject.apps {
            let run = try project.runApp(app)
            let program = app == "xdp-counter" ? "count_packets" : "on_event"
            #expect(run.status == 0 && run.stdout == "\(app): loaded \(program)\n", "./\(app): \(run.output)")
        }
        for object in allFiles(under: project.path(".output")).filter({ $0.hasSuffix(".bpf.o") && !$0.contains(".tmp.") }) {
            let check = try Kernel.verifierCheck(project.path(".output/" + object))
            #expect(check.status == 0, "the verifier refused \(object): \(check.output)")
        }
    }
}
