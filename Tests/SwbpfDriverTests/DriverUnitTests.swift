import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfKernel
@testable import SwbpfViews
@testable import SwbpfDriver
import SwbpfTestSupport

/// The sessions' pure parts: source scanning for doctor, where the loader step is planned and how
/// it is explained, what a watch reacts to, and the verify table.
@Suite struct DriverUnitTests {
    @Test func sectionsAreFoundOutsideComments() {
        let source = """
            /* SEC("kprobe/in_a_comment") */
            // SEC("fentry/nor_here")
            char LICENSE[] SEC("license") = "GPL // not a comment";
            SEC("tp/syscalls/sys_enter_write")
            int a(void *ctx) { return 0; }
            SEC("uprobe") int b(void *ctx) { return '"'; }
            """
        #expect(Doctor.sectionNames(in: Doctor.withoutComments(source)) == ["license", "tp/syscalls/sys_enter_write", "uprobe"])
    }

    @Test func loaderIsPlannedAsAToolOutsideEveryApp() throws {
        let plan = try Planner(project: project([simpleApp("kprobe")]), toolchain: fixedToolchain(libbpfInclude: "/opt/libbpf/include"),
                               settings: BuildSettings()).plan()
        #expect(!plan.steps.contains { $0.kind == .kernelLoader })
        let loader = try #require(plan.tools.first)
        #expect(plan.tools.count == 1 && loader.kind == .kernelLoader && loader.id == plan.steps.count)
        #expect(loader.shellCommand == "cc -g -O2 -Wall -I/opt/libbpf/include .output/.swbpf/swbpf-loader.c /usr/lib/x86_64-linux-gnu/libbpf.a -lelf -lz -o .output/swbpf-loader")
        #expect(loader.inputs == [".output/.swbpf/swbpf-loader.c", "/usr/lib/x86_64-linux-gnu/libbpf.a"])
        let explanation = Explainer(toolchain: fixedToolchain(), root: "/work/p").explain(loader)
        #expect(explanation.label == "LOADER" && explanation.purpose.contains("swbpf verify"))
    }

    @Test func watchReactsToWhatTheBuildReads() {
        var set = WatchSet(projectDirectory: "/p")
        set.files = ["/p/a.c", "/p/swbpf.toml", "/usr/include/bpf/libbpf.h"]
        set.directories = ["/p", "/usr/include/bpf", "/p/.output"]
        set.products = ["/p/.output/a.o", "/p/.output/a.skel.h", "/p/a"]
        #expect(set.isRelevant("/p/a.c") && set.isRelevant("/p/swbpf.toml") && set.isRelevant("/usr/include/bpf/libbpf.h"))
        #expect(set.isRelevant("/p/new.h"), "a new header can shadow one the build read")
        #expect(!set.isRelevant("/p/.output/a.skel.h") && !set.isRelevant("/p/a") && !set.isRelevant("/p/.output/.a.o.12.swbpf-tmp"))
        #expect(!set.isRelevant("/p/notes.txt") && !set.isRelevant("/p/.a.c.swp"))
    }

    @Test func tableAlignsColumns() {
        func report(_ program: String, _ insns: Int?, verdict: Verdict) -> ProgramReport {
            ProgramReport(app: "a", object: "o", program: program, section: "tp/x", type: "tracepoint", verdict: verdict,
                          errno: verdict == .accepted ? nil : 13, details: [], lastLines: [], instructionsProcessed: insns,
                          peakStates: insns.map { _ in 1 }, verificationMicroseconds: insns.map { $0 * 100 }, loadMicroseconds: 0,
                          logLevel: 6, logTruncated: false)
        }
        let table = VerifyRendering.table([report("short", 12, verdict: .accepted), report("a_longer_name", 1234, verdict: .rejected)])
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[1].contains("short          tp/x") && lines[2].contains("a_longer_name  tp/x"))
        #expect(lines[0] == "APP  PROGRAM        SECTION  TYPE        VERDICT            INSNS  PEAK STATES      TIME", "\(table)")
        #expect(lines[1].hasSuffix("accepted              12            1    1.2 ms") && lines[2].hasSuffix("rejected (EACCES)   1234            1  123.4 ms"),
                "\(table)")
        #expect(VerifyRendering.summary([report("x", 1, verdict: .accepted), report("y", 1, verdict: .rejected)])
                == "swbpf: 2 programs in 1 app: 1 accepted, 1 rejected by the verifier")
    }
}
