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

// Projects laid out as users clone them: libbpf-bootstrap's examples/c with its libbpf, bpftool
// and vmlinux.h submodules at ../../, and the third_party/ layout of the projects copied from it.
// The trees are the test material in ../shared/sources (copied before building: it is read-only
// in CI); where it is absent, as in a user's clone of swbpf, these tests are skipped and say why.

enum SharedSources {
    /// `../shared/sources` beside the repository, or beside the directory of a git worktree's
    /// checkout (`../../shared/sources`).
    static let path: String = {
        let parent = URL(fileURLWithPath: repositoryRoot).deletingLastPathComponent()
        let candidates = [parent, parent.deletingLastPathComponent()].map { $0.appendingPathComponent("shared/sources").path }
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
    }()
    static let available = ["libbpf/src/libbpf.map", "bpftool/src/main.c", "bpftool/libbpf/src/Makefile", "vmlinux.h/include/x86"]
        .allSatisfy { FileManager.default.fileExists(atPath: path + "/" + $0) }
    static let skipReason: Comment = "the libbpf, bpftool and vmlinux.h trees are not at \(path) (see its README): these tests need them"

    /// Copies `name` (libbpf, bpftool) to `destination`, writable.
    static func copyTree(_ name: String, to destination: String) throws {
        try FileManager.default.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let copy = try runProcess("/bin/cp", ["-R", path + "/" + name, destination])
        #expect(copy.status == 0, "cp: \(copy.output)")
        try runProcess("/bin/chmod", ["-R", "u+w", destination])
    }

    /// The vendored headers of one architecture in `directory`, with vmlinux.h the symbolic link
    /// a clone has (the shared copy keeps links as files naming their target).
    static func copyVmlinux(arch: String, to directory: String) throws {
        let source = path + "/vmlinux.h/include/" + arch
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: source) {
            let from = source + "/" + name, to = directory + "/" + name
            let attributes = try FileManager.default.attributesOfItem(atPath: from)
            if name == "vmlinux.h", let size = attributes[.size] as? Int, size < 256 {
                let target = try String(contentsOfFile: from, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                try FileManager.default.createSymbolicLink(atPath: to, withDestinationPath: target)
            } else {
                try FileManager.default.copyItem(atPath: from, toPath: to)
            }
        }
        try runProcess("/bin/chmod", ["-R", "u+w", directory])
    }
}

/// A directory holding a project and the trees around it.
final class SourceLayout {
    enum Convention {
        /// `examples/c` with `../../libbpf`, `../../bpftool`, `../../vmlinux.h/include/$ARCH`.
        case bootstrap
        /// `src` with `../third_party/libbpf`, `../third_party/bpftool`, `../third_party/vmlinux/$ARCH`.
        case thirdParty
    }

    let base: TemporaryProject
    let project: TemporaryProject

    init(_ convention: Convention, label: String) throws {
        base = try TemporaryProject(label)
        // The top of the repository: discovery looks no higher.
        try FileManager.default.createDirectory(atPath: base.path + "/.git", withIntermediateDirectories: true)
        let arch = hostTargetArch
        switch convention {
        case .bootstrap:
            project = try TemporaryProject(nested: base.path + "/examples/c")
            try SharedSources.copyTree("libbpf", to: base.path + "/libbpf")
            try SharedSources.copyTree("bpftool", to: base.path + "/bpftool")
            try SharedSources.copyVmlinux(arch: arch, to: base.path + "/vmlinux.h/include/" + arch)
        case .thirdParty:
            project = try TemporaryProject(nested: base.path + "/src")
            try SharedSources.copyTree("libbpf", to: base.path + "/third_party/libbpf")
            try SharedSources.copyTree("bpftool", to: base.path + "/third_party/bpftool")
            try SharedSources.copyVmlinux(arch: arch, to: base.path + "/third_party/vmlinux/" + arch)
        }
    }
}

extension TemporaryProject {
    /// A directory inside another scratch directory, removed with it.
    convenience init(nested path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try self.init(existing: path)
    }
}

