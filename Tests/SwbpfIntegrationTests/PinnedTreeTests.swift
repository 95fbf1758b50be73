import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfToolchain
import SwbpfTestSupport

// Discovery of the trees a project pins, in every layout its Makefile would use, and the trees it
// must not use: half-populated submodules, and trees others could change (issue 20, item 4).
// Dry runs: they plan with the trees found (reading the libbpf tree's version and headers) without
// building them, so each case costs a copy of the trees and a plan.

/// A repository (a directory with `.git`) in a scratch directory, with a project inside it.
final class PinnedLayout {
    let base: TemporaryProject
    let top: String
    let project: TemporaryProject

    /// `repository` is where `.git` goes below the scratch directory, `project` the project below it.
    init(_ label: String, repository: String = "repo", project: String) throws {
        base = try TemporaryProject(label)
        top = base.path + "/" + repository
        try FileManager.default.createDirectory(atPath: top + "/.git", withIntermediateDirectories: true)
        self.project = try TemporaryProject(nested: top + "/" + project)
        let added = try self.project.swbpf("add", "tracer", "--template", "minimal")
        #expect(added.status == 0, "\(added.output)")
    }

    func copy(_ tree: String, to place: String) throws { try SharedSources.copyTree(tree, to: top + "/" + place) }
    func copyVmlinux(to place: String) throws { try SharedSources.copyVmlinux(arch: hostTargetArch, to: top + "/" + place) }
    func makeDirectory(_ place: String) throws {
        try FileManager.default.createDirectory(atPath: top + "/" + place, withIntermediateDirectories: true)
    }

    /// The plan's commands and the notes of a dry run, which must succeed.
    func dryRun(sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        let result = try project.swbpf("build", "-n")
        #expect(result.status == 0, "\(result.output)", sourceLocation: sourceLocation)
        return result
    }
}

@Suite(.enabled(if: SharedSources.available, SharedSources.skipReason))
struct PinnedTreeTests {
    let arch = hostTargetArch

    /// The note a build from all three trees prints.
    func sourceNote(libbpf: String, bpftool: String, vmlinux: String) -> String {
        "note: libbpf 1.6.0 from \(libbpf) (source), bpftool from \(bpftool) (source), vmlinux.h from \(vmlinux)"
    }

