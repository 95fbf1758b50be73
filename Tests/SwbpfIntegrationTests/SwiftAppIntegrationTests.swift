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

/// Swift apps built with the real swiftc, clang and bpftool, and loaded into this kernel.
@Suite struct SwiftAppIntegrationTests {
    /// A new project from the minimal template with its user space in Swift.
    func newSwiftProject(_ label: String, name: String) throws -> TemporaryProject {
        let project = try TemporaryProject(label)
        let created = try Swbpf.run(["new", "--lang", "swift", "--name", name, project.path], in: project.path)
        #expect(created.status == 0, "swbpf new --lang swift failed: \(created.output)")
        return project
    }

    /// The labels and outputs of the steps a build ran, as `LABEL OUTPUT`.
    func ranSteps(_ result: RunResult) -> [String] {
        result.stdout.lines.filter { $0.hasPrefix("  ") }.map { $0.split(separator: " ").joined(separator: " ") }
    }

    @Test func theSwiftMinimalBuildsLoadsRunsAndRebuildsNothing() throws {
        let project = try newSwiftProject("swift-minimal", name: "hello")
        #expect(project.exists("hello.swift") && !project.exists("hello.c"))
        let build = try project.swbpf("build", "--compdb")
        #expect(build.status == 0, "build failed: \(build.output)")
        let ran = ranSteps(build)
        #expect(Set(ran).isSuperset(of: ["SWIFTGEN .output/swift/hello/module.modulemap", "SWIFTGEN .output/swift/hello/Chello.h",
                                         "SWIFTGEN .output/swift/hello/output-file-map.json", "SWIFTC .output/swift/hello/hello.swift.o", "BINARY hello"]),
                "\(build.stdout)")
        #expect(ran.suffix(2) == ["SWIFTC .output/swift/hello/hello.swift.o", "BINARY hello"], "\(build.stdout)")
        // The one C compile is the helper every template calls (custom_btf.c).
        #expect(ran.filter { $0.hasPrefix("CC ") } == ["CC .output/custom_btf.o"], "\(build.stdout)")
        let loaded = try project.runApp("hello", ["--load-only"])
        #expect(loaded.status == 0 && loaded.stdout == "hello: loaded 1 programs (verifier accepted)\n", "\(loaded.output)")
        let run = try project.runApp("hello", ["-d", "1"])
        #expect(run.status == 0 && run.stdout.hasPrefix("hello: watching write(2) calls of pid "), "\(run.output)")
        #expect(run.stderr.hasPrefix("."), "the loop's write(2) on stderr: \(run.stderr)")
        let refused = try project.runApp("hello", ["--bogus"])
        #expect(refused.status == 2 && refused.stderr.contains("unrecognized option '--bogus'") && refused.stderr.contains("Usage:"))

        expectNothingToDo(try project.swbpf("build"), steps: 11)
        #expect(project.exists(".output/swift/hello/hello.autolink") && !project.exists(".output/swift/main/main.autolink"), "each link names its own autolink file")

        // A support file that was edited is written again; one that was only touched is rewritten
        // with the same bytes and left as it is. Neither recompiles.
        try project.append(".output/swift/hello/Chello.h", "/* edited */\n")
        let restored = try project.swbpf("build")
        #expect(ranSteps(restored) == ["SWIFTGEN .output/swift/hello/Chello.h"], "\(restored.output)")
        #expect(try !project.read(".output/swift/hello/Chello.h").contains("edited"))
        let map = project.path(".output/swift/hello/module.modulemap")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000_000)], ofItemAtPath: map)
        let touched = try project.swbpf("build")
        #expect(ranSteps(touched) == ["SWIFTGEN .output/swift/hello/module.modulemap"], "\(touched.output)")
        let seconds = modificationTime(map).map { $0 / 1_000_000_000 }
        #expect(seconds == 1_000_000_000, "identical bytes leave the file untouched")
        expectNothingToDo(try project.swbpf("build"), steps: 11)

        let database = try JSONSerialization.jsonObject(with: try #require(project.data("compile_commands.json"))) as? [[String: Any]] ?? []
        let swiftEntry = try #require(database.first { $0["file"] as? String == "hello.swift" })
        let arguments = swiftEntry["arguments"] as? [String] ?? []
        #expect(arguments.first == "swiftc" && arguments.contains("-wmo") && arguments.contains("hello.swift"))
        #expect(swiftEntry["directory"] as? String == project.path)
    }

    /// The Swift minimal does what its C twin's test asserts: the watching line, a dot per second,
    /// and a bpf_printk() line in the trace buffer for its own writes; and Ctrl-C exits with 0.
    @Test func theSwiftMinimalLogsItsWritesLikeItsCTwinAndStopsCleanlyOnSIGINT() async throws {
        let project = try newSwiftProject("swift-minimal-run", name: "swmin")
        let build = try project.swbpf("build")
        #expect(build.status == 0, "build failed: \(build.output)")
        let trace = try TemplatePrintkBuffer()
        let child = try TemplateChild(project.path("swmin"), ["-d", "3"], in: project.path)
        let pid = child.pid
        let run = await child.finish(timeout: 20)
        #expect(run.exitedWith0, "swmin -d 3: \(run)")
        #expect(run.stdout == "swmin: watching write(2) calls of pid \(pid); read /sys/kernel/tracing/trace_pipe\n", "\(run)")
        #expect(TemplateHarness.match(run.stderr, #"\.+\n"#) != nil, "\(run)")
        let contents = try trace.contents()
        let ours = TemplateHarness.matches(contents,
            #"\s*(?:swmin|<\.\.\.>)-\#(pid)\s+\[\d+\]\s+\S+\s+\d+\.\d+: bpf_trace_printk: BPF triggered from PID \#(pid)\."#)
        #expect(ours.count >= 3, "expected 'BPF triggered from PID \(pid).' for each write; the trace has:\n\(contents.suffix(3000))")

        let interrupted = try TemplateChild(project.path("swmin"), [], in: project.path)
        #expect(await interrupted.waitForLine(#"swmin: watching write\(2\) calls of pid \d+; read /sys/kernel/tracing/trace_pipe"#) != nil)
        kill(interrupted.pid, SIGINT)
        let stopped = await interrupted.finish(timeout: 10)
        #expect(stopped.exitedWith0, "SIGINT must take the clean exit path: \(stopped)")

        // A Ctrl-C during start-up (while libbpf loads) is kept pending, not lost: the app still
        // stops, through the same clean exit.
        let early = try TemplateChild(project.path("swmin"), [], in: project.path)
        try await Task.sleep(for: .milliseconds(30))
        kill(early.pid, SIGINT)
        let earlyStop = await early.finish(timeout: 10)
        #expect(earlyStop.exitedWith0, "an early SIGINT: \(earlyStop)")
    }

    @Test func anEditRebuildsOnlyItsAppAndAKernelEditRegeneratesTheSkeletonForTheSwiftCompile() throws {
        let project = try newSwiftProject("swift-two-apps", name: "first")
        let added = try project.swbpf("add", "--lang", "swift", "second")
        #expect(added.status == 0, "\(added.output)")
        let build = try project.swbpf("build")
        #expect(build.status == 0, "\(build.output)")
        expectNothingToDo(try project.swbpf("build"), steps: 19)

        try project.append("first.swift", "\n// an edit\nfunc added() -> Int { 1 }\n")
        let edited = try project.swbpf("build")
        #expect(edited.status == 0, "\(edited.output)")
        #expect(ranSteps(edited) == ["SWIFTC .output/swift/first/first.swift.o", "BINARY first"], "\(edited.stdout)")

        try project.write("second.bpf.c", try project.read("second.bpf.c").replacing("BPF triggered from PID %d.", with: "second saw PID %d."))
        let kernelEdit = try project.swbpf("build")
        #expect(kernelEdit.status == 0, "\(kernelEdit.output)")
        #expect(ranSteps(kernelEdit) == ["BPF .output/second.tmp.bpf.o", "GEN-OBJ .output/second.bpf.o", "GEN-SKEL .output/second.skel.h",
                                         "SWIFTC .output/swift/second/second.swift.o", "BINARY second"], "\(kernelEdit.stdout)")
        let loaded = try project.runApp("second", ["--load-only"])
        #expect(loaded.status == 0, "\(loaded.output)")

        // clean leaves nothing of either app: no module map, no module cache, no autolink file.
        let cleaned = try project.swbpf("clean")
        #expect(cleaned.status == 0, "\(cleaned.output)")
        #expect(!project.exists(".output"), "left after clean: \(allFiles(under: project.path(".output")))")
    }

    @Test func anEditedLibbpfHeaderRecompilesTheSwiftModule() throws {
        let archive = "/usr/lib/x86_64-linux-gnu/libbpf.a"
        guard FileManager.default.fileExists(atPath: archive), FileManager.default.fileExists(atPath: "/usr/include/bpf/libbpf.h") else {
            print("skipped: no libbpf-dev at /usr/lib/x86_64-linux-gnu")
            return
        }
        let project = try newSwiftProject("swift-libbpf-header", name: "watcher")
        // A copy of libbpf's headers inside the project: the test edits the copy, never the system's.
        try FileManager.default.createDirectory(atPath: project.path("libbpf-headers"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/usr/include/bpf", toPath: project.path("libbpf-headers/bpf"))
        try project.append("swbpf.toml", "\n[libbpf]\narchive = \"\(archive)\"\ninclude = \"libbpf-headers\"\n")
        let build = try project.swbpf("build", "-v")
        #expect(build.status == 0, "\(build.output)")
        #expect(build.stdout.contains("-Xcc -Ilibbpf-headers"), "the Swift compile searches libbpf's headers as the C compiles do: \(build.stdout)")
        expectNothingToDo(try project.swbpf("build"), steps: 11)

        try project.append("libbpf-headers/bpf/libbpf.h", "\n/* edited by the test */\n")
        let rebuilt = try project.swbpf("build")
        #expect(rebuilt.status == 0, "\(rebuilt.output)")
        #expect(ranSteps(rebuilt).contains("SWIFTC .output/swift/watcher/watcher.swift.o"), "\(rebuilt.stdout)")
    }

    @Test func theStaticBinaryRunsWithTheSwiftToolchainHiddenAndTheDebugOneDoesNot() throws {
        guard Kernel.isRoot, FileManager.default.fileExists(atPath: "/opt/swift") else {
            print("skipped: hiding /opt/swift needs root (a private mount namespace) and a toolchain there")
            return
        }
        let project = try newSwiftProject("swift-static", name: "alone")
        let build = try project.swbpf("build")
        #expect(build.status == 0, "\(build.output)")
        // An empty tmpfs over /opt/swift in a mount namespace of its own, then the binary.
        func runHidden(_ binary: String) throws -> RunResult {
            try runProcess("/usr/bin/unshare", ["-m", "--propagation", "private", "/bin/sh", "-c",
                                                "mount -t tmpfs swbpf-test-empty /opt/swift && ls -A /opt/swift && exec \"$0\" --load-only", binary],
                           in: project.path)
        }
        let hidden = try runHidden(project.path("alone"))
        #expect(hidden.status == 0 && hidden.stdout == "alone: loaded 1 programs (verifier accepted)\n", "\(hidden.output)")

        let debug = try project.swbpf("build", "-v", environment: ["SWIFT_DEBUG": "1"])
        #expect(debug.status == 0, "\(debug.output)")
        #expect(debug.stdout.contains(" -Onone -g ") && !debug.stdout.contains("-static-stdlib"), "\(debug.stdout)")
        #expect(try project.runApp("alone", ["--load-only"]).status == 0, "the debug binary runs where the toolchain is")
        let dynamic = try runHidden(project.path("alone"))
        #expect(dynamic.status != 0 && dynamic.stderr.contains("libswift"), "hiding /opt/swift hides the dynamic runtime: \(dynamic.output)")
    }

    /// --static links the whole Swift binary statically; a build for another machine leaves the
    /// Swift app out with a note, and naming it is an error that says why.
    @Test func staticAndOtherMachineBuilds() throws {
        let project = try newSwiftProject("swift-static-arch", name: "lone")
        let build = try project.swbpf("build", "--static", "-v")
        #expect(build.status == 0, "\(build.output)")
        #expect(build.stdout.contains("swiftc -static-executable -module-name lone "), "\(build.stdout)")
        let kind = try runProcess("/usr/bin/file", [project.path("lone")])
        #expect(kind.stdout.contains("statically linked"), "\(kind.stdout)")
        #expect(try project.runApp("lone", ["--load-only"]).stdout == "lone: loaded 1 programs (verifier accepted)\n")

        guard CrossPackages.missing.isEmpty else {
            print("skipped the arm64 part: the arm64 cross toolchain is not installed (missing: \(CrossPackages.missing.joined(separator: ", ")))")
            return
        }
        // A vmlinux.h for the header the arm64 build asks for: this machine's will do for planning.
        let header = project.path(".output/vmlinux.h")
        let other = try project.swbpf("build", environment: ["ARCH": "arm64", "VMLINUX": header])
        #expect(other.status == 0 && other.stderr.contains("note: lone is a Swift app, which swbpf cannot build for arm64; building the other apps"),
                "\(other.output)")
        #expect(!project.exists("arm64/lone"))
        // A build that leaves its Swift apps out needs no swiftc: a missing one is not looked for.
        let withoutSwiftc = try project.swbpf("build", environment: ["ARCH": "arm64", "VMLINUX": header, "SWIFTC": "/nonexistent/swiftc"])
        #expect(withoutSwiftc.status == 0, "\(withoutSwiftc.output)")
        let named = try project.swbpf("build", "lone", environment: ["ARCH": "arm64", "VMLINUX": header])
        #expect(named.status != 0 && named.stderr.contains("error: lone is a Swift app, and the build is for arm64 (from ARCH)"), "\(named.output)")
    }

    @Test func theViewsShowTheSwiftSteps() throws {
        let project = try newSwiftProject("swift-views", name: "view")
        let dryRun = try project.swbpf("build", "-n", "-v")
        #expect(dryRun.status == 0, "\(dryRun.output)")
        #expect(dryRun.stdout.lines.contains { matchesShape($0, "swiftc -c -wmo -parse-as-library -swift-version 6 -O -file-prefix-map {} -module-name view {...} view.swift -o .output/swift/view/view.swift.o") },
                "\(dryRun.stdout)")
        #expect(!project.exists(".output/swift"), "a dry run writes nothing")
        let json = try project.swbpf("build", "--format", "json")
        #expect(json.status == 0, "\(json.output)")
        let events = json.stdout.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let planned = events.first { $0["event"] as? String == "plan" }?["steps"] as? [[String: Any]] ?? []
        #expect(Set(planned.compactMap { $0["kind"] as? String }).isSuperset(of: ["swiftSupport", "swiftCompile", "swiftLink"]))
        let compiled = events.first { $0["event"] as? String == "finished" && $0["label"] as? String == "SWIFTC" }
        #expect(compiled?["status"] as? String == "succeeded" && (compiled?["argv"] as? [String])?.first == "swiftc", "\(json.stdout.prefix(3000))")
        let explain = try project.swbpf("explain")
        #expect(explain.status == 0 && explain.stdout.contains("whole-module") && explain.stdout.contains("module map"), "\(explain.output)")
    }

    /// A NAME/ folder of Swift files, with `bin` elsewhere, calling a C helper that its shared
    /// header includes: the helper is compiled with cc and linked into the Swift binary.
    @Test func aFolderAppCallsACHelperThroughItsSharedHeader() throws {
        let project = try newSwiftProject("swift-folder-helper", name: "multi")
        try FileManager.default.createDirectory(atPath: project.path("multi"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: project.path("multi.swift"), toPath: project.path("multi/main.swift"))
        // The second file gives --load-only's line, so the module really is both files.
        try project.write("multi/main.swift", try project.read("multi/main.swift")
            .replacing("print(\"multi: loaded \\(programs) programs (verifier accepted)\")", with: "print(loadedLine(programs))"))
        try project.write("multi/lines.swift", """
            @preconcurrency import Cmulti

            func loadedLine(_ programs: Int) -> String {
                "multi: loaded \\(programs) programs (verifier accepted), helper says \\(helper_answer())"
            }

            """)
        try project.write("multi.h", "#ifndef MULTI_H\n#define MULTI_H\n#include \"helper.h\"\n#endif\n")
        try project.write("helper.h", "int helper_answer(void);\n")
        try project.write("helper.c", "#include \"helper.h\"\nint helper_answer(void) { return 42; }\n")
        try project.append("swbpf.toml", "\nbin = \"bin\"\n")
        let build = try project.swbpf("build", "-v")
        #expect(build.status == 0, "\(build.output)")
        #expect(build.stdout.contains("multi/lines.swift multi/main.swift -o .output/swift/multi/multi.swift.o"), "\(build.stdout)")
        // With the templates' custom_btf.c, which every Swift app links.
        #expect(build.stdout.contains(".output/swift/multi/multi.swift.o .output/custom_btf.o .output/helper.o "), "the helper is linked: \(build.stdout)")
        let loaded = try runProcess(project.path("bin/multi"), ["--load-only"], in: project.path)
        #expect(loaded.status == 0 && loaded.stdout == "multi: loaded 1 programs (verifier accepted), helper says 42\n", "\(loaded.output)")
    }

    /// The commands `build -v` prints rebuild every product byte for byte when run with `sh -e`,
    /// in a directory whose name needs quoting (given the directories the products go in, as the
    /// C test is given the output directory). The one exception is swiftc's `.swift_modhash`, an
    /// MD5 of the module that covers the path the object is written to (swbpf's is a temporary
    /// directory beside it): the object and the binary are compared without that section (and the
    /// binary without its build id, a hash of the whole file).
    @Test func printedSwiftCommandsReproduceEveryProductByteForByte() throws {
        let project = try TemporaryProject("it's swift")
        let created = try Swbpf.run(["new", "--lang", "swift", "--name", "quoted", project.path], in: project.path)
        #expect(created.status == 0, "\(created.output)")
        let build = try project.swbpf("build", "-v")
        #expect(build.status == 0, "build failed: \(build.output)")
        let commands = build.stdout.lines
        #expect(commands.allSatisfy { ["mkdir -p ", "printf ", "swiftc ", "clang ", "cc ", "bpftool ", "/usr/sbin/bpftool "].contains(where: $0.hasPrefix) },
                "stdout of -v holds something other than a command: \(build.stdout)")
        let products = [".output/vmlinux.h", ".output/vmlinux.h.pch", ".output/quoted.tmp.bpf.o", ".output/quoted.bpf.o", ".output/quoted.skel.h",
                        ".output/swift/quoted/module.modulemap", ".output/swift/quoted/Cquoted.h", ".output/swift/quoted/output-file-map.json",
                        ".output/swift/quoted/quoted.swift.o", "quoted"]
        var saved: [String: Data] = [:]
        for product in products { saved[product] = project.data(product) }
        #expect(saved.count == products.count, "missing products: \(products.filter { saved[$0] == nil })")
        try FileManager.default.removeItem(atPath: project.path(".output"))
        try FileManager.default.removeItem(atPath: project.path("quoted"))

        let script = try TemporaryProject("swift-script")
        try script.write("build.sh", commands.joined(separator: "\n") + "\n")
        let replay = try runProcess("/bin/sh", ["-e", script.path("build.sh")], in: project.path)
        #expect(replay.status == 0, "the printed commands failed under sh -e: \(replay.output)")
        func withoutModuleHash(_ bytes: Data?) throws -> Data? {
            guard let bytes else { return nil }
            let scratch = try TemporaryProject("modhash")
            try bytes.write(to: scratch.url("in"))
            let stripped = try runProcess("/usr/bin/objcopy", ["--remove-section=.swift_modhash", "--remove-section=.note.gnu.build-id",
                                                                          scratch.path("in"), scratch.path("out")])
            #expect(stripped.status == 0, "\(stripped.output)")
            return scratch.data("out")
        }
        for product in products {
            let hashed = product.hasSuffix(".swift.o") || product == "quoted"
            let original = hashed ? try withoutModuleHash(saved[product]) : saved[product]
            let replayed = hashed ? try withoutModuleHash(project.data(product)) : project.data(product)
            #expect(original != nil && original == replayed, "\(product) differs between swbpf and the printed commands")
        }
        let loaded = try project.runApp("quoted", ["--load-only"])
        #expect(loaded.status == 0, "\(loaded.output)")
    }

    @Test func errorsNameTheFilesAndTheTemplates() throws {
        let project = try newSwiftProject("swift-errors", name: "twice")
        try project.write("twice.c", "int main(void) { return 0; }\n")
        let both = try project.swbpf("build")
        #expect(both.status != 0 && both.stderr.contains("twice.c") && both.stderr.contains("twice.swift"), "\(both.output)")

        let refused = try Swbpf.run(["new", "--lang", "swift", "--template", "kprobe", project.path("kp")], in: project.path)
        #expect(refused.status != 0 && refused.stderr.contains("'kprobe' template has no Swift version")
                && refused.stderr.contains("minimal"), "\(refused.output)")
        #expect(!project.exists("kp"))
        try FileManager.default.removeItem(atPath: project.path("twice.c"))
        let missing = try project.swbpf("build", environment: ["SWIFTC": "/nonexistent/swiftc"])
        #expect(missing.status != 0 && missing.stderr.contains("swiftc not found, and twice is a Swift app (looked for: /nonexistent/swiftc)")
                && missing.stderr.contains("https://www.swift.org/install/linux/"), "\(missing.output)")
        // Off PATH, the swiftc of the toolchain whose runtime swbpf runs on (this test build's).
        let offPath = try project.swbpf("build", "-n", "-v", environment: ["PATH": "/usr/bin:/bin:/usr/sbin"])
        #expect(offPath.status == 0 && offPath.stdout.contains("/opt/swift/usr/bin/swiftc -c -wmo"), "\(offPath.output)")

        let listing = try Swbpf.run(["templates"], in: project.path)
        #expect(listing.stdout.contains("user space in: C, Swift (--lang swift)"), "\(listing.stdout)")
    }
}