/// Apps for the layouts: small but real programs, each of whose user part opens and loads its
/// skeleton (or with --print only prints).
enum SourceTreeApps {
    /// A tracepoint app whose kernel part uses bpf_ksym_exists(), which libbpf 1.1 does not have.
    static func writeKsymApp(_ project: TemporaryProject, name: String = "ksym") throws {
        try project.write("\(name).bpf.c", """
            #include "vmlinux.h"
            #include <bpf/bpf_helpers.h>

            char LICENSE[] SEC("license") = "GPL";

            extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym __weak;

            int has_task_acquire = 0;

            SEC("tp/syscalls/sys_enter_getpid")
            int on_getpid(void *ctx)
            {
            \thas_task_acquire = bpf_ksym_exists(bpf_task_acquire);
            \treturn 0;
            }

            """)
        try project.write("\(name).c", """
            #include <stdio.h>
            #include <string.h>
            #include <bpf/libbpf.h>
            #include "\(name).skel.h"

            int main(int argc, char **argv)
            {
            \tif (argc > 1 && !strcmp(argv[1], "--print")) {
            \t\tprintf("\(name): built against libbpf %s\\n", libbpf_version_string());
            \t\treturn 0;
            \t}
            \tstruct \(name)_bpf *skel = \(name)_bpf__open();
            \tif (!skel)
            \t\treturn 1;
            \t\(name)_bpf__destroy(skel);
            \treturn 0;
            }

            """)
    }

    /// An app whose user part needs blazesym, as libbpf-bootstrap's profile does.
    static func writeBlazesymApp(_ project: TemporaryProject, name: String = "profile") throws {
        try project.write("\(name).bpf.c", """
            #include "vmlinux.h"
            #include <bpf/bpf_helpers.h>

            char LICENSE[] SEC("license") = "GPL";

            SEC("perf_event")
            int on_sample(void *ctx)
            {
            \treturn 0;
            }

            """)
        try project.write("\(name).c", """
            #include <bpf/libbpf.h>
            #include "\(name).skel.h"
            #include "blazesym.h"

            int main(void)
            {
            \treturn 0;
            }

            """)
    }
}

@Suite(.enabled(if: SharedSources.available, SharedSources.skipReason), .timeLimit(.minutes(20)))
struct SourceTreeTests {
    /// The commands of a `-v` build, by what they run.
    struct Commands {
        var lines: [String]
        /// The kernel parts' compiles (not the precompiled vmlinux.h they include).
        var bpfCompiles: [String] { lines.filter { $0.contains(" -target bpf ") && !$0.contains(" -x c-header ") } }
        var userCompiles: [String] { lines.filter { $0.hasPrefix("cc ") && $0.contains(" -c ") } }
        var links: [String] { lines.filter { $0.hasPrefix("cc ") && !$0.contains(" -c ") } }
    }

