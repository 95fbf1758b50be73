import Foundation
import Testing
import SwbpfTestSupport
@testable import SwbpfBasics
@testable import SwbpfKernel
@testable import SwbpfDriver
#if canImport(Glibc)
import Glibc
#endif

/// The pure parts of `swbpf verify --kernel`: what libbpf says is missing, the initramfs format,
/// the records the guest sends, Debian version order.
struct KernelMatrixUnitTests {
    @Test func missingFieldTypeAndKfuncAreReadFromLibbpfWords() {
        #expect(KernelVerdict.missing(libbpfLog: ["failed to resolve CO-RE relocation <byte_off> [5] struct task_struct.rseq_len (0:208 @ offset 2688)"], details: [])
                == "struct task_struct.rseq_len")
        #expect(KernelVerdict.missing(libbpfLog: ["failed to resolve CO-RE relocation <type_exists> [12] struct bpf_iter_num (0:0 @ offset 0)"], details: [])
                == "struct bpf_iter_num")
        #expect(KernelVerdict.missing(libbpfLog: ["libbpf: extern (func ksym) 'bpf_iter_num_new': not found in kernel or module BTFs"], details: [])
                == "kfunc bpf_iter_num_new")
        #expect(KernelVerdict.missing(libbpfLog: ["R1 invalid mem access 'scalar'"], details: []) == nil)
    }

    /// newc: "070701", thirteen 8-digit hex fields, the name with its NUL, each part padded to 4.
    @Test func cpioEntriesAreNewcAlignedAndEndWithTheTrailer() {
        var writer = CpioWriter()
        writer.file("init", Array("hi".utf8), mode: 0o755)
        let bytes = writer.finish()
        let header = String(decoding: bytes[0..<110], as: UTF8.self)
        #expect(header.hasPrefix("070701"))
        #expect(header.dropFirst(6 + 8).prefix(8) == "000081ED")        // regular file, 0755
        #expect(header.dropFirst(6 + 6 * 8).prefix(8) == "00000002")    // file size
        #expect(header.dropFirst(6 + 11 * 8).prefix(8) == "00000005")   // "init\0"
        #expect(Array(bytes[110..<115]) == Array("init\0".utf8))
        #expect(Array(bytes[116..<118]) == Array("hi".utf8))            // 110 + 5 padded to 116
        #expect(bytes.count % 4 == 0)
        #expect(String(decoding: bytes, as: UTF8.self).contains("TRAILER!!!"))
    }

    /// Length-prefixed records survive any bytes, newlines included, in the loader's output.
    @Test func guestRecordsAreReadByLength() {
        let first = Array("swbpf-loader 1\nprogram p\nend\n".utf8), probe = Array("probe xdp 0 -1 -\nobject 9 9 9\n".utf8)
        let text = Array("object 0 0 \(first.count)\n".utf8) + first + Array("probe 0 0 \(probe.count)\n".utf8) + probe
            + Array("swbpf-vm-done\n".utf8)
        let records = VMInitramfs.parse(text)
        #expect(records.finished)
        #expect(records.objects[0] == .init(status: 0, output: first))
        #expect(records.objects.count == 1)
        #expect(records.probe == probe)
        #expect(!VMInitramfs.parse(Array("object 0 0 100\nshort".utf8)).finished)
    }

    @Test func debianKernelVersionsOrderByTheirNumbers() {
        #expect(KernelImages.versionOrder("6.1.158-1", "6.1.192-3"))
        #expect(KernelImages.versionOrder("6.12.9-1~deb12u1", "6.12.118-1~deb12u1"))
        #expect(!KernelImages.versionOrder("6.1.192-3", "6.1.192-3"))
    }

    @Test func aStaticBinaryHasNoInterpreter() throws {
        let dynamic = try #require(FileSystem.read("/bin/sh"))
        #expect(!VMAssets.isStatic(dynamic))
        #expect(!VMAssets.isStatic(Array("#!/bin/sh\n".utf8)))
    }
}

/// `swbpf verify --kernel 6.1 --kernel 6.12 [--vm]` with Debian's real cloud kernels, fetched with
/// apt-get download into one cache directory every test run shares. One project holds a read of a
/// field 6.1 lacks, a loop over the bpf_iter_num kfuncs (6.4+) and a few templates; each kernel
/// boots once for all of them.
@Suite(.enabled(if: Kernel.isRoot, "needs root (CAP_BPF) to load BPF programs"))
struct KernelMatrixTests {
    static let cache = NSTemporaryDirectory() + "swbpf-test-kernels"

    static let rseq = """
        #include "vmlinux.h"
        #include <bpf/bpf_helpers.h>
        #include <bpf/bpf_core_read.h>
        char LICENSE[] SEC("license") = "GPL";
        SEC("tp/syscalls/sys_enter_write")
        int read_rseq_len(void *ctx)
        {
        	__u32 len = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), rseq_len);
        	bpf_printk("rseq_len %u", len);
        	return 0;
        }

        """

    static let numbers = """
        #include "vmlinux.h"
        #include <bpf/bpf_helpers.h>
        char LICENSE[] SEC("license") = "GPL";
        extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
        extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
        extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;
        SEC("tp/syscalls/sys_enter_write")
        int sum_numbers(void *ctx)
        {
        	struct bpf_iter_num it;
        	int *v, sum = 0;
        	bpf_iter_num_new(&it, 0, 10);
        	while ((v = bpf_iter_num_next(&it)))
        		sum += *v;
        	bpf_iter_num_destroy(&it);
        	bpf_printk("sum %d", sum);
        	return 0;
        }

        """

    static let templates = ["minimal", "ringbuf", "xdp", "iter"]

