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

/// `swbpf verify`, `run`, `doctor` and `--watch` through the real binary, toolchain and kernel.
/// Every expectation about what this kernel allows comes from a load or attach the test makes
/// itself (bpftool, the app's own --load-only and run), never from knowing the machine.
@Suite(.enabled(if: Kernel.isRoot, "needs root (CAP_BPF) to load BPF programs"), .timeLimit(.minutes(20)))
struct KernelCommandTests {
    /// A project with `first` made by `swbpf new` and the others added with `swbpf add`.
    static func project(_ label: String, apps: [(name: String, template: String)]) async throws -> TemporaryProject {
        let scratch = try TemporaryProject(label)
        let new = try await TemplateHarness.swbpf(["new", scratch.path, "--template", apps[0].template, "--name", apps[0].name], in: scratch.path)
        try #require(new.status == 0, "swbpf new: \(new.output)")
        for (name, template) in apps.dropFirst() {
            let add = try await TemplateHarness.swbpf(["add", name, "--template", template], in: scratch.path)
            try #require(add.status == 0, "swbpf add \(name) --template \(template): \(add.output)")
        }
        return scratch
    }

    static func reports(_ stdout: String) throws -> [ProgramReport] {
        try TemplateHarness.lines(stdout).map { try JSONDecoder().decode(ProgramReport.self, from: Data($0.utf8)) }
    }

    /// Whether this kernel can attach kprobes at all, as libbpf would try: the kprobe PMU, or
    /// tracefs's legacy kprobe_events.
    static var kprobesAttach: Bool {
        FileManager.default.fileExists(atPath: "/sys/bus/event_source/devices/kprobe/type")
            || FileManager.default.fileExists(atPath: Kernel.tracefs() + "/kprobe_events")
    }

    // MARK: verify