    /// Checks a bare build of a layout: libbpf and bpftool built from the trees, every compile
    /// seeing the trees' headers first, every link the tree's archive; then a no-op, then an edit
    /// to a libbpf source rebuilds libbpf and relinks, and nothing else. `notes` are printed by the
    /// first build only.
    func checkBuildFromTrees(_ layout: SourceLayout, apps: [String], places: (libbpf: String, bpftool: String, vmlinux: String),
                             notes: String = "") throws {
        let project = layout.project
        let first = try project.swbpf("build", "-v")
        #expect(first.status == 0, "build failed:\n\(first.output)")
        let note = "note: libbpf 1.6.0 from \(places.libbpf) (source), bpftool from \(places.bpftool) (source), vmlinux.h from \(places.vmlinux)"
        #expect(first.stderr.lines.contains(note), "the toolchain note is missing:\n\(first.stderr)")
        #expect(notes.isEmpty || first.stderr.contains(notes), "notes missing:\n\(first.stderr)")
        let commands = Commands(lines: first.stdout.lines.filter { !$0.hasPrefix("mkdir -p ") })
        let output = project.path + "/.output"
        // Both trees' paths and the project's are mapped out of the debug info (see the cache's test below).
        func pathMapping(_ tree: String, as name: String) -> String {
            "'EXTRA_CFLAGS=-ffile-prefix-map=\(FileSystem.absolute(tree, base: project.path))=\(name) -ffile-prefix-map=\(project.path)=.'"
        }
        #expect(commands.lines.first { $0.hasPrefix("make -C ") } ==
                "make -C \(places.libbpf)/src BUILD_STATIC_ONLY=1 OBJDIR=\(output)/libbpf DESTDIR=\(output) INCLUDEDIR= LIBDIR= UAPIDIR= \(pathMapping(places.libbpf, as: "libbpf")) install")
        #expect(commands.lines.contains("make ARCH= CROSS_COMPILE= OUTPUT=\(output)/bpftool/ -C \(places.bpftool)/src \(pathMapping(places.bpftool, as: "bpftool")) bootstrap"),
                "\(commands.lines.filter { $0.hasPrefix("make ") })")
        #expect(commands.lines.filter { $0.hasPrefix(".output/bpftool/bootstrap/bpftool gen ") }.count == 2 * apps.count,
                "gen object and gen skeleton must run the bootstrap bpftool:\n\(first.stdout)")
        // Each app's user part once, and the BTF helper `add` writes beside them (custom_btf.c) once.
        let appCompiles = commands.userCompiles.filter { line in apps.contains { line.hasSuffix(" -c \($0).c -o .output/\($0).o") } }
        let helperCompiles = commands.userCompiles.filter { $0.hasSuffix(" -c custom_btf.c -o .output/custom_btf.o") }
        #expect(commands.bpfCompiles.count == apps.count && appCompiles.count == apps.count && commands.links.count == apps.count
                && helperCompiles.count == 1 && commands.userCompiles.count == apps.count + 1, "\(commands.lines)")
        for line in commands.bpfCompiles {
            #expect(line.contains(" -I.output -I\(places.libbpf)/include/uapi -I\(places.vmlinux) -idirafter "),
                    "a BPF compile does not see the trees' headers first: \(line)")
        }
        for line in commands.userCompiles {
            #expect(line.contains(" -I.output -I\(places.libbpf)/include/uapi -c "), "a user compile does not see libbpf's headers first: \(line)")
            #expect(!line.contains(places.vmlinux), "vmlinux.h's directory is for kernel parts only: \(line)")
        }
        for line in commands.links { #expect(line.contains(" .output/libbpf.a -lelf -lz -o "), "a link does not use the tree's libbpf.a: \(line)") }
        for app in apps {
            #expect(project.isExecutable(app), "\(app) was not built")
            let help = try project.runApp(app, ["--help"])
            #expect(help.status == 0, "\(app) --help: \(help.output)")
        }
        #expect(project.temporaryLeftovers.isEmpty && !allFiles(under: project.path + "/.output").contains { $0.contains(".stage.") },
                "temporaries or a stage left: \(project.temporaryLeftovers)")

        // Every header of libbpf that the compiles read is the tree's, installed in .output/bpf.
        let userCompile = commands.userCompiles[0].split(separator: " ").map(String.init)
        let dependencies = try runProcess("/usr/bin/cc", Array(userCompile.dropFirst().prefix { $0 != "-o" }) + ["-M"], in: project.path)
        #expect(dependencies.status == 0, "cc -M: \(dependencies.output)")
        #expect(dependencies.stdout.contains(".output/bpf/libbpf.h") && !dependencies.stdout.contains("/usr/include/bpf/"),
                "cc -M of \(apps[0]) names a system libbpf header:\n\(dependencies.stdout)")
        let bpfCompile = commands.bpfCompiles[0].split(separator: " ").map(String.init)
        let bpfDependencies = try runProcess("/usr/bin/clang", Array(bpfCompile.dropFirst().prefix { $0 != "-o" }) + ["-M"], in: project.path)
        #expect(bpfDependencies.stdout.contains(".output/bpf/bpf_helpers.h") && !bpfDependencies.stdout.contains("/usr/include/bpf/"),
                "clang -M of a kernel part names a system libbpf header:\n\(bpfDependencies.stdout)")

        let steps = commands.lines.count
        expectNothingToDo(try project.swbpf("build"), steps: steps)

        // An edit to a libbpf source that changes libbpf.a: libbpf is rebuilt and every app relinked.
        let libbpfSource = layout.base.path + "/" + places.libbpf.split(separator: "/").filter { $0 != ".." }.joined(separator: "/") + "/src/str_error.c"
        try (try String(contentsOfFile: libbpfSource, encoding: .utf8) + "\nint swbpf_test_marker(void) { return 42; }\n")
            .write(toFile: libbpfSource, atomically: false, encoding: .utf8)
        let edited = try project.swbpf("build")
        #expect(edited.status == 0, "\(edited.output)")
        #expect(edited.stdout.lines == [shortLine("LIBBPF", ".output/libbpf.a")] + apps.sorted().map { shortLine("BINARY", $0) },
                "a libbpf edit must rebuild libbpf and relink, and nothing else:\n\(edited.stdout)")
        expectNothingToDo(try project.swbpf("build"), steps: steps)
    }

    @Test func aRecursiveCloneOfLibbpfBootstrapBuildsWithTheSubmodules() throws {
        let layout = try SourceLayout(.bootstrap, label: "bootstrap-clone")
        let project = layout.project
        for (name, template) in [("minimal", "minimal"), ("kprobe", "kprobe")] {
            let added = try project.swbpf("add", name, "--template", template)
            #expect(added.status == 0, "\(added.output)")
        }
        try SourceTreeApps.writeKsymApp(project)
        try SourceTreeApps.writeBlazesymApp(project)
        let leftOut = "note: profile is left out: profile.c includes blazesym.h, which is on no include path: it needs blazesym, a Rust library (libbpf-bootstrap builds it from its blazesym submodule with cargo); once built, add its capi/include directory to 'include' and its libblazesym_c.a to the app's 'libs' in swbpf.toml; 'swbpf build profile' tries anyway\n"
        try checkBuildFromTrees(layout, apps: ["kprobe", "ksym", "minimal"],
                                places: ("../../libbpf", "../../bpftool", "../../vmlinux.h/include/\(hostTargetArch)"), notes: leftOut)
        // ksym's kernel part uses bpf_ksym_exists(), which only the tree's libbpf has.
        #expect(try project.runApp("ksym", ["--print"]).stdout == "ksym: built against libbpf v1.6\n")
        if Kernel.isRoot {
            for app in ["minimal", "kprobe"] {
                let load = try project.runApp(app, ["--load-only"])
                #expect(load.status == 0 && load.stdout.contains("verifier accepted"), "\(app) --load-only: \(load.output)")
            }
        }
        #expect(!project.exists("profile"))

        // The tree's archive without its headers beside it is of another libbpf than the system's
        // headers: an error that names both, not a silent mix.
        let mixed = try project.swbpf("build", "-n", environment: ["LIBBPF_OBJ": ".output/libbpf/libbpf.a"])
        #expect(mixed.status == 1)
        #expect(mixed.stderr.lines.contains { $0.hasPrefix("error: libbpf.a and libbpf's headers come from two libbpfs: .output/libbpf/libbpf.a (LIBBPF_OBJ) is libbpf 1.6, the headers in /usr/include/bpf are libbpf 1.1") },
                "\(mixed.stderr)")
        // With its headers beside it (as the build installed them), LIBBPF_OBJ overrides the trees' libbpf.
        let knob = try project.swbpf("build", "-n", environment: ["LIBBPF_OBJ": ".output/libbpf.a"])
        #expect(knob.status == 0 && knob.stderr.contains("note: libbpf 1.6 from LIBBPF_OBJ=.output/libbpf.a,"), "\(knob.output)")
        #expect(!knob.stdout.contains("make -C"), "LIBBPF_OBJ must replace the libbpf build:\n\(knob.stdout)")

        let explain = try project.swbpf("explain", "minimal")
        #expect(explain.status == 0)
        #expect(explain.stdout.contains("[1/") && explain.stdout.contains(" LIBBPF .output/libbpf.a\n")
                && explain.stdout.contains("Build libbpf 1.6.0 from ../../libbpf (source) with the tree's own Makefile"), "\(explain.stdout.prefix(600))")
        #expect(explain.stdout.contains(" BPFTOOL .output/bpftool/bootstrap/bpftool\n"))

        // BPFTOOL still overrides the tree's bpftool.
        let system = try project.swbpf("build", "-n", environment: ["BPFTOOL": "/usr/sbin/bpftool"])
        #expect(system.status == 0 && !system.stdout.contains("make ARCH=") && system.stdout.contains("/usr/sbin/bpftool gen object "),
                "\(system.stdout)")

        // explain takes the make commands apart too: every word has a meaning of its own.
        let json = try project.swbpf("explain", "minimal", "--format", "json")
        let explanations = try JSONDecoder().decode([Explainer.StepExplanation].self, from: Data(json.stdout.utf8))
        for step in explanations where step.label == "LIBBPF" || step.label == "BPFTOOL" {
            #expect(!step.purpose.isEmpty)
            for item in step.groups.flatMap(\.items) {
                #expect(!item.meaning.isEmpty && item.meaning != "passed to the tool as is" && !item.meaning.hasPrefix("sets the Makefile variable"),
                        "\(step.label) \(item.words): \(item.meaning)")
            }
        }
        #expect(explanations.filter { $0.label == "LIBBPF" || $0.label == "BPFTOOL" }.count == 2)

        let clean = try project.swbpf("clean")
        #expect(clean.status == 0 && !project.exists(".output"), "clean left \(allFiles(under: project.path + "/.output")):\n\(clean.output)")
    }

    @Test func theThirdPartyLayoutBuildsWithItsTrees() throws {
        let layout = try SourceLayout(.thirdParty, label: "third-party")
        let added = try layout.project.swbpf("add", "tracer", "--template", "minimal")
        #expect(added.status == 0, "\(added.output)")
        try checkBuildFromTrees(layout, apps: ["tracer"],
                                places: ("../third_party/libbpf", "../third_party/bpftool", "../third_party/vmlinux/\(hostTargetArch)"))
    }

    /// Tutorial lessons sharing one third_party/ tree: the second lesson gets libbpf and the
    /// bootstrap bpftool from the shared cache, byte for byte what the first built, and they work.
    @Test func aSecondProjectOnTheSameTreesRestoresLibbpfAndBpftoolFromTheCache() throws {
        let layout = try SourceLayout(.thirdParty, label: "shared-trees")
        let second = try TemporaryProject(nested: layout.base.path + "/lesson2")
        let cache = ["SWBPF_CACHE_DIR": layout.base.path + "/cache"]
        for project in [layout.project, second] {
            let added = try project.swbpf("add", "tracer", "--template", "minimal")
            #expect(added.status == 0, "\(added.output)")
        }
        let first = try layout.project.swbpf("build", environment: cache)
        #expect(first.status == 0 && first.stdout.lines.contains(shortLine("LIBBPF", ".output/libbpf.a"))
                && first.stdout.lines.contains(shortLine("BPFTOOL", ".output/bpftool/bootstrap/bpftool")), "\(first.output)")
        let restored = try second.swbpf("build", environment: cache)
        #expect(restored.status == 0, "\(restored.output)")
        #expect(restored.stdout.lines.contains(shortLine("CACHED", ".output/libbpf.a"))
                && restored.stdout.lines.contains(shortLine("CACHED", ".output/bpftool/bootstrap/bpftool")), "\(restored.stdout)")
        #expect(!restored.stdout.contains("LIBBPF") && !restored.stdout.contains("BPFTOOL"))
        for file in [".output/libbpf.a", ".output/bpf/libbpf.h", ".output/bpftool/bootstrap/bpftool"] {
            #expect(FileManager.default.contentsEqual(atPath: second.path + "/" + file, andPath: layout.project.path + "/" + file),
                    "\(file) differs from the first project's")
        }
        #expect(second.isExecutable(".output/bpftool/bootstrap/bpftool") && second.isExecutable("tracer"))
        let help = try second.runApp("tracer", ["--help"])
        #expect(help.status == 0, "\(help.output)")
        expectNothingToDo(try second.swbpf("build", environment: cache), steps: first.stdout.lines.count)

        // An edit to the tree is another key: libbpf is built again, not restored.
        let source = layout.base.path + "/third_party/libbpf/src/str_error.c"
        try (try String(contentsOfFile: source, encoding: .utf8) + "\nint swbpf_test_marker(void) { return 42; }\n")
            .write(toFile: source, atomically: false, encoding: .utf8)
        let edited = try second.swbpf("build", environment: cache)
        #expect(edited.status == 0 && edited.stdout.lines.contains(shortLine("LIBBPF", ".output/libbpf.a")), "\(edited.output)")
    }

    /// The same trees in another checkout of the repository: the tree steps map both checkouts'
    /// paths out of their products and the manifests name the trees' headers through the include
    /// directories, so the second checkout restores every step from the cache, byte for byte what
    /// it builds itself; an edit to its libbpf tree is a miss that leaves the first's entry alone.
    @Test func anotherCheckoutOfTheSameTreesRestoresEveryStepFromTheCache() throws {
        let first = try SourceLayout(.thirdParty, label: "checkout-a")
        let second = try SourceLayout(.thirdParty, label: "other-checkout-b")
        let cache = ["SWBPF_CACHE_DIR": first.base.path + "/cache"]
        for layout in [first, second] {
            let added = try layout.project.swbpf("add", "tracer", "--template", "minimal")
            #expect(added.status == 0, "\(added.output)")
        }
        let built = try first.project.swbpf("build", environment: cache)
        #expect(built.status == 0 && built.stdout.lines.contains(shortLine("LIBBPF", ".output/libbpf.a")), "\(built.output)")

        let restored = try second.project.swbpf("build", environment: cache)
        #expect(restored.status == 0, "\(restored.output)")
        // Every step but the precompiled vmlinux.h, which no compile needs once they all hit.
        #expect(restored.stdout.lines.allSatisfy { $0.hasPrefix(shortLine("CACHED", "")) } && restored.stdout.lines.count == built.stdout.lines.count - 1,
                "every step must be restored:\n\(restored.stdout)")
        let project = second.project.path
        func products() -> [String: Data] {
            let files = allFiles(under: project).filter { !$0.hasPrefix(".output/.swbpf/") && !$0.hasPrefix("cache/") }
            return Dictionary(uniqueKeysWithValues: files.compactMap { file in FileManager.default.contents(atPath: project + "/" + file).map { (file, $0) } })
        }
        let restoredProducts = products()
        for product in [".output/libbpf.a", ".output/bpf/libbpf.h", ".output/bpftool/bootstrap/bpftool", ".output/tracer.bpf.o", ".output/tracer.skel.h", ".output/tracer.o", "tracer"] {
            #expect(restoredProducts[product] != nil, "\(product) was not restored")
        }
        let help = try second.project.runApp("tracer", ["--help"])
        #expect(help.status == 0, "\(help.output)")

        // What the second checkout builds itself, without the cache, is what it was given.
        let cold = try second.project.swbpf("build", "-B", "--no-cache")
        #expect(cold.status == 0 && cold.stdout.lines.contains(shortLine("BPFTOOL", ".output/bpftool/bootstrap/bpftool")), "\(cold.output)")
        let builtProducts = products()
        for (file, bytes) in restoredProducts.sorted(by: { $0.key < $1.key }) {
            #expect(builtProducts[file] == bytes, "\(file) restored from the other checkout differs from the one built here")
        }

        // An edit in the second checkout's libbpf tree is another key: libbpf is built, not restored,
        // and the first checkout's entry still serves the first checkout.
        let firstArchive = FileManager.default.contents(atPath: first.project.path + "/.output/libbpf.a")
        let source = second.base.path + "/third_party/libbpf/src/str_error.c"
        try (try String(contentsOfFile: source, encoding: .utf8) + "\nint swbpf_test_marker(void) { return 42; }\n")
            .write(toFile: source, atomically: false, encoding: .utf8)
        let edited = try second.project.swbpf("build", environment: cache)
        #expect(edited.status == 0 && edited.stdout.lines.first == shortLine("LIBBPF", ".output/libbpf.a"), "\(edited.output)")
        #expect(FileManager.default.contents(atPath: project + "/.output/libbpf.a") != restoredProducts[".output/libbpf.a"])
        let clean = try first.project.swbpf("clean")
        #expect(clean.status == 0, "\(clean.output)")
        let again = try first.project.swbpf("build", environment: cache)
        #expect(again.status == 0 && again.stdout.lines.contains(shortLine("CACHED", ".output/libbpf.a")) && !again.stdout.contains("LIBBPF"), "\(again.output)")
        #expect(FileManager.default.contents(atPath: first.project.path + "/.output/libbpf.a") == firstArchive)
    }

    @Test func swbpfTomlNamesTheTreesAndTheKeysAreChecked() throws {
        let project = try TemporaryProject("configured-trees")
        try SharedSources.copyTree("libbpf", to: project.path("vendor/libbpf"))
        try SharedSources.copyVmlinux(arch: hostTargetArch, to: project.path("vendor/vmlinux/\(hostTargetArch)"))
        let added = try project.swbpf("add", "tracer", "--template", "minimal")
        #expect(added.status == 0, "\(added.output)")
        try project.write("swbpf.toml", """
            vmlinux = "vendor/vmlinux/{arch}/vmlinux.h"

            [libbpf]
            source = "vendor/libbpf"

            [bpftool]
            source = "system"

            """)
        let dry = try project.swbpf("build", "-n")
        #expect(dry.status == 0, "\(dry.output)")
        #expect(dry.stderr.lines.contains { matchesShape($0, "note: libbpf 1.6.0 from vendor/libbpf (source), bpftool {} from {}bpftool, vmlinux.h from vendor/vmlinux/\(hostTargetArch)") },
                "\(dry.stderr)")
        let commands = SourceTreeTests.Commands(lines: dry.stdout.lines.filter { !$0.hasPrefix("mkdir -p ") })
        #expect(commands.lines.first?.hasPrefix("make -C vendor/libbpf/src BUILD_STATIC_ONLY=1 ") == true, "\(dry.stdout)")
        #expect(!dry.stdout.contains("bootstrap"), "[bpftool] source = \"system\" must not build bpftool")
        #expect(commands.bpfCompiles.allSatisfy { $0.contains(" -I.output -Ivendor/libbpf/include/uapi -Ivendor/vmlinux/\(hostTargetArch) ") })
        #expect(commands.userCompiles.allSatisfy { !$0.contains("vendor/vmlinux") })

        try project.write("swbpf.toml", "[libbpf]\nsource = \"vendor/libbpf\"\narchive = \"x/libbpf.a\"\n")
        let both = try project.swbpf("build", "-n")
        #expect(both.status == 1 && both.stderr.hasPrefix("error: swbpf.toml:3: key 'libbpf.archive': [libbpf] source builds libbpf from a tree"), "\(both.stderr)")
        try project.write("swbpf.toml", "[libbpf]\nsource = \"vendor\"\n")
        let notATree = try project.swbpf("build", "-n")
        #expect(notATree.status == 1 && notATree.stderr.hasPrefix("error: 'vendor' (swbpf.toml [libbpf] source) is not a libbpf source tree: it has no src/Makefile and src/libbpf.map"),
                "\(notATree.stderr)")
    }

    @Test func anEmptySubmoduleIsANoteThatSaysHowToCheckItOutNotASilentFallBack() throws {
        let base = try TemporaryProject("not-recursive")
        try FileManager.default.createDirectory(atPath: base.path + "/.git", withIntermediateDirectories: true)
        let project = try TemporaryProject(nested: base.path + "/examples/c")
        try FileManager.default.createDirectory(atPath: base.path + "/libbpf", withIntermediateDirectories: true)
        try project.write("x.bpf.c", "char LICENSE[] __attribute__((section(\"license\"))) = \"GPL\";\n")
        try project.write("x.c", "int main(void) { return 0; }\n")
        let result = try project.swbpf("build", "-n")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.lines.first == "note: '../../libbpf' is empty: the libbpf submodule is not checked out (the repository was cloned without --recursive): not used; run 'git submodule update --init --recursive' in the repository",
                "\(result.stderr)")
        #expect(result.stderr.lines.dropFirst().first?.hasPrefix("note: libbpf 1.1") == true
                && result.stderr.lines.dropFirst().first?.contains(" from the system, ") == true, "\(result.stderr)")

        // bpftool's own libbpf submodule, empty.
        try FileManager.default.removeItem(atPath: base.path + "/libbpf")
        try SharedSources.copyTree("bpftool", to: base.path + "/bpftool")
        try FileManager.default.removeItem(atPath: base.path + "/bpftool/libbpf")
        try FileManager.default.createDirectory(atPath: base.path + "/bpftool/libbpf", withIntermediateDirectories: true)
        let nested = try project.swbpf("build", "-n")
        #expect(nested.status == 0 && nested.stderr.hasPrefix("note: '../../bpftool/libbpf' is empty: the bpftool's libbpf submodule is not checked out"),
                "\(nested.stderr)")
        #expect(!nested.stdout.contains("make "), "\(nested.stdout)")

        // Named in swbpf.toml, the user's choice, an empty tree is an error.
        try project.write("swbpf.toml", "[bpftool]\nsource = \"../../bpftool\"\n")
        let named = try project.swbpf("build", "-n")
        #expect(named.status == 1 && named.stderr.hasPrefix("error: '../../bpftool/libbpf' is empty: the bpftool's libbpf submodule is not checked out"),
                "\(named.stderr)")
    }
}

