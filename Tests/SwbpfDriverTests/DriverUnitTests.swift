import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfBuild
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

    @Test func doctorNamesTheLinkerAndOffersTheFasterOnesInstalledWithoutChoosingOne() {
        let installed = ["gold": "/usr/bin/ld.gold", "lld": "/usr/bin/ld.lld"]
        let offered = Doctor.linkerCheck(linkFlags: ["-Wl,--as-needed"], installed: installed)
        #expect(offered.ok && !offered.required && offered.fix == nil)
        #expect(offered.detail.hasPrefix("linker: cc's default (GNU ld); also installed: gold (/usr/bin/ld.gold), lld (/usr/bin/ld.lld); LDFLAGS=-fuse-ld=gold links user space faster"))
        #expect(Doctor.linkerCheck(linkFlags: [], installed: [:]).detail == "linker: cc's default (GNU ld)")
        // The last -fuse-ld= wins, as it does for cc.
        #expect(Doctor.linkerCheck(linkFlags: ["-fuse-ld=bfd", "-fuse-ld=lld"], installed: installed).detail
                == "linker: lld, from -fuse-ld=lld in the link flags")
    }

    @Test func explainSaysWhatFuseLdDoesAndWhereItCameFrom() throws {
        var settings = BuildSettings()
        settings.ldflags = ["-fuse-ld=gold"]
        let plan = try Planner(project: project([simpleApp("a")]), toolchain: fixedToolchain(), settings: settings).plan()
        let link = try #require(plan.steps.first { $0.kind == .link })
        let items = Explainer(toolchain: fixedToolchain(), root: "/project").explain(link).groups.flatMap(\.items)
        let meaning = try #require(items.first { $0.words == ["-fuse-ld=gold"] }?.meaning)
        #expect(meaning.hasPrefix("link with gold (ld.gold) instead of cc's default GNU ld") && meaning.hasSuffix("(from LDFLAGS)"))
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

/// The notes shown once per change (`<output>/.swbpf/announced`): each subject is reported when
/// its text changes, a silent first build records nothing, and the file keeps multi-line texts.
@Suite struct ShownNotesTests {
    func diagnostics(_ events: EventLog) -> [String] {
        events.events.compactMap { if case .diagnostic(let diagnostic) = $0 { return diagnostic.rendered } else { return nil } }
    }

    @Test func eachSubjectIsReportedWhenItsTextChanges() throws {
        var notes = ShownNotes()
        let events = EventLog()
        let passedOver = Diagnostic(.note, "'../libbpf' is a libbpf tree but looks half-populated (no src/Makefile): not used")
        let toolchain = Diagnostic(.note, "libbpf 1.1.2 from the system\twith a tab")
        notes.report([Diagnostic(.note, "system tools")], as: "toolchain", worthSaying: false, to: events)
        #expect(diagnostics(events).isEmpty && !notes.changed && notes["toolchain"] == nil)
        notes.report([passedOver, toolchain], as: "toolchain", worthSaying: true, to: events)
        notes.report([], as: "left-out apps", worthSaying: false, to: events)
        #expect(diagnostics(events) == [passedOver.rendered, toolchain.rendered] && notes.changed)

        var reread = try #require(ShownNotes.parse(notes.bytes))
        #expect(reread["toolchain"] == passedOver.rendered + "\n" + toolchain.rendered && reread["left-out apps"] == nil)
        let again = EventLog()
        reread.report([passedOver, toolchain], as: "toolchain", worthSaying: true, to: again)
        #expect(diagnostics(again).isEmpty && !reread.changed)
        // Once shown, a change is reported even when the new text is nothing notable.
        reread.report([Diagnostic(.note, "system tools")], as: "toolchain", worthSaying: false, to: again)
        #expect(diagnostics(again) == ["note: system tools"] && reread.changed)
    }

    @Test func aMalformedFileIsNothingShown() {
        for text in ["", "toolchain\tx\n", "\(ShownNotes.header)\nno-text\n", "\(ShownNotes.header)\na\tb\tc\n"] {
            #expect(ShownNotes.parse(Array(text.utf8)) == nil, "parsed \(text.debugDescription)")
        }
    }
}
