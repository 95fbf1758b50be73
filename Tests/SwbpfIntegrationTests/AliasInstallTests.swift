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

/// What the other real projects need (libbpf-tools' aliases and `make install`), and how a build
/// with a failing app ends: through the real executable, with the system's libbpf.
@Suite(.timeLimit(.minutes(20))) struct AliasInstallTests {
    func writeApp(_ project: TemporaryProject, _ app: String, kernelBody: String = "return 0;") throws {
        try project.write("\(app).bpf.c", """
            #include "vmlinux.h"
            #include <bpf/bpf_helpers.h>

            char LICENSE[] SEC("license") = "GPL";

            SEC("tp/syscalls/sys_enter_getpid")
            int on_getpid(void *ctx)
            {
            \t\(kernelBody)
            }

            """)
        try project.write("\(app).c", """
            #include <stdio.h>
            #include <bpf/libbpf.h>
            #include "\(app).skel.h"

            int main(int argc, char **argv)
            {
            \tprintf("%s\\n", argv[0]);
            \treturn 0;
            }

            """)
    }

    func linkTarget(_ path: String) -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: path) }

    @Test func aliasesAreLinksBesideTheBinaryRemadeWithItAndCleaned() throws {
        let project = try TemporaryProject("aliases")
        try writeApp(project, "fsdist")
        try writeApp(project, "other")
        try project.write("swbpf.toml", """
            [app.fsdist]
            aliases = ["btrfsdist", "ext4dist"]

            """)
        let first = try project.swbpf("build")
        #expect(first.status == 0, "\(first.output)")
        #expect(first.stdout.lines.filter { $0.hasPrefix("  SYMLINK") } == [shortLine("SYMLINK", "btrfsdist"), shortLine("SYMLINK", "ext4dist")],
                "\(first.stdout)")
        #expect(linkTarget(project.path("btrfsdist")) == "fsdist" && linkTarget(project.path("ext4dist")) == "fsdist")
        // Run through the link, the program sees its alias as its name, as libbpf-tools' tools do.
        #expect(try project.runApp("btrfsdist").stdout == project.path("btrfsdist") + "\n")
        // vmlinux.h, the PCH, five steps per app and the two links.
        expectNothingToDo(try project.swbpf("build"), steps: 14)

        // Cleaning an app removes its aliases; building it makes them again.
        let clean = try project.swbpf("clean", "fsdist")
        #expect(clean.status == 0)
        #expect(linkTarget(project.path("btrfsdist")) == nil && linkTarget(project.path("ext4dist")) == nil && !project.exists("fsdist"),
                "\(clean.output)")
        #expect(project.exists("other"))
        let rebuilt = try project.swbpf("build", "-v", "fsdist")
        #expect(rebuilt.stdout.lines.suffix(2) == ["ln -sf fsdist btrfsdist", "ln -sf fsdist ext4dist"], "\(rebuilt.stdout)")

        try project.write("swbpf.toml", "[app.fsdist]\naliases = [\"../outside\"]\n")
        let refused = try project.swbpf("build")
        #expect(refused.status == 1 && refused.stderr.hasPrefix("error: swbpf.toml:2: key 'app.fsdist.aliases': '../outside' is not a file name"),
                "\(refused.stderr)")
    }

    @Test func installCopiesBinariesAndAliasesUnderDestdirAndThePrefix() throws {
        let project = try TemporaryProject("install")
        let destination = try TemporaryProject("destdir")
        try writeApp(project, "fsdist")
        try project.write("swbpf.toml", "[app.fsdist]\naliases = [\"btrfsdist\"]\n")
        let installed = try project.swbpf("install", "--prefix", "/usr", environment: ["DESTDIR": destination.path])
        #expect(installed.status == 0, "\(installed.output)")
        let bin = destination.path + "/usr/bin"
        #expect(installed.stdout.lines.suffix(2) == ["  INSTALL  \(bin)/fsdist", "  SYMLINK  \(bin)/btrfsdist"], "\(installed.stdout)")
        #expect(FileManager.default.isExecutableFile(atPath: bin + "/fsdist"))
        let mode = (try FileManager.default.attributesOfItem(atPath: bin + "/fsdist")[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o755, "mode \(String(mode, radix: 8))")
        #expect(FileManager.default.contents(atPath: bin + "/fsdist") == project.data("fsdist"))
        #expect(linkTarget(bin + "/btrfsdist") == "fsdist")
        #expect(allFiles(under: destination.path).allSatisfy { !$0.contains("swbpf-tmp") })

        // Again: the build is a no-op and the install replaces the files in place.
        let again = try project.swbpf("install", "--prefix", "/usr", environment: ["DESTDIR": destination.path])
        #expect(again.status == 0 && again.stdout.lines.first?.hasPrefix("swbpf: nothing to do") == true, "\(again.output)")
        #expect(linkTarget(bin + "/btrfsdist") == "fsdist")
        #expect(Installer.binDirectory(prefix: "/usr/local", destdir: nil) == "/usr/local/bin")
        #expect(Installer.binDirectory(prefix: "usr", destdir: "/tmp/stage/") == "/tmp/stage/usr/bin")
    }

    @Test func anAppThatFailsEarlyLeavesTheOthersBuiltAndMinusKBuildsThemAll() throws {
        let project = try TemporaryProject("fails-early")
        for app in ["alpha", "beta", "gamma"] { try writeApp(project, app) }
        try writeApp(project, "zulu", kernelBody: "return this_is_not_declared;")
        let stopped = try project.swbpf("build", "-j", "2")
        #expect(stopped.status == 1)
        for app in ["alpha", "beta", "gamma"] { #expect(project.isExecutable(app), "\(app) has no binary when the build stops:\n\(stopped.output)") }
        #expect(!project.exists("zulu"))
        #expect(stopped.stderr.lines.last == "swbpf: 1 step failed: BPF .output/zulu.tmp.bpf.o; 4 steps not run because of it", "\(stopped.stderr)")

        // The failing app first: the build stops before the others are started, and says what -k builds.
        try FileManager.default.removeItem(atPath: project.path(".output"))
        for app in ["alpha", "beta", "gamma"] { try FileManager.default.removeItem(atPath: project.path(app)) }
        try FileManager.default.moveItem(atPath: project.path("zulu.bpf.c"), toPath: project.path("aaa.bpf.c"))
        try project.write("aaa.c", try project.read("zulu.c").replacingOccurrences(of: "zulu", with: "aaa"))
        try FileManager.default.removeItem(atPath: project.path("zulu.c"))
        let first = try project.swbpf("build", "-j", "1")
        #expect(first.status == 1)
        #expect(first.stderr.lines.last == "swbpf: 1 step failed: BPF .output/aaa.tmp.bpf.o; 19 steps not run because of it; -k builds the 3 apps that do not depend on it",
                "\(first.stderr)")
        let kept = try project.swbpf("build", "-k", "-j", "1")
        #expect(kept.status == 1)
        for app in ["alpha", "beta", "gamma"] { #expect(project.isExecutable(app), "-k did not build \(app):\n\(kept.output)") }
        #expect(kept.stderr.lines.last == "swbpf: 1 step failed: BPF .output/aaa.tmp.bpf.o; 4 steps not run because of it", "\(kept.stderr)")
    }

    /// The apps a summary line names in each list (`finished: a, b; failed: c (BPF …); not started: d`).
    static func appLists(_ line: String) -> [String: [String]] {
        var lists: [String: [String]] = [:]
        for part in line.dropFirst("swbpf: ".count).components(separatedBy: "; ") {
            guard let colon = part.range(of: ": ") else { continue }
            lists[String(part[..<colon.lowerBound])] = part[colon.upperBound...].components(separatedBy: ", ")
                .map { $0.components(separatedBy: " (").first ?? $0 }
        }
        return lists
    }

    /// Built cold and then with every other app in the shared cache, without -k, a build with one
    /// failing app names each app's outcome (console, -q and JSON), and the binaries on disk are
    /// exactly the finished ones, whatever was under way when the failure came.
    @Test func aFailureWithoutMinusKNamesTheFinishedAppsAsTheyAreOnDisk() throws {
        let project = try TemporaryProject("failure-outcome")
        let cache = try TemporaryProject("failure-outcome-cache")
        let environment = ["SWBPF_CACHE_DIR": cache.path]
        let apps = ["alpha", "beta", "gamma", "delta", "epsilon"]
        for app in apps { try writeApp(project, app) }
        try writeApp(project, "mid", kernelBody: "return this_is_not_declared;")
        func checkAgainstDisk(_ finished: [String], failed: [String], leftUnbuilt: [String], _ output: String) {
            #expect(failed == ["mid"], "\(output)")
            #expect(Set(finished + leftUnbuilt) == Set(apps) && finished.count + leftUnbuilt.count == apps.count, "\(output)")
            for app in finished { #expect(project.isExecutable(app), "\(app) is named finished but has no binary:\n\(output)") }
            for app in leftUnbuilt + failed { #expect(!project.exists(app), "\(app) is not named finished but has a binary:\n\(output)") }
        }
        func checkConsole(_ result: RunResult) {
            #expect(result.status == 1)
            let lines = result.stderr.lines
            #expect(lines.last?.hasPrefix("swbpf: 1 step failed: BPF .output/mid.tmp.bpf.o") == true, "\(result.stderr)")
            let lists = Self.appLists(lines.dropLast().last ?? "")
            let finished = lists["finished"] ?? []
            #expect(lists["failed"] == ["mid"] && lists.keys.allSatisfy { ["finished", "failed", "stopped part-way", "not started"].contains($0) },
                    "\(result.stderr)")
            checkAgainstDisk(finished, failed: lists["failed"] ?? [], leftUnbuilt: (lists["stopped part-way"] ?? []) + (lists["not started"] ?? []),
                             result.output)
        }
        checkConsole(try project.swbpf("build", "-j", "2", environment: environment))

        // Every other app into the cache, then from a clean tree: restores decide quickly, and
        // the summary still matches the disk.
        #expect(try project.swbpf("build", "-k", environment: environment).status == 1)
        #expect(apps.allSatisfy(project.isExecutable))
        #expect(try project.swbpf("clean").status == 0)
        let quiet = try project.swbpf("build", "-q", "-j", "2", environment: environment)
        #expect(quiet.stdout.isEmpty, "\(quiet.stdout)")
        checkConsole(quiet)

        #expect(try project.swbpf("clean").status == 0)
        let json = try project.swbpf("build", "-j", "2", "--format", "json", environment: environment)
        #expect(json.status == 1)
        let validator = try EventSchemaTests.schema()
        let done = try #require(json.stdout.lines.last)
        #expect(validator.problems(try JSONValue.parse(done), validator.root).isEmpty, "\(done)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(done.utf8)) as? [String: Any])
        let outcome = try #require(object["apps"] as? [String: Any], "\(done)")
        let failed = (outcome["failed"] as? [[String: Any]] ?? []).compactMap { $0["app"] as? String }
        checkAgainstDisk(outcome["finished"] as? [String] ?? [], failed: failed,
                         leftUnbuilt: (outcome["stoppedPartWay"] as? [String] ?? []) + (outcome["notStarted"] as? [String] ?? []), done)
    }

    @Test func anAppThatNeedsBlazesymIsLeftOutUnlessItIsThereOrAskedFor() throws {
        let project = try TemporaryProject("blazesym")
        try writeApp(project, "other")
        try SourceTreeApps.writeBlazesymApp(project)
        let dry = try project.swbpf("build", "-n")
        #expect(dry.status == 0 && !dry.stdout.contains("profile"), "\(dry.output)")
        #expect(dry.stderr.lines == ["note: profile is left out: profile.c includes blazesym.h, which is on no include path: it needs blazesym, a Rust library (libbpf-bootstrap builds it from its blazesym submodule with cargo); once built, add its capi/include directory to 'include' and its libblazesym_c.a to the app's 'libs' in swbpf.toml; 'swbpf build profile' tries anyway"],
                "\(dry.stderr)")
        let named = try project.swbpf("build", "-n", "profile")
        #expect(named.status == 0 && named.stdout.contains("-c profile.c"), "\(named.output)")

        // With the header on an include path, the app is part of the build.
        try project.write("blazesym/capi/include/blazesym.h", "/* blazesym's C API */\n")
        try project.write("swbpf.toml", "include = [\"blazesym/capi/include\"]\n")
        let found = try project.swbpf("build", "-n")
        #expect(found.stdout.contains("-c profile.c") && found.stderr.isEmpty, "\(found.output)")
    }

    /// Issue 21 item 5: the preprocessor decides, with the app's flags, whether an app includes an
    /// optional header; the note comes once per change; a named left-out app fails with the real error.
    @Test func theOptionalHeaderIsWhatThePreprocessorIncludesNotATextMatch() throws {
        let project = try TemporaryProject("ifdef-blazesym")
        try SourceTreeApps.writeBlazesymApp(project)
        try SourceTreeApps.writeBlazesymApp(project, name: "guarded")
        try project.write("guarded.c", """
            #include <bpf/libbpf.h>
            #include "guarded.skel.h"
            #ifdef USE_BLAZESYM
            #include "blazesym.h"
            #endif

            int main(void)
            {
            \treturn 0;
            }

            """)
        let note = "note: profile is left out: profile.c includes blazesym.h, which is on no include path: it needs blazesym, a Rust library (libbpf-bootstrap builds it from its blazesym submodule with cargo); once built, add its capi/include directory to 'include' and its libblazesym_c.a to the app's 'libs' in swbpf.toml; 'swbpf build profile' tries anyway"
        let first = try project.swbpf("build")
        #expect(first.status == 0 && project.isExecutable("guarded") && !project.exists("profile"), "\(first.output)")
        #expect(first.stderr.lines == [note], "\(first.stderr)")
        let again = try project.swbpf("build")
        #expect(again.status == 0 && again.stderr.isEmpty && again.stdout.hasPrefix("swbpf: nothing to do"), "\(again.output)")
        let install = try project.swbpf("install", "--prefix", project.path("prefix"))
        #expect(install.status == 0 && project.exists("prefix/bin/guarded") && !project.exists("prefix/bin/profile"), "\(install.output)")

        // Named, the left-out app is built: here it fails with the compiler's own error, and no note says it is left out.
        let named = try project.swbpf("build", "profile")
        #expect(named.status == 1 && named.stderr.contains("fatal error: 'blazesym.h' file not found")
                || named.stderr.contains("blazesym.h: No such file or directory"), "\(named.stderr)")
        #expect(!named.stderr.contains("is left out"), "\(named.stderr)")

        // With the define, the guarded app includes it too, and is left out with its own note.
        try project.write("swbpf.toml", "[app.guarded]\ncflags = [\"-DUSE_BLAZESYM\"]\n")
        let defined = try project.swbpf("build")
        #expect(defined.status == 0 && defined.stderr.lines.contains { $0.hasPrefix("note: guarded is left out: guarded.c includes blazesym.h") },
                "\(defined.output)")
    }

    /// Issue 21 item 5 in the views: explain, compdb, -n (human and JSON) and install make the
    /// build's one decision, asking the preprocessor themselves before any build has: the guarded
    /// app is in each, the app that includes blazesym.h unconditionally in none, with one note.
    @Test func everyViewLeavesOutTheAppsTheBuildLeavesOut() throws {
        let project = try TemporaryProject("views-blazesym")
        try SourceTreeApps.writeBlazesymApp(project)
        try SourceTreeApps.writeBlazesymApp(project, name: "guarded")
        try project.write("guarded.c", "#include <bpf/libbpf.h>\n#include \"guarded.skel.h\"\n#ifdef USE_BLAZESYM\n#include \"blazesym.h\"\n#endif\nint main(void) { return 0; }\n")
        let note = "note: profile is left out: profile.c includes blazesym.h"
        func expectOneNote(_ result: RunResult, _ view: String) {
            #expect(result.status == 0, "\(view): \(result.output)")
            #expect(result.stderr.lines.count == 1 && result.stderr.hasPrefix(note), "\(view): \(result.stderr)")
        }
        for round in ["before any build", "with the cached answers"] {
            let explain = try project.swbpf("explain")
            expectOneNote(explain, "explain, \(round)")
            #expect(explain.stdout.contains("guarded.c") && !explain.stdout.contains("profile.c"), "\(round): \(explain.stdout)")
            let compdb = try project.swbpf("compdb")
            expectOneNote(compdb, "compdb, \(round)")
            let database = try project.read("compile_commands.json")
            #expect(database.contains("\"guarded.c\"") && !database.contains("profile.c"), "\(round): \(database)")
            let json = try project.swbpf("build", "-n", "--format", "json")
            let plan = try #require(json.stdout.lines.first { $0.contains("\"event\":\"plan\"") })
            #expect(plan.contains("\"app\":\"guarded\"") && !plan.contains("\"app\":\"profile\""), "\(round): \(plan)")
            let notes = json.stdout.lines.filter { $0.contains("\"diagnostic\"") && $0.contains("profile is left out") }.count
            // The build's note comes once per change: the install below has shown it.
            #expect(notes == (round == "before any build" ? 1 : 0), "\(round): \(json.stdout)")
            guard round == "before any build" else { continue }
            let dry = try project.swbpf("build", "-n")
            expectOneNote(dry, "-n")
            #expect(dry.stdout.contains("-c guarded.c") && !dry.stdout.contains("profile.c"), "\(dry.stdout)")
            let install = try project.swbpf("install", "--prefix", project.path("prefix"))
            expectOneNote(install, "install")
            #expect(project.exists("prefix/bin/guarded") && !project.exists("prefix/bin/profile"), "\(install.output)")
        }
        // Named, each view covers the app, with no note.
        let named = try project.swbpf("explain", "profile")
        #expect(named.status == 0 && named.stdout.contains("profile.c") && named.stderr.isEmpty, "\(named.output)")
    }
}