/// The parts of the issue that need no source tree.
@Suite struct SourceTreeChoiceTests {
    @Test func vmlinuxWithArchIsForKernelPartsOnly() throws {
        let project = try TemporaryProject("vmlinux-arch")
        let added = try project.swbpf("add", "tracer", "--template", "minimal")
        #expect(added.status == 0, "\(added.output)")
        try FileManager.default.createDirectory(atPath: project.path("vmlinux/\(hostTargetArch)"), withIntermediateDirectories: true)
        let header = try runProcess("/usr/sbin/bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"])
        try header.stdout.write(toFile: project.path("vmlinux/\(hostTargetArch)/vmlinux.h"), atomically: true, encoding: .utf8)
        try project.write("swbpf.toml", "vmlinux = \"vmlinux/{arch}/vmlinux.h\"\n")
        let build = try project.swbpf("build", "-v")
        #expect(build.status == 0, "\(build.output)")
        let lines = build.stdout.lines
        #expect(lines.filter { $0.contains(" -target bpf ") }.allSatisfy { $0.contains(" -Ivmlinux/\(hostTargetArch) ") }, "\(build.stdout)")
        #expect(lines.filter { $0.hasPrefix("cc ") && $0.contains(" -c ") }.allSatisfy { !$0.contains("vmlinux/") }, "\(build.stdout)")
        #expect(!lines.contains { $0.contains("btf dump") })
    }
}
