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

/// End-to-end builds with the real swbpf executable and the real toolchain (clang, bpftool, cc,
/// libbpf.a), each in its own scratch directory.
@Suite(.timeLimit(.minutes(20))) struct BuildIntegrationTests {
    // MARK: 1. The examples, step by step

    /// Builds one of the examples with -v and checks the six commands, the outputs, the skeleton,
    /// and that a second build runs nothing.
    func buildExample(_ name: String) throws {
        let project = try TemporaryProject(copying: "examples/\(name)")
        #expect(project.exists("\(name).bpf.c") && project.exists("\(name).c"), "examples/\(name) is incomplete")

        let first = try project.swbpf("build", name, "-v")
        #expect(first.status == 0, "build failed: \(first.output)")
        let includes = try clangBuiltinIncludeDirectory("/usr/bin/clang")
        let bpfFlags = "-g -O2 -target bpf -D__TARGET_ARCH_\(hostTargetArch) -ffile-prefix-map=\(project.path)=. -I.output -idirafter \(includes){...}"
        let expected = [
            "{bpftool} btf dump file /sys/kernel/btf/vmlinux format c > .output/vmlinux.h",
            "clang \(bpfFlags) -Xclang -fno-pch-timestamp -x c-header .output/vmlinux.h -o .output/vmlinux.h.pch",
            "clang \(bpfFlags) -include-pch .output/vmlinux.h.pch -c \(name).bpf.c -o .output/\(name).tmp.bpf.o",
            "{bpftool} gen object .output/\(name).bpf.o .output/\(name).tmp.bpf.o",
            "{bpftool} gen skeleton .output/\(name).bpf.o > .output/\(name).skel.h",
            "cc -g -Wall -ffile-prefix-map=\(project.path)=. -I.output -c \(name).c -o .output/\(name).o",
            "cc -g -Wall .output/\(name).o {}/libbpf.a -lelf -lz -o \(name)",
        ]
        #expect(first.stdout.lines.first == "mkdir -p .output", "\(first.stdout)")
        let printed = first.stdout.lines.filter { !$0.hasPrefix("mkdir -p ") }
        #expect(printed.count == expected.count, "expected \(expected.count) commands, got:\n\(first.stdout)")
        for (line, shape) in zip(printed, expected) {
            #expect(matchesShape(line, shape), "command\n  \(line)\ndoes not have the shape\n  \(shape)")
        }
        // The -idirafter list is clang's system include dirs, not the host compiler's.
        #expect(!(printed.dropFirst().first ?? "").contains("-idirafter /usr/lib/gcc"))

        let outputs = [".output/vmlinux.h", ".output/vmlinux.h.pch", ".output/\(name).tmp.bpf.o", ".output/\(name).bpf.o",
                       ".output/\(name).skel.h", ".output/\(name).o", name]
        for output in outputs { #expect(project.exists(output), "\(output) was not produced") }
        #expect(project.isExecutable(name))
        #expect(project.temporaryLeftovers.isEmpty, "temporaries left: \(project.temporaryLeftovers)")

        let skeleton = try project.read(".output/\(name).skel.h")
        #expect(skeleton.contains("struct \(name)_bpf {"))
        #expect(skeleton.contains("\(name)_bpf__open("))
        #expect(skeleton.contains("\(name)_bpf__destroy("))

        // The binary is a real program: --help goes through its own option parsing.
        let help = try project.runApp(name, ["--help"])
        #expect(help.status == 0 && help.output.contains("--load-only"), "\(name) --help: \(help.output)")

        let times = outputs.map { modificationTime(project.path($0)) }
        let second = try project.swbpf("build", name, "-v")
        expectNothingToDo(second, steps: 7)
        #expect(outputs.map { modificationTime(project.path($0)) } == times, "a no-op build rewrote an output")
    }

    @Test func kprobeExampleBuildsWithTheMakefileCommands() throws { try buildExample("kprobe") }

    @Test func minimalExampleBuildsWithTheMakefileCommands() throws { try buildExample("minimal") }

    // MARK: 2. The printed commands reproduce the build

    /// `swbpf build -v` prints commands that, run with `sh -e` in the project directory, rebuild
    /// every output byte for byte, even with spaces and a single quote in the project directory,
    /// in an include directory inside it, in one outside it, and in a define.
    @Test func printedCommandsReproduceEveryOutputByteForByte() throws {
        let project = try TemporaryProject("it's a dir")
        let outside = try TemporaryProject("it's outside")
        #expect(project.path.contains("it's a dir"))
        try outside.write("inc dir/outside.h", "#define OUTSIDE_WORD \"from outside\"\n")
        try project.write("my inc/shared.h", "#define SHARED_WORD \"from my inc\"\n#define SHARED_VALUE 7\n")
        let outsideInclude = outside.path + "/inc dir"
        let tomlOutside = outsideInclude.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        try project.write("swbpf.toml", """
            include = ["my inc", "\(tomlOutside)"]
            cflags = ["-DQUOTED=\\"it's quoted\\""]

            """)
        try project.write("util.h", "const char *util_word(void);\n")
        try project.write("util.c", "#include \"util.h\"\n#include \"shared.h\"\nconst char *util_word(void) { return SHARED_WORD; }\n")
        try project.write("quoted.bpf.c", """
            #include "vmlinux.h"
            #include <bpf/bpf_helpers.h>
            #include "shared.h"

            char LICENSE[] SEC("license") = "GPL";

            int seen = 0;

            SEC("tp/syscalls/sys_enter_getpid")
            int on_getpid(void *ctx)
            {
            \tseen = SHARED_VALUE;
            \treturn 0;
            }

            """)
        try project.write("quoted.c", """
            #include <stdio.h>
            #include <bpf/libbpf.h>
            #include "shared.h"
            #include "outside.h"
            #include "util.h"
            #include "quoted.skel.h"

            int main(void)
            {
            \tstruct quoted_bpf *skel = quoted_bpf__open();

            \tprintf("%s|%s|%s|%s\\n", QUOTED, SHARED_WORD, OUTSIDE_WORD, util_word());
            \tquoted_bpf__destroy(skel);
            \treturn 0;
            }

            """)

        let build = try project.swbpf("build", "-v")
        #expect(build.status == 0, "build failed: \(build.output)")
        let commands = build.stdout.lines
        #expect(commands.count == 9, "expected mkdir -p .output and 8 commands (vmlinux.h, its PCH, util.o and quoted's five), got:\n\(build.stdout)")
        #expect(commands.first == "mkdir -p .output", "the output directory is made first, once: \(build.stdout)")
        for command in commands {
            #expect(["mkdir -p ", "clang ", "cc ", "bpftool ", "/usr/sbin/bpftool "].contains(where: command.hasPrefix),
                    "stdout of -v holds something other than a command: \(command)")
        }
        // The awkward words are quoted for sh, not just printed.
        let quotedOutside = "'-I" + outsideInclude.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
        #expect(commands.contains { $0.contains("'-Imy inc'") && $0.contains(quotedOutside) }, "include dirs are not quoted: \(build.stdout)")
        #expect(commands.contains { $0.contains(#"'-DQUOTED="it'\''s quoted"'"#) }, "the define is not quoted: \(build.stdout)")
        let run = try project.runApp("quoted")
        #expect(run.stdout == "it's quoted|from my inc|from outside|from my inc\n", "swbpf's binary: \(run.output)")

        // Keep every product, then clean the project and rebuild with the printed commands alone.
        let outputDirectory = project.path(".output")
        let products = allFiles(under: outputDirectory).filter { !$0.hasPrefix(".swbpf/") }.map { ".output/" + $0 } + ["quoted"]
        #expect(Set(products) == [".output/vmlinux.h", ".output/vmlinux.h.pch", ".output/util.o", ".output/quoted.tmp.bpf.o", ".output/quoted.bpf.o",
                                  ".output/quoted.skel.h", ".output/quoted.o", "quoted"],
                "unexpected set of products: \(products)")
        var saved: [String: Data] = [:]
        for product in products { saved[product] = project.data(product) }
        let clean = try project.swbpf("clean")
        #expect(clean.status == 0 && !project.exists(".output/vmlinux.h") && !project.exists("quoted"), "\(clean.output)")
        // What clean keeps (its state) must not be what the commands rely on.
        if project.exists(".output") { try FileManager.default.removeItem(atPath: outputDirectory) }

        let script = try TemporaryProject("script")
        try script.write("build.sh", commands.joined(separator: "\n") + "\n")
        let replay = try runProcess("/bin/sh", ["-e", script.path("build.sh")], in: project.path)
        #expect(replay.status == 0, "the printed commands failed under sh -e: \(replay.output)")

        let rebuilt = allFiles(under: outputDirectory).map { ".output/" + $0 } + (project.exists("quoted") ? ["quoted"] : [])
        #expect(Set(rebuilt) == Set(products), "sh produced \(rebuilt), swbpf produced \(products)")
        for product in products {
            let original = saved[product] ?? nil
            #expect(original != nil && original == project.data(product), "\(product) differs between swbpf and the printed commands")
        }
        #expect(project.isExecutable("quoted"))
        #expect(try project.runApp("quoted").stdout == run.stdout)
    }

    // MARK: 3. A project laid out like libbpf-bootstrap's examples/c, with no swbpf.toml

    @Test func examplesCLayoutBuildsEveryAppWithoutConfig() throws {
        let project = try TemporaryProject("layout")
        try LayoutProject.create(project)

        let build = try project.swbpf("build")
        #expect(build.status == 0, "build failed: \(build.output)")
        // The orphan kernel part is mentioned once and skipped.
        let notes = build.stderr.lines.filter { $0.hasPrefix("note:") }
        #expect(notes == ["note: lonely.bpf.c has no lonely.c (or lonely.swift) beside it, so it is not an app; skipping it"], "stderr: \(build.stderr)")
        #expect(!build.output.contains("lonely.tmp.bpf.o") && !project.exists(".output/lonely.bpf.o"))
        // The tests/ subfolder is not part of the project.
        #expect(!build.output.contains("tests/") && !build.output.contains("broken"))

        var expected = [shortLine("VMLINUX", ".output/vmlinux.h"), shortLine("PCH", ".output/vmlinux.h.pch"), shortLine("CC", ".output/helpers.o")]
        for app in LayoutProject.apps {
            expected += [shortLine("BPF", ".output/\(app).tmp.bpf.o"), shortLine("GEN-OBJ", ".output/\(app).bpf.o"),
                         shortLine("GEN-SKEL", ".output/\(app).skel.h"), shortLine("CC", ".output/\(app).o"),
                         shortLine("BINARY", app)]
        }
        let printed = build.stdout.lines
        #expect(printed.sorted() == expected.sorted(), "short lines:\n\(build.stdout)")
        #expect(printed.filter { $0 == shortLine("CC", ".output/helpers.o") }.count == 1, "helpers.c must be compiled once")
        #expect(!project.exists(".output/tests") && !project.exists(".output/broken.o"))

        for app in LayoutProject.apps {
            #expect(project.isExecutable(app), "\(app) was not built")
        }
        // Each binary carries its own skeleton, the shared header and (for two of them) the helper.
        let mix = String(UInt32(truncatingIfNeeded: 2654435761 as UInt64))
        for app in ["opener", "sched", "writer"] {
            let run = try project.runApp(app, ["--print"])
            let helper = LayoutProject.helperUsers.contains(app) ? "helpers-linked" : "no-helpers"
            #expect(run.status == 0 && run.stdout == "layout \(app) \(mix) \(helper)\n", "\(app) --print: \(run.output)")
        }
        let xdp = try project.runApp("xdp-counter", ["--print"])
        #expect(xdp.stdout == "xdp-counter: skeleton struct xdp_counter_bpf\n", "xdp-counter --print: \(xdp.output)")
        let xdpSkeleton = try project.read(".output/xdp-counter.skel.h")
        #expect(xdpSkeleton.contains("struct xdp_counter_bpf {") && xdpSkeleton.contains("xdp_counter_bpf__open_and_load("))

        // The link commands show which apps link the helper: remove the binaries and relink with -v.
        for app in LayoutProject.apps { try FileManager.default.removeItem(atPath: project.path(app)) }
        let relink = try project.swbpf("build", "-v")
        #expect(relink.status == 0, "relink failed: \(relink.output)")
        let links = relink.stdout.lines
        #expect(links.count == LayoutProject.apps.count, "only the four links should run:\n\(relink.stdout)")
        for app in LayoutProject.apps {
            let helper = LayoutProject.helperUsers.contains(app) ? " .output/helpers.o" : ""
            #expect(links.contains { matchesShape($0, "cc -g -Wall .output/\(app).o\(helper) {}/libbpf.a -lelf -lz -o \(app)") },
                    "no link command for \(app) with exactly its objects in:\n\(relink.stdout)")
        }
        #expect(links.filter { $0.contains("helpers.o") }.count == 2)
        expectNothingToDo(try project.swbpf("build"), steps: 3 + 5 * LayoutProject.apps.count, notes: notes.map { $0 + "\n" }.joined())
    }

    @Test func namedAppsBuildOnlyTheirOwnSteps() throws {
        let project = try TemporaryProject("layout-some")
        try LayoutProject.create(project)

        let build = try project.swbpf("build", "sched", "xdp-counter")
        #expect(build.status == 0, "build failed: \(build.output)")
        var expected = [shortLine("VMLINUX", ".output/vmlinux.h"), shortLine("PCH", ".output/vmlinux.h.pch")]
        for app in ["sched", "xdp-counter"] {
            expected += [shortLine("BPF", ".output/\(app).tmp.bpf.o"), shortLine("GEN-OBJ", ".output/\(app).bpf.o"),
                         shortLine("GEN-SKEL", ".output/\(app).skel.h"), shortLine("CC", ".output/\(app).o"),
                         shortLine("BINARY", app)]
        }
        #expect(build.stdout.lines.sorted() == expected.sorted(), "short lines:\n\(build.stdout)")
        #expect(project.isExecutable("sched") && project.isExecutable("xdp-counter"))
        for app in ["opener", "writer"] {
            #expect(!project.exists(app) && !project.exists(".output/\(app).o") && !project.exists(".output/\(app).tmp.bpf.o"))
        }
        #expect(!project.exists(".output/helpers.o"), "no selected app uses helpers.c")

        // Then one app that uses the helper: only its steps and the helper run; vmlinux.h is kept.
        let more = try project.swbpf("build", "writer")
        #expect(more.status == 0, "build failed: \(more.output)")
        #expect(more.stdout.lines.sorted() == [
            shortLine("BPF", ".output/writer.tmp.bpf.o"), shortLine("GEN-OBJ", ".output/writer.bpf.o"),
            shortLine("GEN-SKEL", ".output/writer.skel.h"), shortLine("CC", ".output/writer.o"),
            shortLine("CC", ".output/helpers.o"), shortLine("BINARY", "writer"),
        ].sorted(), "short lines:\n\(more.stdout)")
        #expect(!project.exists("opener"))
    }

    // MARK: 4. swbpf.toml: shared sources, per-app flags and libs, extra kernel sources, output dirs

    @Test func configuredProjectUsesSharedSourcesPerAppFlagsAndDirectories() throws {
        let project = try TemporaryProject("configured")
        try project.write("swbpf.toml", """
            # Everything configurable that a project of a few apps needs.
            output = "build"
            bin = "bin"
            cflags = ["-DPROJECT_WIDE=1"]
            sources = ["log.c", "fmt.c"]

            [app.greeter]
            cflags = ["-DAPP_GREETING=\\"hi\\""]
            libs = ["m"]
            bpf-sources = ["greeter_extra.bpf.c"]

            """)
        try project.write("log.h", "void log_line(const char *text);\n")
        try project.write("log.c", """
            #include <stdio.h>
            #include "log.h"
            #if !PROJECT_WIDE
            #error project cflags missing
            #endif
            void log_line(const char *text) { printf("log: %s\\n", text); }

            """)
        try project.write("fmt.h", "const char *fmt_name(const char *app);\n")
        try project.write("fmt.c", """
            #include <stdio.h>
            #include "fmt.h"
            const char *fmt_name(const char *app)
            {
            \tstatic char buffer[64];
            \tsnprintf(buffer, sizeof(buffer), "<%s>", app);
            \treturn buffer;
            }

            """)
        let kernelPart = { (program: String, tracepoint: String) in """
            #include "vmlinux.h"
            #include <bpf/bpf_helpers.h>

            char LICENSE[] SEC("license") = "GPL";

            SEC("tp/syscalls/\(tracepoint)")
            int \(program)(void *ctx)
            {
            \treturn 0;
            }

            """ }
        try project.write("greeter.bpf.c", kernelPart("greet_main", "sys_enter_getpid"))
        try project.write("greeter_extra.bpf.c", kernelPart("greet_extra", "sys_enter_getppid"))
        try project.write("plain.bpf.c", kernelPart("plain_main", "sys_enter_getuid"))
        try project.write("greeter.c", """
            #include <math.h>
            #include <stdio.h>
            #include <string.h>
            #include <bpf/libbpf.h>
            #include "log.h"
            #include "fmt.h"
            #include "greeter.skel.h"

            int main(int argc, char **argv)
            {
            \tvolatile double two = 2.0;
            \tstruct greeter_bpf *skel;
            \tstruct bpf_program *program;

            \tif (argc < 2 || strcmp(argv[1], "--print"))
            \t\treturn 2;
            \tprintf("greeting: %s\\n", APP_GREETING);
            \tprintf("sqrt: %.4f\\n", sqrt(two));
            \tlog_line(fmt_name("greeter"));
            \t/* Opening parses the embedded object without touching the kernel. */
            \tskel = greeter_bpf__open();
            \tif (!skel)
            \t\treturn 1;
            \tbpf_object__for_each_program(program, skel->obj)
            \t\tprintf("program: %s\\n", bpf_program__name(program));
            \tgreeter_bpf__destroy(skel);
            \treturn 0;
            }

            """)
        try project.write("plain.c", """
            #include <stdio.h>
            #include <string.h>
            #include "log.h"
            #include "fmt.h"
            #include "plain.skel.h"
            #ifdef APP_GREETING
            #error greeter's cflags leaked into plain
            #endif

            int main(int argc, char **argv)
            {
            \tif (argc < 2 || strcmp(argv[1], "--print"))
            \t\treturn 2;
            \tlog_line(fmt_name("plain"));
            \treturn 0;
            }

            """)

        let build = try project.swbpf("build", "-v")
        #expect(build.status == 0, "build failed: \(build.output)")
        let commands = build.stdout.lines.filter { !$0.hasPrefix("mkdir -p ") }
        let includes = try clangBuiltinIncludeDirectory("/usr/bin/clang")
        let arch = hostTargetArch
        let expected = [
            "{bpftool} btf dump file /sys/kernel/btf/vmlinux format c > build/vmlinux.h",
            "cc -g -Wall -ffile-prefix-map={} -Ibuild -DPROJECT_WIDE=1 -c log.c -o build/log.o",
            "cc -g -Wall -ffile-prefix-map={} -Ibuild -DPROJECT_WIDE=1 -c fmt.c -o build/fmt.o",
            "clang -g -O2 -target bpf -D__TARGET_ARCH_\(arch) -ffile-prefix-map={} -Ibuild -idirafter \(includes){...} -include-pch build/vmlinux.h.pch -c greeter.bpf.c -o build/greeter.tmp.bpf.o",
            "clang -g -O2 -target bpf -D__TARGET_ARCH_\(arch) -ffile-prefix-map={} -Ibuild -idirafter \(includes){...} -include-pch build/vmlinux.h.pch -c greeter_extra.bpf.c -o build/greeter.greeter_extra.tmp.bpf.o",
            "{bpftool} gen object build/greeter.bpf.o build/greeter.tmp.bpf.o build/greeter.greeter_extra.tmp.bpf.o",
            "{bpftool} gen skeleton build/greeter.bpf.o > build/greeter.skel.h",
            #"cc -g -Wall -ffile-prefix-map={} -Ibuild -DPROJECT_WIDE=1 '-DAPP_GREETING="hi"' -c greeter.c -o build/greeter.o"#,
            "cc -g -Wall build/greeter.o build/log.o build/fmt.o {}/libbpf.a -lm -lelf -lz -o bin/greeter",
            "clang -g -O2 -target bpf -D__TARGET_ARCH_\(arch) -ffile-prefix-map={} -Ibuild -idirafter \(includes){...} -include-pch build/vmlinux.h.pch -c plain.bpf.c -o build/plain.tmp.bpf.o",
            "{bpftool} gen object build/plain.bpf.o build/plain.tmp.bpf.o",
            "{bpftool} gen skeleton build/plain.bpf.o > build/plain.skel.h",
            "cc -g -Wall -ffile-prefix-map={} -Ibuild -DPROJECT_WIDE=1 -c plain.c -o build/plain.o",
            "cc -g -Wall build/plain.o build/log.o build/fmt.o {}/libbpf.a -lelf -lz -o bin/plain",
            // Last, so the positions above stay: the precompiled vmlinux.h every kernel part uses.
            "clang -g -O2 -target bpf -D__TARGET_ARCH_\(arch) -ffile-prefix-map={} -Ibuild -idirafter \(includes){...} -Xclang -fno-pch-timestamp -x c-header build/vmlinux.h -o build/vmlinux.h.pch",
        ]
        #expect(commands.count == expected.count, "expected \(expected.count) commands, got:\n\(build.stdout)")
        for shape in expected {
            #expect(commands.filter { matchesShape($0, shape) }.count == 1, "no single command of the shape\n  \(shape)\nin:\n\(build.stdout)")
        }
        // Each step after the ones it needs: the extra kernel part is linked after both compiles.
        func position(_ shape: String) -> Int { commands.firstIndex { matchesShape($0, shape) } ?? -1 }
        #expect(position(expected[5]) > position(expected[3]) && position(expected[5]) > position(expected[4]))
        #expect(position(expected[8]) > position(expected[7]) && position(expected[8]) > position(expected[1])
                && position(expected[8]) > position(expected[2]))

        #expect(!project.exists(".output") && !project.exists("greeter") && !project.exists("plain"), "wrote to the default places")
        for output in ["build/vmlinux.h", "build/greeter.bpf.o", "build/greeter.skel.h", "build/log.o", "build/fmt.o"] {
            #expect(project.exists(output), "\(output) missing")
        }
        let greeter = try project.runApp("bin/greeter", ["--print"])
        #expect(greeter.status == 0, "bin/greeter --print: \(greeter.output)")
        #expect(greeter.stdout.lines == ["greeting: hi", "sqrt: 1.4142", "log: <greeter>", "program: greet_main", "program: greet_extra"],
                "bin/greeter --print: \(greeter.output)")
        let plain = try project.runApp("bin/plain", ["--print"])
        #expect(plain.status == 0 && plain.stdout == "log: <plain>\n", "bin/plain --print: \(plain.output)")

        expectNothingToDo(try project.swbpf("build"), steps: 15)
    }

    // MARK: 5. Another clang

    /// The clang shipped with Swift (21) instead of Debian's 14: the BPF step runs it and passes its
    /// own builtin headers, not those of the clang on PATH.
    @Test func swiftToolchainClangCompilesTheKernelParts() throws {
        let clang = "/opt/swift/usr/bin/clang"
        let project = try TemporaryProject(copying: "examples/minimal")
        let build = try project.swbpf("build", "-v", environment: ["CLANG": clang])
        #expect(build.status == 0, "build failed: \(build.output)")
        let bpfLines = build.stdout.lines.filter { $0.contains("-target bpf") }
        #expect(bpfLines.count == 2, "the PCH and the compile: \(build.stdout)")
        let line = bpfLines.first { $0.contains(" -c ") } ?? ""
        #expect(line.hasPrefix("\(clang) -g -O2 -target bpf "), "BPF step does not run \(clang): \(line)")
        #expect(line.contains("-idirafter /opt/swift/usr/lib/clang/21/include"), "clang 21's own headers are missing: \(line)")
        #expect(line.contains("-idirafter \(try clangBuiltinIncludeDirectory(clang))"))
        #expect(!line.contains("llvm-14"), "clang 14's headers leaked into a clang 21 build: \(line)")
        // The user-space side still uses cc.
        #expect(build.stdout.lines.contains { $0.hasPrefix("cc -g -Wall -ffile-prefix-map=\(project.path)=. -I.output -c minimal.c") })
        #expect(project.isExecutable("minimal") && project.exists(".output/minimal.bpf.o"))

        // Going back to the default clang is a change of tool: the kernel part is rebuilt.
        let back = try project.swbpf("build", "-v")
        #expect(back.status == 0, "\(back.output)")
        #expect(back.stdout.lines.contains { $0.hasPrefix("clang -g -O2 -target bpf ") }, "switching clang did not rebuild: \(back.output)")
    }
}