    func expectBuildsFrom(_ result: RunResult, libbpf: String, bpftool: String, vmlinux: String,
                          sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.stderr.lines == [sourceNote(libbpf: libbpf, bpftool: bpftool, vmlinux: vmlinux)], "\(result.stderr)",
                sourceLocation: sourceLocation)
        #expect(result.stdout.lines.contains { $0.hasPrefix("make -C \(libbpf)/src BUILD_STATIC_ONLY=1 ") }, "\(result.stdout)",
                sourceLocation: sourceLocation)
        // Between the directory and the target: the tree's path mapping (SourceTreeTests checks it).
        #expect(result.stdout.lines.contains { $0.contains(" -C \(bpftool)/src ") && $0.hasSuffix(" bootstrap") }, "\(result.stdout)",
                sourceLocation: sourceLocation)
        #expect(result.stdout.lines.filter { $0.contains(" -target bpf ") }.allSatisfy { $0.contains(" -I\(vmlinux) ") }, "\(result.stdout)",
                sourceLocation: sourceLocation)
    }

    @Test func theStarterTemplateLayoutUsesItsTrees() throws {
        let layout = try PinnedLayout("starter", project: "src")
        try layout.copy("libbpf", to: "libbpf")
        try layout.copy("bpftool", to: "bpftool")
        try layout.copyVmlinux(to: "vmlinux/\(arch)")
        expectBuildsFrom(try layout.dryRun(), libbpf: "../libbpf", bpftool: "../bpftool", vmlinux: "../vmlinux/\(arch)")
    }

    @Test func thirdPartyTwoLevelsUpIsFound() throws {
        let layout = try PinnedLayout("deeper-third-party", project: "tools/app")
        try layout.copy("libbpf", to: "third_party/libbpf")
        try layout.copy("bpftool", to: "third_party/bpftool")
        try layout.copyVmlinux(to: "third_party/vmlinux/\(arch)")
        expectBuildsFrom(try layout.dryRun(), libbpf: "../../third_party/libbpf", bpftool: "../../third_party/bpftool",
                         vmlinux: "../../third_party/vmlinux/\(arch)")
    }

    /// bcc's layout: libbpf-tools/ beside src/cc/libbpf, its own bpftool/ and $(ARCH)/vmlinux.h.
    @Test func libbpfToolsLayoutUsesBccsTrees() throws {
        let layout = try PinnedLayout("libbpf-tools", project: "libbpf-tools")
        try layout.copy("libbpf", to: "src/cc/libbpf")
        try layout.copy("bpftool", to: "libbpf-tools/bpftool")
        try layout.copyVmlinux(to: "libbpf-tools/\(arch)")
        expectBuildsFrom(try layout.dryRun(), libbpf: "../src/cc/libbpf", bpftool: "bpftool", vmlinux: arch)
    }

    @Test func theNearestTreeWinsAndNothingAboveTheRepositoryIsUsed() throws {
        // libbpf-bootstrap's layout at the top, a nearer third_party/libbpf one level up; above
        // the repository's top, a bpftool tree that must not be seen.
        let layout = try PinnedLayout("nearest", project: "examples/c")
        try layout.copy("libbpf", to: "libbpf")
        try layout.copy("libbpf", to: "examples/third_party/libbpf")
        try layout.copy("bpftool", to: "bpftool")
        try layout.copyVmlinux(to: "vmlinux.h/include/\(arch)")
        expectBuildsFrom(try layout.dryRun(), libbpf: "../third_party/libbpf", bpftool: "../../bpftool",
                         vmlinux: "../../vmlinux.h/include/\(arch)")

        try FileManager.default.moveItem(atPath: layout.top + "/bpftool", toPath: layout.base.path + "/bpftool")
        let outside = try layout.dryRun()
        #expect(!outside.stdout.contains("bootstrap") && !outside.stderr.contains("bpftool from ../"), "\(outside.output)")
        #expect(PinnedTrees.levels(from: layout.project.path) == [layout.project.path, layout.top + "/examples", layout.top])
    }

    @Test func withoutARepositoryDiscoveryLooksAtMostFourLevelsUp() {
        let levels = PinnedTrees.levels(from: "/nonexistent/a/b/c/d/e/f")
        #expect(levels == ["/nonexistent/a/b/c/d/e/f", "/nonexistent/a/b/c/d/e", "/nonexistent/a/b/c/d", "/nonexistent/a/b/c", "/nonexistent/a/b"])
    }

    @Test func aPlainVmlinuxHeaderAboveTheProjectIsUsed() throws {
        let layout = try PinnedLayout("plain-vmlinux", project: "src")
        try layout.copyVmlinux(to: "headers")
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: layout.top + "/headers/vmlinux.h")
        try FileManager.default.copyItem(atPath: layout.top + "/headers/" + target, toPath: layout.top + "/vmlinux.h")
        let result = try layout.dryRun()
        #expect(result.stderr.lines.count == 1 && result.stderr.contains(", vmlinux.h from .."), "\(result.stderr)")
        #expect(result.stdout.lines.filter { $0.contains(" -target bpf ") }.allSatisfy { $0.contains(" -I.. ") }, "\(result.stdout)")
    }

    /// Issue 20 item 15: each half-populated submodule is named, with how to check it out, and the
    /// note says what is used instead; once per change, so a second build is silent.
    @Test func halfPopulatedTreesAreNotesNotSilentFallBacks() throws {
        let layout = try PinnedLayout("half-populated", project: "src")
        try layout.copy("libbpf", to: "third_party/libbpf")
        try FileManager.default.removeItem(atPath: layout.top + "/third_party/libbpf/src/libbpf.map")
        try layout.copy("bpftool", to: "third_party/bpftool")
        try FileManager.default.removeItem(atPath: layout.top + "/third_party/bpftool/src/Makefile")
        try layout.makeDirectory("vmlinux.h")
        let fix = "not used; run 'git submodule update --init --recursive' in the repository"
        let build = try layout.project.swbpf("build")
        #expect(build.status == 0, "\(build.output)")
        let notes = build.stderr.lines
        #expect(notes.count == 4, "\(build.stderr)")
        #expect(notes.first == "note: '../third_party/libbpf' is a libbpf tree but looks half-populated (no src/libbpf.map): \(fix)")
        #expect(notes.dropFirst().first == "note: '../third_party/bpftool' is a bpftool tree but looks half-populated (no src/Makefile): \(fix)")
        #expect(notes.dropFirst(2).first == "note: '../vmlinux.h' is empty: the vmlinux.h submodule is not checked out (the repository was cloned without --recursive): \(fix)")
        #expect(notes.last.map { matchesShape($0, "note: libbpf 1.1{} from the system, bpftool {} from {}bpftool, vmlinux.h from the running kernel's BTF") } == true,
                "\(build.stderr)")
        #expect(layout.project.isExecutable("tracer"))
        let again = try layout.project.swbpf("build")
        #expect(again.status == 0 && again.stderr.isEmpty, "the note repeats on a build whose choice did not change: \(again.stderr)")

        // Completed, the trees are used, and the note says so.
        try FileManager.default.removeItem(atPath: layout.top + "/third_party/libbpf")
        try layout.copy("libbpf", to: "third_party/libbpf")
        let fixed = try layout.dryRun()
        #expect(fixed.stderr.lines.count == 3 && fixed.stderr.lines.last?.hasPrefix("note: libbpf 1.6.0 from ../third_party/libbpf (source), ") == true,
                "\(fixed.stderr)")
    }

    /// Issue 20 item 4: a tree under a directory another user owns and anyone can write (a shared
    /// /tmp-like directory) is not used; nor is a tree another user owns. Named in swbpf.toml, it
    /// is used, with a warning.
    @Test(.enabled(if: getuid() == 0, "needs root to give directories to another user (CI runs as root)"))
    func treesOthersCanChangeAreNotUsed() throws {
        let layout = try PinnedLayout("untrusted", repository: "shared/repo", project: "src")
        let shared = layout.base.path + "/shared"
        try layout.copy("libbpf", to: "libbpf")
        #expect(try runProcess("/bin/chown", ["nobody", shared]).status == 0)
        #expect(try runProcess("/bin/chmod", ["1777", shared]).status == 0)
        let refused = try layout.dryRun()
        #expect(refused.stderr.lines.first == "note: '../libbpf' is not used: '\(shared)', a directory above it, belongs to nobody (uid 65534), not to you or root, so someone else could change what this build runs; move it where only you (or root) can write, or name it in swbpf.toml if you trust it",
                "\(refused.stderr)")
        #expect(refused.stderr.lines.dropFirst().first?.contains("libbpf 1.1") == true && !refused.stdout.contains("make -C"), "\(refused.output)")

        try layout.project.write("swbpf.toml", "[libbpf]\nsource = \"../libbpf\"\n")
        let named = try layout.dryRun()
        #expect(named.stderr.lines.first?.hasPrefix("warning: '../libbpf' (swbpf.toml [libbpf] source) is used as configured, but '\(shared)', a directory above it, belongs to nobody") == true,
                "\(named.stderr)")
        #expect(named.stdout.contains("make -C ../libbpf/src "), "\(named.stdout)")

        // The directory above is root's again, but the tree is another user's: not used.
        try FileManager.default.removeItem(atPath: layout.project.path + "/swbpf.toml")
        #expect(try runProcess("/bin/chown", ["root", shared]).status == 0)
        #expect(try runProcess("/bin/chown", ["-R", "nobody", layout.top + "/libbpf"]).status == 0)
        let foreign = try layout.dryRun()
        #expect(foreign.stderr.lines.first?.hasPrefix("note: '../libbpf' is not used: it belongs to nobody (uid 65534), not to you or root") == true,
                "\(foreign.stderr)")
    }
}
