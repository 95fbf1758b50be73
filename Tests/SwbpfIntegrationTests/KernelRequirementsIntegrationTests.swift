import Foundation
import Testing
import SwbpfTestSupport
@testable import SwbpfBasics
@testable import SwbpfKernel

/// The minimum kernel of the ringbuf, iter, xdp and usdt templates, read from the objects clang and
/// bpftool really build, and how `swbpf verify --kernel 5.4` and `swbpf doctor` show it.
struct KernelRequirementsIntegrationTests {
    static let apps = ["ringbuf", "iter", "xdp", "usdt"]

    @Test func templatesMinimumKernelsFromTheirObjects() async throws {
        let project = try await KernelCommandTests.project("minimum-kernel", apps: Self.apps.map { (name: "t\($0)", template: $0) })
        let build = try await TemplateHarness.swbpf(["build"], in: project.path)
        try #require(build.status == 0, "\(build.output)")
        func minimum(_ app: String) throws -> (version: KernelVersion, because: [String]) {
            let object = try #require(ObjectRequirements(file: FileSystem.join(project.path, ".output/t\(app).bpf.o")), "t\(app).bpf.o")
            return try #require(object.minimum, "\(object)")
        }
        let ringbuf = try minimum("ringbuf")
        #expect(ringbuf.version == KernelVersion(5, 8))
        #expect(ringbuf.because.contains("BPF_MAP_TYPE_RINGBUF") && ringbuf.because.contains("bpf_ringbuf_reserve"), "\(ringbuf)")
        let iter = try minimum("iter")
        #expect(iter.version == KernelVersion(5, 8))
        #expect(iter.because.contains { $0.hasPrefix("iterator") } && iter.because.contains("bpf_seq_printf"), "\(iter)")
        // XDP's program type (4.8) is the newest thing the xdp template uses: a per-CPU array (4.6)
        // and bpf_map_lookup_elem (3.19).
        let xdp = try minimum("xdp")
        #expect(xdp.version == KernelVersion(4, 8))
        #expect(xdp.because == ["XDP (BPF_PROG_TYPE_XDP)"])
        let xdpNeeds = try #require(ObjectRequirements(file: FileSystem.join(project.path, ".output/txdp.bpf.o"))).programs.flatMap(\.needs)
        #expect(xdpNeeds.contains(KernelNeed(what: "BPF_MAP_TYPE_PERCPU_ARRAY", since: KernelVersion(4, 6))), "\(xdpNeeds)")
        // usdt.bpf.h calls bpf_get_attach_cookie (5.15) only where libbpf found it: not a minimum.
        let usdt = try minimum("usdt")
        #expect(usdt.version == KernelVersion(5, 8), "\(usdt)")
        #expect(!usdt.because.contains("bpf_get_attach_cookie"))

        // The quick answer comes before any kernel is fetched: Debian has no 5.4 cloud kernel, so
        // the run fails after it.
        let verify = try await TemplateHarness.swbpf(["verify", "--kernel", "5.4"], in: project.path)
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("swbpf: app tringbuf needs Linux ≥ 5.8: BPF_MAP_TYPE_RINGBUF"), "\(verify.stderr)")
        #expect(verify.stderr.contains("warning: kernel 5.4 (Linux 5.4) is older than app tringbuf needs: Linux ≥ 5.8 for BPF_MAP_TYPE_RINGBUF"), "\(verify.stderr)")
        #expect(verify.stderr.contains("warning: kernel 5.4 (Linux 5.4) is older than app titer needs: Linux ≥ 5.8"), "\(verify.stderr)")
        #expect(!verify.stderr.contains("older than app txdp"), "\(verify.stderr)")
        #expect(verify.stderr.contains("is the truth"), "\(verify.stderr)")

        let doctor = try await TemplateHarness.swbpf(["doctor"], in: project.path)
        #expect(doctor.stdout.contains("app txdp: xdp; needs Linux ≥ 4.8 (XDP (BPF_PROG_TYPE_XDP))"), "\(doctor.stdout)")
        #expect(doctor.stdout.contains("needs Linux ≥ 5.8 (BPF_MAP_TYPE_RINGBUF"), "\(doctor.stdout)")
    }

    /// A kernel without a kfunc is refused by libbpf before any verifier log quotes a line: the
    /// call's line comes from the object's own line info.
    @Test func aKfuncCallIsPlacedByTheObjectsLineInfo() async throws {
        let project = try await KernelCommandTests.project("kfunc-lines", apps: [(name: "tminimal", template: "minimal")])
        try project.write("numbers.bpf.c", KernelMatrixTests.numbers)
        try project.write("numbers.c", "#include \"numbers.skel.h\"\nint main(void) { return 0; }\n")
        let build = try await TemplateHarness.swbpf(["build", "numbers"], in: project.path)
        try #require(build.status == 0, "\(build.output)")
        let object = try #require(FileSystem.read(FileSystem.join(project.path, ".output/numbers.bpf.o")))
        let lines = KernelMatrixTests.numbers.split(separator: "\n", omittingEmptySubsequences: false)
        for (kfunc, call) in [("bpf_iter_num_new", "bpf_iter_num_new(&it, 0, 10);"),
                              ("bpf_iter_num_next", "while ((v = bpf_iter_num_next(&it)))"),
                              ("bpf_iter_num_destroy", "bpf_iter_num_destroy(&it);")] {
            let expected = try #require(lines.firstIndex { $0.contains(call) }) + 1
            let placed = ObjectSourceLines.kfuncCall(kfunc, section: "tp/syscalls/sys_enter_write", in: object)
            #expect(placed?.line == expected, "\(kfunc): \(String(describing: placed))")
            #expect(placed?.text == call, "\(kfunc): \(String(describing: placed))")
            #expect(placed.map { FileSystem.split($0.file).base } == "numbers.bpf.c", "\(String(describing: placed))")
        }
        // An older verifier (6.1's) quotes the line's text alone; the line info has its number.
        let quoted = ObjectSourceLines.line(quoting: " bpf_iter_num_destroy(&it); ", section: "tp/syscalls/sys_enter_write", in: object)
        #expect(quoted?.line == (lines.firstIndex { $0.contains("bpf_iter_num_destroy(&it);") }.map { $0 + 1 }), "\(String(describing: quoted))")
        #expect(ObjectSourceLines.line(quoting: "no such line", section: "tp/syscalls/sys_enter_write", in: object) == nil)
        #expect(ObjectSourceLines.kfuncCall("bpf_iter_num_new", section: "xdp", in: object) == nil)
        #expect(ObjectSourceLines.kfuncCall("bpf_printk", section: "tp/syscalls/sys_enter_write", in: object) == nil)
        #expect(ObjectSourceLines.kfuncCall("bpf_iter_num_new", section: "tp/syscalls/sys_enter_write", in: Array(object.prefix(64))) == nil)
    }
}
