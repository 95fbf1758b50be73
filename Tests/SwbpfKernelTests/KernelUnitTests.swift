import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfKernel
import SwbpfTestSupport

/// The kernel commands' pure parts: the loader's records, the verifier log, hints, section kinds,
/// and trace lines.
@Suite struct KernelUnitTests {
    /// The end of a real log (kernel 6.18, an out-of-bounds index into a 16-entry .bss array).
    static let outOfBoundsLog = """
        func#0 @0
        0: R1=ctx() R10=fp0
        ; __u64 id = bpf_get_current_pid_tgid(); @ oob.bpf.c:13
        0: (85) call bpf_get_current_pid_tgid#14      ; R0=scalar()
        ; counts[slot] += 1; @ oob.bpf.c:19
        8: (67) r0 <<= 3                      ; R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=248,var_off=(0x0; 0xf8))
        mark_precise: frame0: regs=r0 stack= before 5: (61) r1 = *(u32 *)(r1 +0)
        11: (0f) r1 += r0
        12: R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=248,var_off=(0x0; 0xf8)) R1=map_value(map=oob.bss,ks=4,vs=128)
        12: (79) r2 = *(u64 *)(r1 +0)
        invalid access to map value, value_size=128 off=248 size=8
        R1 max value is outside of the allowed memory range
        verification time 2678 usec
        stack depth 0
        processed 11 insns (limit 1000000) max_states_per_insn 0 total_states 3 peak_states 2 mark_read 0

        """

    @Test func verifierLogGivesStatisticsComplaintAndSourceLine() {
        let log = VerifierLog(Self.outOfBoundsLog, refused: true)
        #expect(log.instructionsProcessed == 11 && log.totalStates == 3 && log.peakStates == 2)
        #expect(log.verificationMicroseconds == 2678 && log.stackDepth == [0])
        #expect(VerifierLog("stack depth 16+32\n", refused: false).stackDepth == [16, 32], "a subprogram's depth is its own number")
        #expect(log.message == "invalid access to map value, value_size=128 off=248 size=8")
        #expect(log.details == ["R1 max value is outside of the allowed memory range"])
        #expect(log.source == .init(file: "oob.bpf.c", line: 19, text: "counts[slot] += 1;"))
        #expect(!log.lastLines.contains { $0.hasPrefix("mark_precise") || $0.hasPrefix("processed") })
        #expect(log.lastLines.last == "R1 max value is outside of the allowed memory range")

        let accepted = VerifierLog(Self.outOfBoundsLog, refused: false)
        #expect(accepted.message == nil && accepted.source == nil && accepted.instructionsProcessed == 11)
    }

    @Test(arguments: [
        ("R0 invalid mem access 'map_value_or_null'", "missing NULL check"),
        ("invalid access to map value, value_size=128 off=248 size=8", "unbounded or unchecked index"),
        ("infinite loop detected at insn 17", "a loop the verifier cannot prove ends"),
        ("BPF program is too large. Processed 1000001 insn", "a loop the verifier cannot prove ends"),
        ("combined stack size of 2 calls is 544. Too large", "stack size"),
        ("program of this type cannot use helper bpf_probe_write_user#36", "a helper not allowed"),
        ("cannot call GPL-restricted function from non-GPL compatible program", "GPL-only helper"),
        ("R1 invalid mem access 'scalar'", "invalid memory access"),
    ])
    func hintsNameTheCause(message: String, cause: String) throws {
        let hint = try #require(VerifierHint.forRefusal(message: message, details: [], libbpfLog: ""))
        #expect(hint.cause.contains(cause), "\(message) gave \(hint.cause)")
    }