    static func verdicts(_ stdout: String) throws -> [KernelVerdict] {
        try TemplateHarness.lines(stdout).map { try JSONDecoder().decode(KernelVerdict.self, from: Data($0.utf8)) }
    }

    static func verify(_ project: TemporaryProject, _ arguments: [String]) async throws -> RunResult {
        let directory = project.path
        return try await TemplateHarness.offThread {
            try Swbpf.run(["verify", "--format", "json", "--kernel", "6.1", "--kernel", "6.12"] + arguments, in: directory,
                          environment: ["SWBPF_CACHE_DIR": cache, "SWBPF_CACHE": "0"])
        }
    }

    @Test func offlineAndInAVirtualMachine() async throws {
        let project = try await KernelCommandTests.project("kernels", apps: Self.templates.map { (name: "t\($0)", template: $0) })
        for (name, source) in [("rseq", Self.rseq), ("numbers", Self.numbers)] {
            try project.write("\(name).bpf.c", source)
            try project.write("\(name).c", "#include \"\(name).skel.h\"\nint main(void) { return 0; }\n")
        }
        let accessLine = try #require(Self.rseq.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("rseq_len);") }) + 1

        // Offline: CO-RE against each kernel's BTF, on this machine's verifier.
        let offline = try await Self.verify(project, [])
        #expect(offline.status == 1, "\(offline.stderr)")
        let btf = try Self.verdicts(offline.stdout)
        let refused = try #require(btf.first { $0.kernel == "6.1" && $0.report.program == "read_rseq_len" })
        #expect(refused.mode == .btf)
        #expect(refused.report.verdict != .accepted)
        #expect(refused.missing == "struct task_struct.rseq_len")
        #expect(refused.report.source?.line == accessLine, "\(String(describing: refused.report.source))")
        #expect(refused.report.source?.file == "rseq.bpf.c")
        // kfuncs are the running kernel's: offline cannot see that 6.1 lacks bpf_iter_num.
        #expect(btf.first { $0.kernel == "6.1" && $0.report.program == "sum_numbers" }?.report.verdict == .accepted)
        #expect(btf.filter { $0.kernel == "6.12" }.allSatisfy { $0.report.verdict == .accepted || $0.undecided }, "\(btf.filter { $0.kernel == "6.12" })")
        let directory = project.path
        let human = try await TemplateHarness.offThread {
            try Swbpf.run(["verify", "--kernel", "6.1", "rseq"], in: directory, environment: ["SWBPF_CACHE_DIR": Self.cache, "SWBPF_CACHE": "0"])
        }
        #expect(human.stdout.contains("refused: no struct task_struct.rseq_len (rseq.bpf.c:\(accessLine))"), "\(human.stdout)")
        #expect(human.stdout.contains("CO-RE types and fields only"), "\(human.stdout)")

        // In a VM: each kernel's own verifier; one boot per kernel loads every object.
        let booted = try await Self.verify(project, ["--vm", "-j", "2"])
        let vm = try Self.verdicts(booted.stdout)
        #expect(booted.status == 1, "\(booted.stderr)")
        let kfunc = try #require(vm.first { $0.kernel == "6.1" && $0.report.program == "sum_numbers" }, "\(booted.stderr)")
        #expect(kfunc.mode == .vm)
        #expect(kfunc.missing == "kfunc bpf_iter_num_new" || kfunc.missing == "kfunc bpf_iter_num_next"
                || kfunc.missing == "kfunc bpf_iter_num_destroy", "\(kfunc)")
        // libbpf refused before the verifier: the call's line comes from the object's line info.
        let kfuncName = kfunc.missing.map { String($0.dropFirst("kfunc ".count)) } ?? ""
        let callLine = try #require(Self.numbers.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains(kfuncName + "(&it") }) + 1
        #expect(kfunc.report.source?.line == callLine && kfunc.report.source?.file == "numbers.bpf.c", "\(kfunc)")
        #expect(vm.first { $0.kernel == "6.12" && $0.report.program == "sum_numbers" }?.report.verdict == .accepted)
        let vmRefused = try #require(vm.first { $0.kernel == "6.1" && $0.report.program == "read_rseq_len" })
        #expect(vmRefused.missing == "struct task_struct.rseq_len")
        // 6.1's verifier quotes the line without its number: the object's line info has it.
        #expect(vmRefused.report.source?.line == accessLine && vmRefused.report.source?.file == "rseq.bpf.c", "\(vmRefused)")
        // The templates use nothing newer than 6.1: the VM accepts them on both kernels (and reads
        // back the verifier's statistics); offline agrees, or says it cannot decide (the iter
        // template's direct task->pid read is checked against this machine's types).
        for verdict in vm where verdict.report.app.hasPrefix("t") {
            #expect(verdict.report.verdict == .accepted, "\(verdict.kernel) vm \(verdict.report.app): \(verdict.report)")
        }
        for verdict in btf where verdict.report.app.hasPrefix("t") {
            #expect(verdict.report.verdict == .accepted || (verdict.undecided && verdict.report.type == "tracing"), "\(verdict.kernel) btf: \(verdict.report)")
        }
        #expect(vm.filter { $0.report.app.hasPrefix("t") }.allSatisfy { ($0.report.instructionsProcessed ?? 0) > 0 })
        #expect(Set(vm.map(\.report.program)) == Set(btf.map(\.report.program)))
    }

    @Test func vmWithoutKernelsSaysHowToNameThem() async throws {
        let project = try await KernelCommandTests.project("kernels-none", apps: [(name: "m", template: "minimal")])
        let directory = project.path
        let run = try await TemplateHarness.offThread { try Swbpf.run(["verify", "--vm"], in: directory) }
        #expect(run.status == 1)
        #expect(run.stderr.contains("--vm boots the kernels named with --kernel"), "\(run.stderr)")
    }
}
