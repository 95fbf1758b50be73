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

/// Every way a build can go wrong, run through the real executable: the exit status, and a message
/// that says what went wrong, where, and how to fix it.
@Suite(.timeLimit(.minutes(20))) struct BuildErrorTests {
    /// A small, correct project: one app with a tracepoint kernel part.
    func tinyProject(_ label: String, app: String = "tiny") throws -> TemporaryProject {
        let project = try TemporaryProject(label)
        try writeApp(project, app)
        return project
    }

    func writeApp(_ project: TemporaryProject, _ app: String, kernelBody: String = "return 0;", userBody: String = "return 0;") throws {
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
            #include <bpf/libbpf.h>
            #include "\(app).skel.h"

            int main(void)
            {
            \t\(userBody)
            }

            """)
    }

    /// A failure of swbpf itself: status 1, nothing on stdout, and exactly `message` on stderr.
    func expectError(_ result: RunResult, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 1, "exit status \(result.status): \(result.output)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, "stdout: \(result.stdout)", sourceLocation: sourceLocation)
        #expect(result.stderr == message + "\n", "stderr was:\n\(result.stderr)\nexpected:\n\(message)", sourceLocation: sourceLocation)
    }

    // MARK: Tools and libraries

    @Test func missingClangNamesTheToolThePackageAndTheKnob() throws {
        let project = try tinyProject("no-clang")
        let result = try project.swbpf("build", environment: ["CLANG": "/nonexistent/clang"])
        expectError(result, """
            error: clang not found (looked for: /nonexistent/clang)
            help: install it with 'apt-get install clang llvm', or set CLANG to its path
            """)
        #expect(!project.exists(".output/vmlinux.h") && !project.exists("tiny"))
    }

    @Test func missingBpftoolNamesTheToolThePackageAndTheKnob() throws {
        let project = try tinyProject("no-bpftool")
        let result = try project.swbpf("build", environment: ["BPFTOOL": "/nonexistent"])
        expectError(result, """
            error: bpftool not found (looked for: /nonexistent)
            help: install it with 'apt-get install bpftool', or set BPFTOOL to its path
            """)
    }

    @Test func clangWithoutTheBPFTargetIsRefusedBeforeAnyStep() throws {
        let project = try tinyProject("no-bpf-target")
        let tools = try TemporaryProject("fake-clang")
        // Answers the two questions swbpf asks a clang, like a clang built without the BPF backend.
        try tools.write("clang", """
            #!/bin/sh
            case "$*" in
            *-print-targets*)
            \tprintf '  Registered Targets:\\n    x86    - 32-bit X86: Pentium-Pro and above\\n    x86-64 - 64-bit X86: EM_AMD64\\n'
            \texit 0 ;;
            *-E*)
            \tprintf 'Fake clang version 13.0.1\\n#include <...> search starts here:\\n /usr/include\\nEnd of search list.\\n' >&2
            \texit 0 ;;
            esac
            echo "fake clang: unexpected call: $*" >&2
            exit 1

            """)
        let clang = tools.path("clang")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: clang)
        let result = try project.swbpf("build", environment: ["CLANG": clang])
        expectError(result, """
            error: \(clang) (13.0.1) cannot generate eBPF code: 'bpf' is not among its targets ('\(clang) -print-targets')
            help: install Debian's clang (apt-get install clang llvm) or point CLANG at a clang built with the BPF target
            """)
        #expect(!project.exists(".output/vmlinux.h"), "a step ran although the toolchain was refused")
    }

    @Test func missingLibbpfArchiveNamesWhereItLookedAndHowToGetIt() throws {
        let project = try tinyProject("no-libbpf")
        let result = try project.swbpf("build", environment: ["LIBBPF_OBJ": "/nonexistent/libbpf.a"])
        expectError(result, """
            error: libbpf.a not found (looked in: /nonexistent/libbpf.a (LIBBPF_OBJ))
            help: install it with 'apt-get install libbpf-dev libelf-dev zlib1g-dev pkg-config', or set LIBBPF_OBJ to a libbpf.a (or [libbpf] archive in swbpf.toml)
            """)
    }

    // MARK: The project

    @Test func unknownAppListsTheAppsAndBuildsNothing() throws {
        let project = try TemporaryProject("unknown-app")
        try LayoutProject.create(project)
        let result = try project.swbpf("build", "opener", "nosuch")
        #expect(result.status == 1)
        #expect(result.stderr.hasSuffix("""
            error: no app named 'nosuch'
            note: the apps in this project are: opener, sched, writer, xdp-counter
            help: an app is a NAME.bpf.c with a NAME.c beside it; check the spelling or add the files

            """), "stderr: \(result.stderr)")
        #expect(!result.stderr.contains("lonely, ") && !result.stderr.contains(", lonely"), "an orphan kernel part is not an app")
        #expect(result.stdout.isEmpty && !project.exists("opener") && !project.exists(".output/vmlinux.h"))
    }

    @Test func kernelPartsWithoutUserPartsAreNoApps() throws {
        let project = try TemporaryProject("only-kernel")
        try project.write("lonely.bpf.c", "char LICENSE[] __attribute__((section(\"license\"))) = \"GPL\";\n")
        try project.write("alone.bpf.c", "char LICENSE[] __attribute__((section(\"license\"))) = \"GPL\";\n")
        // Run from elsewhere with -C, so the message must name the directory.
        let result = try Swbpf.run(["build", "-C", project.path], in: "/")
        expectError(result, """
            error: no eBPF apps found in '\(project.path)': an app is a NAME.bpf.c with a NAME.c beside it
            note: these kernel parts have no user-space part: alone.bpf.c, lonely.bpf.c
            help: add NAME.c next to NAME.bpf.c, or start a project with 'swbpf new DIR'
            """)
    }

    // MARK: Failing steps

    @Test func kernelCompileErrorShowsTheCommandAndDiagnosticsAndLeavesNoPartialOutput() throws {
        let project = try TemporaryProject("bpf-error")
        try writeApp(project, "broken", kernelBody: "return undeclared_thing;")
        let result = try project.swbpf("build")
        #expect(result.status == 1, "\(result.output)")
        let errors = result.stderr.lines
        // The command, even without -v, then clang's own diagnostics with file:line, then swbpf's line.
        let commandIndex = errors.firstIndex { matchesShape($0, "clang -g -O2 -target bpf {...} -c broken.bpf.c -o .output/broken.tmp.bpf.o") }
        let diagnosticIndex = errors.firstIndex { $0.hasPrefix("broken.bpf.c:9:") && $0.contains("error:") && $0.contains("undeclared_thing") }
        let failureIndex = errors.firstIndex(of: "error: BPF .output/broken.tmp.bpf.o failed (clang exited with status 1)")
        #expect(commandIndex != nil && diagnosticIndex != nil && failureIndex != nil, "stderr:\n\(result.stderr)")
        if let commandIndex, let diagnosticIndex, let failureIndex {
            #expect(commandIndex < diagnosticIndex && diagnosticIndex < failureIndex, "stderr out of order:\n\(result.stderr)")
        }
        #expect(errors.last == "swbpf: 1 step failed: BPF .output/broken.tmp.bpf.o; 4 steps not run because of it", "stderr:\n\(result.stderr)")
        #expect(result.stdout.lines == [shortLine("VMLINUX", ".output/vmlinux.h"), shortLine("PCH", ".output/vmlinux.h.pch"),
                                        shortLine("BPF", ".output/broken.tmp.bpf.o")])

        #expect(!project.exists(".output/broken.tmp.bpf.o"), "a partial object was left")
        #expect(!project.exists(".output/broken.bpf.o") && !project.exists(".output/broken.skel.h") && !project.exists("broken"))
        #expect(project.temporaryLeftovers.isEmpty, "temporaries left: \(project.temporaryLeftovers)")

        // Fixed, it builds; the failed step is not mistaken for a finished one.
        try writeApp(project, "broken")
        let fixed = try project.swbpf("build")
        #expect(fixed.status == 0, "\(fixed.output)")
        #expect(fixed.stdout.lines.first == shortLine("BPF", ".output/broken.tmp.bpf.o"), "\(fixed.stdout)")
        #expect(project.isExecutable("broken"))
    }

    @Test func userCompileErrorShowsTheCommandAndDiagnosticsAndLeavesNoPartialOutput() throws {
        let project = try TemporaryProject("cc-error")
        try writeApp(project, "broken", userBody: "return missing_variable;")
        let result = try project.swbpf("build")
        #expect(result.status == 1, "\(result.output)")
        let errors = result.stderr.lines
        let commandIndex = errors.firstIndex(of: "cc -g -Wall -ffile-prefix-map=\(project.path)=. -I.output -c broken.c -o .output/broken.o")
        let diagnosticIndex = errors.firstIndex { $0.hasPrefix("broken.c:6:") && $0.contains("error:") && $0.contains("missing_variable") }
        let failureIndex = errors.firstIndex(of: "error: CC .output/broken.o failed (cc exited with status 1)")
        #expect(commandIndex != nil && diagnosticIndex != nil && failureIndex != nil, "stderr:\n\(result.stderr)")
        if let commandIndex, let diagnosticIndex, let failureIndex {
            #expect(commandIndex < diagnosticIndex && diagnosticIndex < failureIndex, "stderr out of order:\n\(result.stderr)")
        }
        #expect(errors.last == "swbpf: 1 step failed: CC .output/broken.o; 1 step not run because of it", "stderr:\n\(result.stderr)")
        #expect(!project.exists(".output/broken.o") && !project.exists("broken"), "a partial object or binary was left")
        #expect(project.exists(".output/broken.skel.h"), "the steps before the failure are kept")
        #expect(project.temporaryLeftovers.isEmpty, "temporaries left: \(project.temporaryLeftovers)")
    }

    @Test func keepGoingBuildsTheAppsThatDoNotDependOnTheFailure() throws {
        let project = try TemporaryProject("keep-going")
        try writeApp(project, "bad", kernelBody: "this does not compile")
        try writeApp(project, "good")

        // Without -k (one job at a time) the build stops at the first failure.
        let stopped = try project.swbpf("build", "-j", "1")
        #expect(stopped.status == 1, "\(stopped.output)")
        #expect(!project.exists("good"), "without -k the build should stop at bad's failure:\n\(stopped.stdout)")

        let kept = try project.swbpf("build", "-k", "-j", "1")
        #expect(kept.status == 1, "a build with a failure must fail even with -k: \(kept.output)")
        #expect(project.isExecutable("good"), "-k did not build the independent app:\n\(kept.output)")
        #expect(!project.exists("bad") && !project.exists(".output/bad.tmp.bpf.o"))
        #expect(kept.stderr.contains("error: BPF .output/bad.tmp.bpf.o failed (clang exited with status 1)"))
        #expect(kept.stderr.lines.last == "swbpf: 1 step failed: BPF .output/bad.tmp.bpf.o; 4 steps not run because of it",
                "stderr:\n\(kept.stderr)")
        #expect(try project.runApp("good").status == 0)
    }

    // MARK: vmlinux.h

    /// No BTF in the kernel and no vmlinux.h in the project. /sys/kernel/btf cannot be removed, so
    /// the resolver is pointed at a missing BTF path in-process, through the same resolve() a build uses.
    @Test func noKernelBTFAndNoHeaderNamesBothWaysOut() async throws {
        let project = try tinyProject("no-btf")
        let loaded = try ProjectLoader.load(directory: project.path)
        var resolver = ToolchainResolver(project: loaded, environment: ["PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin"])
        resolver.kernelBTF = project.path("no-such-btf/vmlinux")
        await #expect(throws: ToolchainError.noVmlinuxSource(btfPath: project.path("no-such-btf/vmlinux"))) {
            _ = try await resolver.resolve()
        }
        let message = ToolchainError.noVmlinuxSource(btfPath: resolver.kernelBTF).description
        #expect(message.hasPrefix("error: cannot make vmlinux.h: this kernel has no BTF at \(resolver.kernelBTF)"))
        #expect(message.contains("set VMLINUX (or vmlinux in swbpf.toml) to a vmlinux.h"), "way out 1 (a header) missing: \(message)")
        #expect(message.contains("a BTF file for your target kernel"), "way out 2 (a BTF file) missing: \(message)")
        #expect(message.contains("CONFIG_DEBUG_INFO_BTF=y"))

        // Either way out works with the BTF still missing.
        try project.write("vmlinux.h", "/* the user's own */\n")
        let withHeader = try ProjectLoader.load(directory: project.path)
        var headerResolver = ToolchainResolver(project: withHeader, environment: [:])
        headerResolver.kernelBTF = resolver.kernelBTF
        #expect(try headerResolver.vmlinuxSource() == .header(path: project.path("vmlinux.h"), origin: .projectDirectory))
        var btfResolver = ToolchainResolver(project: loaded, environment: ["VMLINUX": "/sys/kernel/btf/vmlinux"])
        btfResolver.kernelBTF = resolver.kernelBTF
        #expect(try btfResolver.vmlinuxSource() == .btf(path: "/sys/kernel/btf/vmlinux", origin: .knob))
    }

    @Test func vmlinuxPointingAtAMissingFileNamesTheFileAndItsOrigin() throws {
        let project = try tinyProject("vmlinux-missing")
        expectError(try project.swbpf("build", environment: ["VMLINUX": "/nonexistent/vmlinux.h"]), """
            error: vmlinux source '/nonexistent/vmlinux.h' (from VMLINUX) does not exist
            help: point it at an existing vmlinux.h or BTF file, or unset it to use the running kernel's BTF
            """)
        try project.write("swbpf.toml", "vmlinux = \"headers/vmlinux.h\"\n")
        expectError(try project.swbpf("build"), """
            error: vmlinux source 'headers/vmlinux.h' (from swbpf.toml vmlinux) does not exist
            help: point it at an existing vmlinux.h or BTF file, or unset it to use the running kernel's BTF
            """)
    }

    @Test func vmlinuxHeaderUnderAnotherNameIsRefusedBeforeAnyStep() throws {
        let project = try tinyProject("vmlinux-misnamed")
        try project.write("headers/vmlinux_6.18.h", "/* a vmlinux.h under its versioned name */\n")
        let result = try project.swbpf("build", environment: ["VMLINUX": "headers/vmlinux_6.18.h"])
        expectError(result, """
            error: vmlinux header 'headers/vmlinux_6.18.h' (from VMLINUX) is not named vmlinux.h: sources include "vmlinux.h", found through -I of the header's directory, where this file cannot be found by that name
            help: point it at a file named vmlinux.h (libbpf/vmlinux.h's vmlinux.h links to its versioned file, as 'vmlinux.h -> vmlinux_6.18.h'), for example a directory of your own holding vmlinux.h as a link to or a copy of this file
            """)
        #expect(!result.output.contains("BPF "), "no step may run: \(result.output)")
    }

    // MARK: The output directory

    /// Permission bits do not stop root, so the output path is made impossible instead: a regular
    /// file where the directory should be, and a path under /proc, where nobody can create one.
    @Test func unusableOutputDirectoryIsAClearError() throws {
        let project = try tinyProject("output-file")
        try project.write("out", "a file, not a directory\n")
        try project.write("swbpf.toml", "output = \"out\"\n")
        expectError(try project.swbpf("build"), """
            error: cannot write to output directory 'out': Not a directory
            help: fix its permissions, or choose another one with 'output = "DIR"' in swbpf.toml
            """)
        #expect(try project.read("out") == "a file, not a directory\n", "the file in the way was touched")

        let procPath = "/proc/swbpf-test-\(UUID().uuidString.prefix(8))"
        try project.write("swbpf.toml", "output = \"\(procPath)\"\n")
        let result = try project.swbpf("build")
        #expect(result.status == 1 && result.stdout.isEmpty, "\(result.output)")
        let lines = result.stderr.lines
        #expect(lines.count == 2, "stderr: \(result.stderr)")
        #expect(lines.first?.hasPrefix("error: cannot write to output directory '\(procPath)': ") == true, "stderr: \(result.stderr)")
        #expect(lines.last == #"help: fix its permissions, or choose another one with 'output = "DIR"' in swbpf.toml"#)
    }

    // MARK: swbpf.toml

    @Test func unknownConfigKeyNamesFileLineAndKey() throws {
        let project = try tinyProject("config-unknown")
        try project.write("swbpf.toml", """
            # settings
            output = "build"
            colour = "red"

            """)
        let result = try project.swbpf("build")
        #expect(result.status == 1 && result.stdout.isEmpty)
        #expect(result.stderr.lines.first == "error: swbpf.toml:3: unknown key 'colour'", "stderr: \(result.stderr)")
        #expect(result.stderr.lines.dropFirst().first?.hasPrefix("help: the keys allowed here are: output, bin, arch,") == true,
                "stderr: \(result.stderr)")

        try project.write("swbpf.toml", """
            [app.tiny]
            cflags = ["-O2"]
            flagz = ["-x"]

            """)
        let inApp = try project.swbpf("build")
        expectError(inApp, """
            error: swbpf.toml:3: unknown key 'app.tiny.flagz'
            help: the keys allowed here are: sources, bpf-sources, cflags, bpf-cflags, ldflags, libs, aliases, swift-flags, bpf, skeleton, btf-for
            """)
        #expect(!project.exists(".output/vmlinux.h"))
    }

    @Test func wrongConfigTypeSaysWhatIsExpected() throws {
        let project = try tinyProject("config-type")
        try project.write("swbpf.toml", """
            output = "build"
            cflags = "-O2"

            """)
        expectError(try project.swbpf("build"), """
            error: swbpf.toml:2: key 'cflags' must be a list of strings
            help: for example: cflags = ["..."]
            """)
        try project.write("swbpf.toml", """

            [app.tiny]
            libs = ["m", 3]

            """)
        expectError(try project.swbpf("build"), """
            error: swbpf.toml:3: key 'app.tiny.libs' must be a list of strings
            help: for example: app.tiny.libs = ["..."]
            """)
    }

    @Test func configSyntaxErrorNamesTheLine() throws {
        let project = try tinyProject("config-syntax")
        try project.write("swbpf.toml", """
            # a comment
            output = "build"

            cflags = ["-O2"
            bin = "bin"

            """)
        let result = try project.swbpf("build")
        #expect(result.status == 1 && result.stdout.isEmpty, "\(result.output)")
        let lines = result.stderr.lines
        #expect(lines.first?.hasPrefix("error: swbpf.toml:") == true, "stderr: \(result.stderr)")
        // The array opened on line 4 is broken by line 5: the error points at what broke it and names the start.
        #expect(lines.first == "error: swbpf.toml:5:1: expected ',' or ']' after an element of the array that starts at 4:10, found 'b'",
                "stderr: \(result.stderr)")
        #expect(lines.last == "help: fix the TOML syntax at that position", "stderr: \(result.stderr)")

        try project.write("swbpf.toml", "output = \"build\nbin = \"bin\"\n")
        let unterminated = try project.swbpf("build")
        #expect(unterminated.status == 1)
        #expect(unterminated.stderr.lines.first?.hasPrefix("error: swbpf.toml:1:") == true, "stderr: \(unterminated.stderr)")
    }
}