    @Test func loaderRecordsAreRead() throws {
        let log = "0: R1=ctx()\nprocessed 2 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0\n"
        // A block may hold newlines: only its length says where it ends.
        let libbpf = "libbpf: prog 'entry': BPF program load failed: Operation not\npermitted\n"
        let text = """
            swbpf-loader 1
            libbpf_version v1.1
            program handle
            section tp/syscalls/sys_enter_write
            type tracepoint
            attach cgroup_inet_ingress
            status 0
            log_level 6
            truncated 0
            wall_ns 1500000
            libbpf_log 0

            kernel_log \(log.utf8.count)
            \(log)
            end
            program entry
            section fentry/do_unlinkat
            type tracing
            attach trace_fentry
            status 1
            log_level 6
            truncated 0
            wall_ns 9000
            libbpf_log \(libbpf.utf8.count)
            \(libbpf)
            kernel_log 0

            end

            """
        let output = try LoaderOutputReader.parseVerify(Array(text.utf8))
        #expect(output.libbpfVersion == "1.1" && output.openError == nil)
        try #require(output.programs.count == 2)
        #expect(output.programs[0].name == "handle" && output.programs[0].kernelLog == log && output.programs[0].wallNanoseconds == 1_500_000)
        #expect(output.programs[1].status == 1 && output.programs[1].libbpfLog.hasSuffix("permitted\n") && output.programs[1].kernelLog.isEmpty)

        let app = App(name: "t", bpfSources: ["t.bpf.c"], userSources: ["t.c"], helpers: [])
        let privileged = Capabilities(bpf: true, perfmon: true, sysAdmin: true, netAdmin: true)
        let accepted = ProgramReport.make(app: app, object: ".output/t.bpf.o", loaded: output.programs[0], features: nil, capabilities: privileged)
        #expect(accepted.verdict == .accepted && accepted.instructionsProcessed == 2 && accepted.attachType == nil && accepted.loadMicroseconds == 1500)
        let refused = ProgramReport.make(app: app, object: ".output/t.bpf.o", loaded: output.programs[1], features: nil, capabilities: privileged)
        #expect(refused.verdict == .refusedByKernel && refused.errno == 1 && refused.attachType == "trace_fentry")
        #expect(refused.hint?.cause == "this kernel refuses fentry programs (EPERM before verification)")
        let unprivileged = ProgramReport.make(app: app, object: ".output/t.bpf.o", loaded: output.programs[1], features: nil,
                                              capabilities: Capabilities(bpf: false, perfmon: false, sysAdmin: false, netAdmin: false))
        #expect(unprivileged.verdict == .notPermitted)

        #expect(throws: LoaderOutputReader.Malformed.self) { try LoaderOutputReader.parseVerify(Array("program x\nkernel_log 99\nabc\n".utf8)) }
    }

    @Test func probeRecordsAreRead() {
        let features = LoaderOutputReader.parseProbe(Array("""
            libbpf_version v1.1
            probe kprobe 0 2 /sys/bus/event_source/devices/kprobe
            probe fentry 1 -1 bpf_fentry_test1
            probe tracepoint 0 0 syscalls/sys_enter_write
            probe xdp 0 -1 -
            map ringbuf 0

            """.utf8))
        #expect(features.probes[.kprobe]?.attachErrno == 2 && features.probes[.kprobe]?.usable == false)
        #expect(features.attachProblem(for: .kprobe)?.hasPrefix("ENOENT (No such file or directory) (this kernel has no kprobe PMU") == true)
        #expect(features.probes[.fentry]?.loads == false && features.problem(for: .fentry)?.hasPrefix("refused at load: EPERM") == true)
        #expect(features.problem(for: .tracepoint) == nil && features.problem(for: .xdp) == nil && features.probes[.xdp]?.target == nil)
        #expect(features.maps["ringbuf"] == 0)
    }

    @Test func sectionsMapToKinds() {
        let cases: [(String, ProgramKind?)] = [
            ("tp/syscalls/sys_enter_write", .tracepoint), ("tracepoint/sched/x", .tracepoint), ("ksyscall/unlinkat", .kprobe),
            ("kretprobe/do_unlinkat", .kprobe), ("uprobe.s//bin/sh:main", .uprobe), ("usdt", .uprobe), ("fentry/x", .fentry),
            ("fmod_ret/x", .fentry), ("fexit/x", .fexit), ("lsm.s/file_open", .lsm), ("iter/task", .iter), ("xdp.frags", .xdp),
            ("tc", .schedCls), ("socket", .socketFilter), ("perf_event", .perfEvent), ("tp_btf/sched_switch", .tpBTF),
            ("raw_tp/sys_enter", .rawTracepoint), ("license", nil), (".maps", nil),
        ]
        for (section, kind) in cases { #expect(ProgramKind.of(section: section) == kind, "\(section)") }
    }

    @Test func printkLinesAreShortened() {
        #expect(PrintkInstance.printkLine("           <...>-1234    [001] ...21  5678.123456: bpf_trace_printk: BPF triggered from PID 1234.")
                == "<...>-1234: BPF triggered from PID 1234.")
        #expect(PrintkInstance.printkLine("  my app-99 [000] d..1 1.000: bpf_trace_printk: x") == "my app-99: x")
        #expect(PrintkInstance.printkLine("# tracer: nop") == nil)
    }

}