    /// Every template's programs, each loaded alone: the verdict agrees with bpftool's own load of
    /// the object, accepted programs carry their statistics, a refused program type is reported
    /// as the kernel's refusal with its errno, and kprobe programs as unattachable exactly when
    /// the kernel has no kprobes.
    @Test func everyTemplateVerifiesWithItsStatistics() async throws {
        let apps = TemplateTests.templates.map { (name: $0.name, template: $0.id) }
        let scratch = try await Self.project("verify-all", apps: apps)
        let verify = try await TemplateHarness.swbpf(["verify", "--format", "json"], in: scratch.path)
        let reports = try Self.reports(verify.stdout)
        #expect(verify.stderr.contains("  LOADER   .output/swbpf-loader"), "\(verify.stderr)")
        for spec in TemplateTests.templates {
            let mine = reports.filter { $0.app == spec.name }
            #expect(mine.count == spec.programs, "\(spec.id): \(mine.map(\.program))")
            let object = scratch.path + "/.output/\(spec.name).bpf.o"
            let bpftool = try await TemplateHarness.offThread { try Kernel.verifierCheck(object) }
            for report in mine {
                #expect(report.object == ".output/\(spec.name).bpf.o")
                if bpftool.status == 0 {
                    #expect(report.verdict == .accepted, "\(spec.id) \(report.program): \(report)")
                    #expect((report.instructionsProcessed ?? 0) > 0 && (report.peakStates ?? 0) >= 1 && report.verificationMicroseconds != nil,
                            "\(spec.id) \(report.program) has no statistics: \(report)")
                } else {
                    // bpftool was refused too: the same refusal, and no verifier log to blame.
                    #expect(bpftool.stderr.contains("Operation not permitted"), "bpftool on \(spec.id): \(bpftool.output)")
                    #expect(report.verdict == .refusedByKernel && report.errno == EPERM && report.instructionsProcessed == nil,
                            "\(spec.id) \(report.program): \(report)")
                    #expect(report.hint?.cause.contains("this kernel refuses") == true, "\(report)")
                }
                if ProgramKind.of(section: report.section) == .kprobe, report.verdict == .accepted {
                    #expect((report.cannotAttach == nil) == Self.kprobesAttach, "\(spec.id) \(report.program): \(report.cannotAttach ?? "attachable")")
                }
            }
        }
        let allAccepted = reports.allSatisfy { $0.verdict == .accepted }
        #expect(verify.status == (allAccepted ? 0 : 1), "\(verify.stderr)")
        // The throwaway pin directories of finished verifies are gone (a running one may be there).
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: Kernel.bpffs()).filter { name in
            name.hasPrefix("swbpf-verify-") && Int32(name.dropFirst("swbpf-verify-".count)).map { kill($0, 0) != 0 } ?? false
        }
        #expect(leftovers.isEmpty, "left in bpffs: \(leftovers)")

        // The table: a line per program, then the summary; nothing is rebuilt.
        let human = try await TemplateHarness.swbpf(["verify"], in: scratch.path)
        #expect(human.status == verify.status)
        let output = TemplateHarness.lines(human.stdout)
        #expect(output.first?.hasPrefix("swbpf: nothing to do") == true, "verify rebuilt: \(human.stdout)")
        let lines = Array(output.drop { !$0.hasPrefix("APP ") })
        #expect(lines.first?.contains(" VERDICT ") == true && lines.count == reports.count + 2, "\(human.stdout)")
        for report in reports {
            #expect(lines.contains { $0.hasPrefix(report.app + " ") && $0.contains(" \(report.program) ") && $0.contains(" \(report.section) ") },
                    "no table line for \(report.app) \(report.program):\n\(human.stdout)")
        }
        #expect(lines.last?.hasPrefix("swbpf: \(reports.count) programs in \(apps.count) apps: ") == true, "\(human.stdout)")
    }

    /// A fault put into a copy of the minimal template, and what the report must say about it.
    struct Fault: Sendable, CustomTestStringConvertible {
        let id: String
        let declarations: String
        /// Inserted before the template's bpf_printk(), after its pid check.
        let code: String
        /// The source line the verifier must stop at.
        let faultLine: String
        /// Words the hint's cause must contain.
        let cause: String
        var testDescription: String { id }
    }

    static let faults = [
        Fault(id: "out-of-bounds index", declarations: "__u64 counts[16];",
              code: "\t__u32 slot = bpf_get_current_pid_tgid() & 31;\t/* up to 31: past the end of counts */\n\tcounts[slot] += 1;\n",
              faultLine: "counts[slot] += 1;", cause: "unbounded or unchecked index"),
        Fault(id: "missing NULL check",
              declarations: "struct {\n\t__uint(type, BPF_MAP_TYPE_HASH);\n\t__uint(max_entries, 64);\n\t__type(key, pid_t);\n\t__type(value, __u64);\n} writes SEC(\".maps\");",
              code: "\t__u64 *count = bpf_map_lookup_elem(&writes, &pid);\n\t*count += 1;\n",
              faultLine: "*count += 1;", cause: "missing NULL check"),
        widenedIndex,
        Fault(id: "unbounded loop", declarations: "",
              code: "\twhile (bpf_get_prandom_u32() != 0)\n\t\tbpf_printk(\"again\");\n",
              faultLine: "while (bpf_get_prandom_u32() != 0)", cause: "a loop the verifier cannot prove ends"),
    ]

    /// A project whose one app is the minimal template with `fault` put into its kernel part;
    /// returns the kernel part's source.
    static func project(_ label: String, app name: String, with fault: Fault) async throws -> (TemporaryProject, String) {
        let scratch = try await project(label, apps: [(name, "minimal")])
        var source = try scratch.read("\(name).bpf.c")
        let printk = "\tbpf_printk(\"BPF triggered from PID %d.\\n\", pid);\n"
        let pidGlobal = "const volatile pid_t target_pid = 0;\n"
        try #require(source.contains(printk) && source.contains(pidGlobal), "the minimal template changed")
        source = source.replacing(pidGlobal, with: pidGlobal + fault.declarations + "\n").replacing(printk, with: fault.code + printk)
        try scratch.write("\(name).bpf.c", source)
        return (scratch, source)
    }

    /// A check the program has, lost because the default -mcpu (v1 for clang 14) widens 32-bit
    /// values: clang checks one zero-extended copy of `slot * 7 + 1` and indexes with another.
    static let widenedIndex = Fault(id: "index widened from 32 bits", declarations: "__u64 slots[16];",
                                    code: "\t__u32 slot = bpf_get_current_pid_tgid();\n\tfor (int i = 0; i < 4; i++) {\n\t\tslot = slot * 7 + i;\n\t\tif (slot >= 16)\n\t\t\treturn 0;\n\t\tslots[slot] += 1;\n\t}\n",
                                    faultLine: "slots[slot] += 1;", cause: "bounds check lost when a 32-bit value is widened")

    /// Issue 21 item 6: the widened index loads once compiled with -mcpu=v3, as its hint says.
    @Test func aWidenedIndexLoadsWithMcpuV3() async throws {
        let fault = Self.widenedIndex
        let (scratch, _) = try await Self.project("verify-mcpu", app: "widened", with: fault)
        let refused = try await TemplateHarness.swbpf(["verify"], in: scratch.path)
        #expect(refused.status == 1 && refused.stderr.contains("cause: a \(fault.cause)"), "\(refused.output)")
        #expect(refused.stderr.contains("-mcpu=v3"), "\(refused.stderr)")
        let config = scratch.exists("swbpf.toml") ? try scratch.read("swbpf.toml") : ""
        try scratch.write("swbpf.toml", config + "\n[app.widened]\nbpf-cflags = [\"-mcpu=v3\"]\n")
        let accepted = try await TemplateHarness.swbpf(["verify"], in: scratch.path)
        #expect(accepted.status == 0, "\(accepted.output)")
    }

    /// Each fault is refused; the report names the file and line of the fault, quotes it, and
    /// its hint names the cause; `--format json` carries the same, and `--log` the whole log.
    @Test(arguments: faults)
    func refusalNamesTheSourceLineAndCause(_ fault: Fault) async throws {
        let name = "faulty"
        let (scratch, source) = try await Self.project("verify-fault", app: name, with: fault)
        let line = try #require(source.split(separator: "\n", omittingEmptySubsequences: false).firstIndex {
            $0.trimmingCharacters(in: .whitespaces) == fault.faultLine
        }) + 1

        // The first verify builds the loader like any step: -v prints its command, --explain why it runs.
        let human = try await TemplateHarness.swbpf(["verify", "-v", "--explain"], in: scratch.path)
        #expect(human.status == 1, "\(human.output)")
        #expect(TemplateHarness.lines(human.stdout).contains { $0.hasPrefix("cc ") && $0.contains(" .output/.swbpf/swbpf-loader.c ") && $0.hasSuffix(" -lelf -lz -o .output/swbpf-loader") },
                "\(human.stdout)")
        #expect(human.stderr.contains("explain: LOADER .output/swbpf-loader: "), "\(human.stderr)")
        let heading = "error: \(name).bpf.c:\(line): the verifier rejected program handle_write (tp/syscalls/sys_enter_write) of app \(name): "
        #expect(human.stderr.contains(heading), "\(human.stderr)")
        #expect(human.stderr.contains("\(String(line).leftPadded(to: 6)) | \(fault.faultLine)\n"), "\(human.stderr)")
        let cause = try #require(TemplateHarness.lines(human.stderr).first { $0.hasPrefix("cause: ") }, "\(human.stderr)")
        #expect(cause.contains(fault.cause), "\(cause)")
        #expect(human.stderr.contains("\nhelp: "), "\(human.stderr)")

        let json = try await TemplateHarness.swbpf(["verify", "--format", "json", "--log", "verifier.log"], in: scratch.path)
        #expect(json.status == 1, "\(json.output)")
        let reports = try Self.reports(json.stdout)
        try #require(reports.count == 1, "\(json.stdout)")
        let report = reports[0]
        #expect(report.verdict == .rejected && report.program == "handle_write" && report.message != nil, "\(report)")
        #expect(report.source == .init(file: "\(name).bpf.c", line: line, text: fault.faultLine), "\(report)")
        #expect(report.hint?.cause.contains(fault.cause) == true, "\(report)")
        #expect(heading.hasSuffix(": ") && human.stderr.contains(heading + (report.message ?? "?")), "human and JSON disagree")
        let log = try scratch.read("verifier.log")
        #expect(log.hasPrefix("=== \(name): handle_write (tp/syscalls/sys_enter_write): rejected, log level "), "\(log.prefix(200))")
        #expect(log.contains("; \(fault.faultLine) @ \(name).bpf.c:\(line)\n"), "\(log.suffix(2000))")
    }

    // MARK: run

    /// `swbpf run` streams the app's own bpf_printk lines while another process drains the global
    /// trace_pipe, and removes its trace instance afterwards.
    @Test func runStreamsPrintkWhileAnotherReaderDrainsTracePipe() async throws {
        let name = "runme"
        let scratch = try await Self.project("run-printk", apps: [(name, "minimal")])
        let reader = try TemplateChild("/bin/cat", [Kernel.tracefs() + "/trace_pipe"], in: scratch.path)
        defer { reader.kill() }
        let run = try TemplateChild(Swbpf.path, ["run", name, "--", "-d", "2"], in: scratch.path)
        let swbpfPid = run.pid
        let result = await run.finish(timeout: 120)
        #expect(result.exitedWith0, "\(result)")
        let watching = try #require(TemplateHarness.matches(result.stdout, "\(name): watching write\\(2\\) calls of pid (\\d+); .*").first,
                                    "\(result)")
        let pid = watching[1]
        let ours = TemplateHarness.matches(result.stdout, "bpf_printk: (?:\(name)|<\\.\\.\\.>)-\(pid): BPF triggered from PID \(pid)\\.")
        // The start line, the dots and the final newline are writes the program reports.
        #expect(ours.count >= 2, "no bpf_printk line for pid \(pid):\n\(result)")
        let instance = Kernel.tracefs() + "/instances/swbpf-run-\(swbpfPid)"
        #expect(result.stderr.contains("(from \(instance))"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: instance), "\(instance) is still there")
    }

    /// Ctrl-C reaches the app as SIGINT; swbpf waits for it and exits with the app's status (0 for
    /// minimal, not swbpf's own 130), and passes on a status the app chose.
    @Test func ctrlCStopsTheAppAndSwbpfExitsWithItsStatus() async throws {
        let name = "stopme"
        let scratch = try await Self.project("run-sigint", apps: [(name, "minimal")])
        let run = try TemplateChild(Swbpf.path, ["run", name], in: scratch.path)
        let started = await run.waitForLine("\(name): watching write\\(2\\) calls of pid \\d+; .*", timeout: 120)
        if started == nil { Issue.record("swbpf run did not start the app: \(await run.finish(timeout: 5))"); return }
        kill(run.pid, SIGINT)
        let result = await run.finish(timeout: 20)
        #expect(!result.signaled && result.status == 0, "\(result)")
        #expect(!FileManager.default.fileExists(atPath: Kernel.tracefs() + "/instances/swbpf-run-\(run.pid)"))

        let direct = try await TemplateHarness.run(scratch.path + "/" + name, ["--no-such-option"], in: scratch.path)
        let through = try await TemplateHarness.run(Swbpf.path, ["run", name, "--", "--no-such-option"], in: scratch.path)
        #expect(direct.status != 0 && !direct.signaled && through.status == direct.status && !through.signaled, "\(direct)\n\(through)")
    }

    /// An app that fails because this kernel will not attach its programs gets doctor's reason
    /// after its own error; an app that fails for its own reason (a bad option) where the kernel
    /// allows everything it uses gets none.
    @Test func runAddsTheKernelsReasonWhenAnAppFails() async throws {
        let scratch = try await Self.project("run-reason", apps: [("kp", "kprobe"), ("tp", "minimal")])
        let kprobe = try await TemplateHarness.run(Swbpf.path, ["run", "kp", "--", "-d", "1"], in: scratch.path, timeout: 300)
        if Self.kprobesAttach {
            #expect(kprobe.exitedWith0 && !kprobe.stderr.contains("this kernel cannot run"), "\(kprobe)")
        } else {
            #expect(!kprobe.exitedWith0, "kprobes cannot attach here, yet the app succeeded: \(kprobe)")
            #expect(kprobe.stderr.contains("note: kp exited with an error, and this kernel cannot run all its programs: kprobe programs")
                    && kprobe.stderr.contains("cannot attach") && kprobe.stderr.contains("help: 'swbpf doctor' lists what this kernel allows"),
                    "\(kprobe)")
        }
        let own = try await TemplateHarness.run(Swbpf.path, ["run", "tp", "--", "--no-such-option"], in: scratch.path, timeout: 300)
        #expect(own.status != 0 && !own.stderr.contains("this kernel cannot run"), "\(own)")
    }

    // MARK: doctor

    /// doctor's program kinds agree with what this test's own loads and attaches find: each
    /// template app's --load-only, and a short run that attaches; the apps doctor names as
    /// affected are exactly those whose run failed, and the exit status says so.
    @Test func doctorKernelLinesMatchWhatTheKernelAllows() async throws {
        let apps: [(name: String, template: String, kinds: [ProgramKind], run: [String])] = [
            ("d_tp", "minimal", [.tracepoint], ["-d", "1"]), ("d_kp", "kprobe", [.kprobe], ["-d", "1"]),
            ("d_fe", "fentry", [.fentry, .fexit], ["-d", "1"]), ("d_up", "uprobe", [.uprobe], ["-d", "1"]), ("d_it", "iter", [.iter], []),
        ]
        let scratch = try await Self.project("doctor", apps: apps.map { ($0.name, $0.template) })
        let build = try await TemplateHarness.swbpf(["build"], in: scratch.path)
        try #require(build.status == 0, "\(build.output)")
        let doctor = try await TemplateHarness.swbpf(["doctor", "--format", "json"], in: scratch.path)
        let report = try JSONDecoder().decode(Doctor.Report.self, from: Data(doctor.stdout.utf8))
        var failed: Set<String> = []
        for app in apps {
            let binary = scratch.path + "/" + app.name
            let load = try await TemplateHarness.run(binary, ["--load-only"], in: scratch.path)
            let attach = load.exitedWith0 ? try await TemplateHarness.run(binary, app.run, in: scratch.path, timeout: 20) : load
            if !attach.exitedWith0 { failed.insert(app.name) }
            for kind in app.kinds {
                let line = try #require(report.kinds.first { $0.kind == kind }, "doctor has no \(kind) line")
                #expect(line.loads == load.exitedWith0, "\(kind): doctor says \(line.summary); ./\(app.name) --load-only: \(load)")
                if load.exitedWith0 {
                    #expect((line.attach == "ok") == attach.exitedWith0, "\(kind): doctor says \(line.summary); ./\(app.name) \(app.run): \(attach)")
                }
            }
        }
        #expect(Set(report.apps.filter(\.affected).map(\.name)) == failed, "\(report.apps)")
        #expect(doctor.status == (report.ok ? 0 : 1) && report.ok == (failed.isEmpty && report.checks.allSatisfy { $0.ok || !$0.required }))

        // The human form: one line per check, ✓ or ✗, and a fix on every ✗ line.
        let human = try await TemplateHarness.swbpf(["doctor"], in: scratch.path)
        #expect(human.status == doctor.status)
        let marked = TemplateHarness.lines(human.stdout).filter { $0.hasPrefix("  ✓ ") || $0.hasPrefix("  ✗ ") }
        #expect(marked.count == report.checks.count + report.kinds.count + report.apps.count, "\(human.stdout)")
        #expect(marked.filter { $0.hasPrefix("  ✗ ") && !$0.contains("; fix: ") && !$0.contains(" app ") }.isEmpty, "\(human.stdout)")
        for name in failed { #expect(marked.contains { $0.hasPrefix("  ✗ app \(name): ") }, "\(human.stdout)") }

        // Outside a project: the same kernel answers, no apps, and only the toolchain decides the status.
        let elsewhere = try TemporaryProject("doctor-empty")
        let outside = try await TemplateHarness.swbpf(["doctor", "--format", "json"], in: elsewhere.path)
        let bare = try JSONDecoder().decode(Doctor.Report.self, from: Data(outside.stdout.utf8))
        #expect(bare.project == nil && bare.apps.isEmpty && bare.kinds.map(\.summary) == report.kinds.map(\.summary))
        #expect(outside.status == (bare.checks.allSatisfy { $0.ok || !$0.required } ? 0 : 1))
    }

    // MARK: --watch

    /// `swbpf build --watch`: a burst of edits gives exactly one rebuild (CC and BINARY); deleting
    /// a header the app includes gives the compiler's error; restoring it gives a good build.
    @Test func watchRebuildsOncePerBurst() async throws {
        let name = "watched"
        let scratch = try await Self.project("watch", apps: [(name, "minimal")])
        try scratch.write("\(name)_extra.h", "#define WATCHED_GREETING \"hi\"\n")
        let user = try scratch.read("\(name).c")
        try scratch.write("\(name).c", user.replacing("#include \"\(name).skel.h\"\n", with: "#include \"\(name).skel.h\"\n#include \"\(name)_extra.h\"\n"))
        let watch = try TemplateChild(Swbpf.path, ["build", "--watch"], in: scratch.path)
        func rounds() -> [String] { TemplateHarness.lines(watch.stderr).filter { $0.contains("; watching ") } }
        func waitForRounds(_ count: Int, timeout: Double = 120) async -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while rounds().count < count && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            return rounds().count >= count
        }
        let built = await waitForRounds(1)
        try #require(built, "no first build: \(watch.stdout)\n\(watch.stderr)")
        #expect(rounds()[0].hasPrefix("swbpf: done; watching "), "\(rounds())")
        let firstBuild = TemplateHarness.lines(watch.stdout).count

        // Five saves in a burst (each a whole new file renamed into place, as editors save).
        for index in 0..<5 {
            try scratch.append("\(name).c", "int watched_edit_\(index)(void) { return \(index); }\n")
        }
        let rebuiltOnce = await waitForRounds(2)
        try #require(rebuiltOnce, "no rebuild after the edits: \(watch.stderr)")
        try await Task.sleep(for: .milliseconds(1500))
        #expect(rounds().count == 2, "more than one rebuild for one burst: \(watch.stderr)")
        let rebuilt = Array(TemplateHarness.lines(watch.stdout).dropFirst(firstBuild))
        #expect(rebuilt == ["  CC       .output/\(name).o", "  BINARY   \(name)"], "\(rebuilt)")
        #expect(TemplateHarness.lines(watch.stderr).filter { $0 == "swbpf: changed: \(name).c" }.count == 1, "\(watch.stderr)")

        try FileManager.default.moveItem(atPath: scratch.path + "/\(name)_extra.h", toPath: scratch.path + "/extra.saved")
        let failedBuild = await waitForRounds(3)
        try #require(failedBuild, "no build after the header went: \(watch.stderr)")
        #expect(rounds()[2].hasPrefix("swbpf: failed (status 1); watching "), "\(rounds())")
        #expect(watch.stderr.contains("\(name)_extra.h: No such file or directory"), "\(watch.stderr)")

        try FileManager.default.moveItem(atPath: scratch.path + "/extra.saved", toPath: scratch.path + "/\(name)_extra.h")
        let restoredBuild = await waitForRounds(4)
        try #require(restoredBuild, "no build after the header came back: \(watch.stderr)")
        #expect(rounds()[3].hasPrefix("swbpf: done; watching "), "\(rounds())")
        let load = try await TemplateHarness.run(scratch.path + "/" + name, ["--load-only"], in: scratch.path)
        #expect(load.exitedWith0, "\(load)")

        kill(watch.pid, SIGINT)
        let end = await watch.finish(timeout: 20)
        #expect(!end.signaled && end.status == 130, "\(end)")
    }
}
