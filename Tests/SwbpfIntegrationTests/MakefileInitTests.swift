import Foundation
import Testing
import SwbpfTestSupport
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfScaffolding

/// Projects in the styles of the Makefiles people copy, written for these tests (kernel parts that
/// compile against Debian's libbpf 1.1.2 and the running kernel's BTF). Each runs `make`, keeps
/// its commands and products, cleans up, then runs `swbpf init` and `swbpf build -v`.
enum MakefileFamily: String, CaseIterable, CustomTestStringConvertible {
    /// libbpf-bootstrap's examples/c: APPS, vendored vmlinux.h/include/$(ARCH), LIBBPF_OBJ.
    case bootstrap
    /// bcc's libbpf-tools: BPFCFLAGS, per-app BPFCFLAGS_x, APP_ALIASES, COMMON_OBJ, USE_BLAZESYM, $(ARCH)/vmlinux.h.
    case libbpfTools
    /// A starter template copied from libbpf-bootstrap: one APP, -lm, an extra program using libbpf.
    case starter
    /// A learning-style Makefile: NAME_kern.c / NAME_user.c, -L tree -l:libbpf.a, a victim program.
    case learning

    var testDescription: String { rawValue }

    static let softirqsCheck = "mcpu"

    /// A tracepoint kernel part that counts write(2) calls.
    static func kernelPart(_ extra: String = "") -> String {
        """
        #include "vmlinux.h"
        #include <bpf/bpf_helpers.h>

        char LICENSE[] SEC("license") = "GPL";

        int hits = 0;
        \(extra)
        SEC("tp/syscalls/sys_enter_write")
        int on_write(void *ctx)
        {
        \t__sync_fetch_and_add(&hits, 1);
        \treturn 0;
        }

        """
    }

    /// A user part that prints a line with --print, else opens and loads its skeleton.
    static func userPart(name: String, skeleton: String, structName: String, includes: [String] = [], body: String = "") -> String {
        """
        #include <stdio.h>
        #include <string.h>
        #include <bpf/libbpf.h>
        \(includes.map { "#include \($0)" }.joined(separator: "\n"))
        #include "\(skeleton)"

        int main(int argc, char **argv)
        {
        \tstruct \(structName) *skel;
        \(body)
        \tif (argc > 1 && !strcmp(argv[1], "--print")) {
        \t\tprintf("\(name) ok\\n");
        \t\treturn 0;
        \t}
        \tskel = \(structName)__open_and_load();
        \tif (!skel)
        \t\treturn 1;
        \t\(structName)__destroy(skel);
        \treturn 0;
        }

        """
    }

    /// Writes the project; `vmlinux` is the running kernel's vmlinux.h, dumped once.
    func write(_ project: TemporaryProject, vmlinux: String) throws {
        switch self {
        case .bootstrap:
            try project.write("vmlinux.h/include/x86/vmlinux.h", vmlinux)
            for app in ["minimal", "bootstrap"] {
                try project.write("\(app).bpf.c", Self.kernelPart())
                try project.write("\(app).c", Self.userPart(name: app, skeleton: "\(app).skel.h", structName: "\(app)_bpf"))
            }
            // An app libbpf-bootstrap's APPS leaves out: swbpf must skip it too.
            try project.write("draft.bpf.c", Self.kernelPart())
            try project.write("draft.c", Self.userPart(name: "draft", skeleton: "draft.skel.h", structName: "draft_bpf"))
            try project.write("Makefile", """
                OUTPUT := .output
                CLANG ?= clang
                CC ?= cc
                BPFTOOL ?= bpftool
                LIBBPF_OBJ := $(shell $(CC) -print-file-name=libbpf.a)
                ARCH ?= $(shell uname -m | sed 's/x86_64/x86/' | sed 's/aarch64/arm64/')
                VMLINUX := vmlinux.h/include/$(ARCH)/vmlinux.h
                INCLUDES := -I$(OUTPUT) -I$(dir $(VMLINUX))
                CFLAGS := -g -Wall
                ALL_LDFLAGS := $(LDFLAGS) $(EXTRA_LDFLAGS)
                CLANG_BPF_SYS_INCLUDES ?= $(shell $(CLANG) -v -E - </dev/null 2>&1 | sed -n '/<...> search starts here:/,/End of search list./{ s| \\(/.*\\)|-idirafter \\1|p }')
                APPS = minimal bootstrap

                .PHONY: all
                all: $(APPS)

                $(OUTPUT):
                \tmkdir -p $@

                $(OUTPUT)/%.bpf.o: %.bpf.c $(VMLINUX) | $(OUTPUT)
                \t$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(INCLUDES) $(CLANG_BPF_SYS_INCLUDES) -c $(filter %.c,$^) -o $(patsubst %.bpf.o,%.tmp.bpf.o,$@)
                \t$(BPFTOOL) gen object $@ $(patsubst %.bpf.o,%.tmp.bpf.o,$@)

                $(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o | $(OUTPUT)
                \t$(BPFTOOL) gen skeleton $< > $@

                $(patsubst %,$(OUTPUT)/%.o,$(APPS)): %.o: %.skel.h

                $(OUTPUT)/%.o: %.c | $(OUTPUT)
                \t$(CC) $(CFLAGS) $(INCLUDES) -c $(filter %.c,$^) -o $@

                $(APPS): %: $(OUTPUT)/%.o $(LIBBPF_OBJ) | $(OUTPUT)
                \t$(CC) $(CFLAGS) $^ $(ALL_LDFLAGS) -lelf -lz -o $@

                .DELETE_ON_ERROR:
                .SECONDARY:

                """)
        case .libbpfTools:
            try project.write("x86/vmlinux.h", vmlinux)
            try project.write("include/tools_common.h", "#define TOOLS_TAG \"libbpf-tools\"\n")
            try project.write("trace_helpers.h", "const char *trace_helper_name(void);\n")
            try project.write("trace_helpers.c", "#include \"trace_helpers.h\"\nconst char *trace_helper_name(void) { return \"helpers\"; }\n")
            for app in ["fsdist", "softirqs", "symsnoop"] {
                try project.write("\(app).bpf.c", Self.kernelPart())
            }
            try project.write("fsdist.c", Self.userPart(name: "fsdist", skeleton: "fsdist.skel.h", structName: "fsdist_bpf",
                                                        includes: ["\"trace_helpers.h\"", "\"tools_common.h\""]))
            try project.write("softirqs.c", Self.userPart(name: "softirqs", skeleton: "softirqs.skel.h", structName: "softirqs_bpf"))
            // blazesym.h only under USE_BLAZESYM, which this build does not set.
            try project.write("symsnoop.c", Self.userPart(name: "symsnoop", skeleton: "symsnoop.skel.h", structName: "symsnoop_bpf",
                                                          includes: ["\"trace_helpers.h\"\n#ifdef USE_BLAZESYM\n#include \"blazesym.h\"\n#endif"]))
            try project.write("Makefile", """
                OUTPUT := .output
                CLANG ?= clang
                CC ?= cc
                LIBBPF_OBJ := $(shell $(CC) -print-file-name=libbpf.a)
                INCLUDES := -I$(OUTPUT) -Iinclude
                CFLAGS := -g -O2 -Wall
                BPFCFLAGS := -g -O2 -Wall
                ARCH := $(shell uname -m | sed 's/x86_64/x86/' | sed 's/aarch64/arm64/')

                APPS = \\
                \tfsdist \\
                \tsoftirqs \\
                \tsymsnoop \\
                \t#

                BPFCFLAGS_softirqs := $(BPFCFLAGS) -mcpu=v3

                FSDIST_ALIASES = btrfsdist ext4dist
                APP_ALIASES = $(FSDIST_ALIASES)

                COMMON_OBJ = $(OUTPUT)/trace_helpers.o

                ifeq ($(USE_BLAZESYM),1)
                CFLAGS += -DUSE_BLAZESYM=1
                endif

                .PHONY: all
                all: $(APPS) $(APP_ALIASES)

                $(OUTPUT):
                \tmkdir -p $@

                $(APPS): %: $(OUTPUT)/%.o $(COMMON_OBJ) $(LIBBPF_OBJ) | $(OUTPUT)
                \t$(CC) $(CFLAGS) $^ $(LDFLAGS) -lelf -lz -o $@

                $(patsubst %,$(OUTPUT)/%.o,$(APPS)): %.o: %.skel.h

                $(OUTPUT)/%.o: %.c | $(OUTPUT)
                \t$(CC) $(CFLAGS) $(INCLUDES) -c $(filter %.c,$^) -o $@

                $(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o | $(OUTPUT)
                \tbpftool gen skeleton $< > $@

                $(OUTPUT)/%.bpf.o: %.bpf.c $(ARCH)/vmlinux.h | $(OUTPUT)
                \t$(CLANG) $(if $(BPFCFLAGS_$*),$(BPFCFLAGS_$*),$(BPFCFLAGS)) -target bpf -D__TARGET_ARCH_$(ARCH) -I$(ARCH)/ $(INCLUDES) -c $(filter %.c,$^) -o $(@:.bpf.o=.tmp.bpf.o)
                \tbpftool gen object $@ $(@:.bpf.o=.tmp.bpf.o)

                $(FSDIST_ALIASES): fsdist
                \tln -f -s $^ $@

                .DELETE_ON_ERROR:
                .SECONDARY:

                """)
        case .starter:
            try project.write("vmlinux/x86/vmlinux.h", vmlinux)
            try project.write("hello.bpf.c", Self.kernelPart())
            // round() needs -lm: the link fails without it.
            try project.write("hello.c", Self.userPart(name: "hello", skeleton: "hello.skel.h", structName: "hello_bpf", includes: ["<math.h>"],
                                                       body: "\tvolatile double half = argc + 0.5;\n\tif (round(half) < 0)\n\t\treturn 2;"))
            try project.write("find-map.c", """
                #include <stdio.h>
                #include <bpf/bpf.h>
                #include <bpf/libbpf.h>

                int main(int argc, char **argv)
                {
                \tprintf("find-map: libbpf %u.%u\\n", libbpf_major_version(), libbpf_minor_version());
                \treturn argc > 1 ? bpf_obj_get(argv[1]) < 0 : 0;
                }

                """)
            try project.write("Makefile", """
                OUTPUT := .output
                CLANG ?= clang
                CC ?= cc
                LIBBPF_OBJ := $(shell $(CC) -print-file-name=libbpf.a)
                ARCH ?= $(shell uname -m | sed 's/x86_64/x86/' | sed 's/aarch64/arm64/')
                VMLINUX := vmlinux/$(ARCH)/vmlinux.h
                INCLUDES := -I$(OUTPUT) -I$(dir $(VMLINUX))
                CFLAGS := -g -Wall
                ALL_LDFLAGS := $(LDFLAGS) $(EXTRA_LDFLAGS) -lm
                APPS = hello
                EXTRA_PROGS = find-map

                .PHONY: all
                all: $(APPS) $(EXTRA_PROGS)

                $(OUTPUT):
                \tmkdir -p $@

                $(OUTPUT)/%.bpf.o: %.bpf.c $(VMLINUX) | $(OUTPUT)
                \t$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(INCLUDES) -c $(filter %.c,$^) -o $@

                $(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o | $(OUTPUT)
                \tbpftool gen skeleton $< > $@

                $(OUTPUT)/hello.o: $(OUTPUT)/hello.skel.h

                $(OUTPUT)/%.o: %.c | $(OUTPUT)
                \t$(CC) $(CFLAGS) $(INCLUDES) -c $(filter %.c,$^) -o $@

                $(APPS): %: $(OUTPUT)/%.o $(LIBBPF_OBJ) | $(OUTPUT)
                \t$(CC) $(CFLAGS) $^ $(ALL_LDFLAGS) -lelf -lz -o $@

                find-map: find-map.c
                \t$(CC) $(CFLAGS) $< $(LIBBPF_OBJ) -lelf -lz -o $@

                .SECONDARY:

                """)
        case .learning:
            try project.write("vmlinux.h", vmlinux)
            let archive = try runProcess("/usr/bin/cc", ["-print-file-name=libbpf.a"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            try FileManager.default.createDirectory(atPath: project.path + "/libbpf/lib", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: archive, toPath: project.path + "/libbpf/lib/libbpf.a")
            try FileManager.default.createDirectory(atPath: project.path + "/libbpf/include", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "/usr/include/bpf", toPath: project.path + "/libbpf/include/bpf")
            try project.write("trace_kern.c", Self.kernelPart())
            try project.write("trace_user.c", Self.userPart(name: "trace", skeleton: "trace_kern.skel.h", structName: "trace_kern"))
            try project.write("victim.c", "#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf(\"victim %d\\n\", (int)getpid()); return 0; }\n")
            try project.write("Makefile", """
                LIBBPF_DIR := libbpf
                CC ?= cc
                CLANG ?= clang
                CFLAGS := -g -O2 -Wall -I$(LIBBPF_DIR)/include
                LDFLAGS := -L$(LIBBPF_DIR)/lib -l:libbpf.a -lelf -lz
                TARGETS := trace

                all: $(TARGETS) victim

                %_kern.o: %_kern.c vmlinux.h
                \t$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -I. -I$(LIBBPF_DIR)/include -c $< -o $@

                %_kern.skel.h: %_kern.o
                \tbpftool gen skeleton $< > $@

                $(TARGETS): %: %_user.c %_kern.skel.h
                \t$(CC) $(CFLAGS) -I. $< $(LDFLAGS) -o $@

                victim: victim.c
                \t$(CC) $(CFLAGS) $< -o $@

                .SECONDARY:

                """)
        }
    }
}

/// What one build ran: per source, the flags of its compile; per binary, the libraries of its link.
struct BuildCommands: Equatable {
    var compileFlags: [String: Set<String>] = [:]
    var linkLibraries: [String: Set<String>] = [:]

    /// Flags that change what is built: -m, -D (but the target arch), -O, -W, -f (but path maps), -std.
    static func isMeaningful(_ word: String) -> Bool {
        if word.hasPrefix("-D__TARGET_ARCH_") || word.hasPrefix("-ffile-prefix-map") { return false }
        return ["-m", "-D", "-O", "-W", "-f", "-std"].contains { word.hasPrefix($0) }
    }

    /// Reads the compiler lines of make's or `swbpf build -v`'s output.
    init(output: String) {
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard let tool = words.first.map({ FileSystem.split($0).base }), ["cc", "clang", "gcc"].contains(tool) else { continue }
            if let source = words.first(where: { $0.hasSuffix(".c") }), !words.contains("-x") {
                compileFlags[FileSystem.split(source).base, default: []].formUnion(words.filter(Self.isMeaningful))
            }
            if !words.contains("-c"), let index = words.firstIndex(of: "-o"), index + 1 < words.count {
                linkLibraries[FileSystem.split(words[index + 1]).base] = Set(words.filter {
                    $0.hasPrefix("-l") && $0 != "-lbpf" && $0 != "-l:libbpf.a"
                })
            }
        }
    }
}

@Suite(.timeLimit(.minutes(20))) struct MakefileInitTests {
    static let vmlinux: String = {
        let dumped = try? runProcess("/usr/sbin/bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"])
        return dumped?.stdout ?? ""
    }()

    /// Every file the build left: binaries and symbolic links in the project directory.
    static func products(_ project: TemporaryProject, sources: Set<String>) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: project.path).filter { name in
            guard !sources.contains(name), !name.hasPrefix(".") else { return false }
            let path = project.path + "/" + name
            return (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil
                || (FileManager.default.isExecutableFile(atPath: path) && !FileManager.default.fileExists(atPath: path + "/."))
        })
    }

    @Test(arguments: MakefileFamily.allCases)
    func initWritesAConfigWhoseBuildIsMakes(_ family: MakefileFamily) throws {
        let project = try TemporaryProject("init-\(family.rawValue)")
        try family.write(project, vmlinux: Self.vmlinux)
        let sources = Set(try FileManager.default.contentsOfDirectory(atPath: project.path))

        let make = try runProcess("/usr/bin/make", ["V=1"], in: project.path)
        try #require(make.status == 0, "make failed: \(make.output)")
        let madeProducts = try Self.products(project, sources: sources)
        let madeCommands = BuildCommands(output: make.stdout)
        // Back to the sources alone.
        for name in try FileManager.default.contentsOfDirectory(atPath: project.path) where !sources.contains(name) {
            try FileManager.default.removeItem(atPath: project.path + "/" + name)
        }

        let initialized = try project.swbpf("init")
        try #require(initialized.status == 0, "swbpf init failed: \(initialized.output)")
        #expect(initialized.stdout.contains("swbpf init: asked make: make -pnR -f Makefile"))
        let config = try project.read("swbpf.toml")
        // Every setting names the Makefile line it came from.
        for line in config.split(separator: "\n") where line.contains(" = ") && !line.hasPrefix("#") {
            #expect(line.contains("   # "), "no origin on: \(line)")
        }
        let build = try project.swbpf("build", "-v")
        try #require(build.status == 0, "swbpf build failed: \(build.output)\nconfig:\n\(config)")
        #expect(try Self.products(project, sources: sources.union(["swbpf.toml"])) == madeProducts, "config:\n\(config)")
        let built = BuildCommands(output: build.stdout)
        for (source, flags) in madeCommands.compileFlags {
            #expect(built.compileFlags[source] == flags, "flags of \(source): make \(flags.sorted()), swbpf \(built.compileFlags[source]?.sorted() ?? [])\nconfig:\n\(config)")
        }
        for (binary, libraries) in madeCommands.linkLibraries where madeProducts.contains(binary) {
            #expect(built.linkLibraries[binary] == libraries, "libraries of \(binary)\nconfig:\n\(config)")
        }
        #expect(madeCommands.compileFlags.count >= 2)

        switch family {
        case .libbpfTools:
            #expect(config.contains("bpf-cflags = [\"-mcpu=v3\"]   # Makefile:16 BPFCFLAGS_softirqs"), "\(config)")
            #expect(config.contains("aliases = [\"btrfsdist\", \"ext4dist\"]"), "\(config)")
            #expect(built.compileFlags["softirqs.bpf.c"]?.contains("-mcpu=v3") == true)
        case .bootstrap:
            #expect(config.contains("skip = [\"draft\"]"), "\(config)")
            #expect(config.contains("vmlinux = \"vmlinux.h/include/{arch}/vmlinux.h\"   # Makefile:7 VMLINUX"), "\(config)")
        case .starter:
            #expect(config.contains("libs = [\"m\"]"), "\(config)")
            #expect(try project.runApp("find-map").stdout.hasPrefix("find-map: libbpf 1."))
        case .learning:
            #expect(config.contains("archive = \"libbpf/lib/libbpf.a\""), "\(config)")
            #expect(config.contains("[program.victim]"), "\(config)")
            #expect(try project.runApp("trace", ["--print"]).stdout == "trace ok\n")
        }
    }

    /// The -mcpu=v3 app, with its config from init, loads into the kernel.
    @Test func theMcpuV3AppFromInitLoads() throws {
        let project = try TemporaryProject("init-verify")
        try MakefileFamily.libbpfTools.write(project, vmlinux: Self.vmlinux)
        try #require(project.swbpf("init").status == 0)
        let verify = try project.swbpf("verify", "softirqs")
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output.contains("on_write"), "\(verify.output)")
    }

    @Test func initRefusesToReplaceAConfigAndReportsAMakefileMakeCannotRead() throws {
        let project = try TemporaryProject("init-refuse")
        try project.write("Makefile", "all:\n\ttrue\n")
        try project.write("swbpf.toml", "# mine\n")
        let refused = try project.swbpf("init")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("swbpf init writes a new swbpf.toml and never replaces one"), "\(refused.output)")
        #expect(try project.read("swbpf.toml") == "# mine\n")

        let broken = try TemporaryProject("init-broken")
        try broken.write("Makefile", "$(error this Makefile needs LIBBPF_SRC)\n")
        let failed = try broken.swbpf("init")
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("this Makefile needs LIBBPF_SRC"), "\(failed.output)")
        #expect(!broken.exists("swbpf.toml"))

        let empty = try TemporaryProject("init-none")
        let none = try empty.swbpf("init")
        #expect(none.stderr.contains("no Makefile in"), "\(none.output)")
    }

    /// make's database, read: values expanded by make, lines, rules and the default goal.
    @Test func theDatabaseGivesExpandedValuesWithTheirLines() async throws {
        let project = try TemporaryProject("init-database")
        try project.write("Makefile", """
            BASE := -g -O2
            PER_softirqs = $(BASE) -mcpu=v3
            APPS = one \\
            \ttwo
            all: $(APPS)
            one two: %: %.c
            \t$(CC) $< -o $@

            """)
        let outcome = try await SystemProcessRunner().run(ProcessRequest(executable: "/usr/bin/make", arguments: MakeDatabase.makeArguments(makefile: "Makefile"),
                                                                         workingDirectory: project.path))
        let database = MakeDatabase.parse(String(decoding: outcome.standardOutput, as: UTF8.self))
        #expect(database.variables["PER_softirqs"] == .init(name: "PER_softirqs", value: "-g -O2 -mcpu=v3", file: "Makefile", line: 2))
        #expect(database.variables["APPS"]?.words == ["one", "two"])
        #expect(database.defaultGoal == "all")
        #expect(database.rules["all"]?.prerequisites == ["one", "two"])
        #expect(database.rules["one"]?.recipe == ["$(CC) $< -o $@"])
    }

    /// A function meant for `$(call ...)` whose body runs `$(eval $(1) = $(2))` (libbpf-bootstrap and
    /// every Makefile copied from it override CC that way) is not expanded by the dump: expanded
    /// without arguments, it stopped make with "empty variable name", and swbpf init with it.
    @Test func aCallFunctionThatEvaluatesIsNotExpanded() async throws {
        let project = try TemporaryProject("init-call-function")
        try project.write("one.bpf.c", MakefileFamily.kernelPart())
        try project.write("one.c", "int main(void) { return 0; }\n")
        try project.write("Makefile", """
            define set-unless-given
              $(if $(filter command line,$(origin $(1))),,$(eval $(1) = $(2)))
            endef
            $(call set-unless-given,COMPILER,$(PREFIX)cc)
            note = @echo "$(1): $2"
            APPS = one
            all: $(APPS)
            $(APPS): %: %.c
            \t$(COMPILER) $< -o $@

            """)
        let outcome = try await MakefileInit.run(directory: project.path, makefile: nil, environment: ProcessInfo.processInfo.environment)
        #expect(outcome.learned.products == ["one"], "\(outcome.learned)")
        #expect(try project.read("swbpf.toml").contains("# Written by 'swbpf init'"))
    }

    /// `swbpf init NAME=VALUE...` hands make the variables the user gives it, so the Makefile is read
    /// as their `make` reads it: an app added only when a tool is found is left out with `HAVE_TOOL=`.
    /// Anything but `NAME=VALUE` is refused before make runs: it could be an option or a goal.
    @Test func makeVariablesGivenToInitReachMake() async throws {
        let project = try TemporaryProject("init-variables")
        for app in ["one", "two"] {
            try project.write("\(app).bpf.c", MakefileFamily.kernelPart())
            try project.write("\(app).c", "int main(void) { return 0; }\n")
        }
        try project.write("Makefile", """
            HAVE_TOOL ?= $(shell command -v sh)
            APPS = one
            ifneq ($(strip $(HAVE_TOOL)),)
            APPS += two
            EXTRA_LIBS := -lm
            endif
            all: $(APPS)
            $(APPS): %: %.c
            \t$(CC) $< $(EXTRA_LIBS) -o $@

            """)
        let outcome = try await MakefileInit.run(directory: project.path, makefile: nil, variables: ["HAVE_TOOL="],
                                                 environment: ProcessInfo.processInfo.environment)
        #expect(outcome.learned.products == ["one"], "\(outcome.learned)")
        #expect(outcome.command.hasPrefix("make -pnR -f Makefile HAVE_TOOL="), "\(outcome.command)")
        let config = try project.read("swbpf.toml")
        #expect(config.hasPrefix("# Written by 'swbpf init' from what make knows of Makefile (make -pnR HAVE_TOOL=)."), "\(config)")
        #expect(config.contains("skip = [\"two\"]"), "\(config)")

        for word in ["all", "1X=2", "=1", "A-B=1"] {
            let other = try TemporaryProject("init-variables-refused")
            try other.write("Makefile", "all:\n\ttrue\n")
            let refused = try other.swbpf("init", word)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("is not a make variable setting"), "\(word): \(refused.output)")
            #expect(!other.exists("swbpf.toml"))
        }
    }

    /// Flags a recipe writes itself, not through a variable (the starter template's
    /// `-fstack-protector`, the tutorial's `-D__BPF_FEATURE_ADDR_SPACE_CAST` and `-lpthread`,
    /// learning-ebpf's `-D __BPF_TRACING__` and `-L../libbpf/src -l:libbpf.a`), are learned with
    /// the rule that writes them; swbpf's own words (`-g -O2 -target bpf -D__TARGET_ARCH_x`) are not.
    @Test func flagsWrittenIntoRecipesAreLearned() async throws {
        #expect(MakeDatabase.literalCommands(["@$(CC) -D X$(Y) -O2 \\", "\t  -c $< -o $@ && $(STRIP) -g $@ # why", "-rm -f $(OUT)"])
                == [["$", "-D", "$", "-O2", "-c", "$", "-o", "$"], ["$", "-g", "$"], ["rm", "-f", "$"]])
        // The Makefile's own variables are read as make expands them; anything else stays unknown.
        #expect(MakeDatabase.literalCommands(["$(Q)$(CLANG) $(MY_FLAGS) -D__TARGET_ARCH_$(ARCH) $(or $(A_$*),$(A)) -c $<"],
                                             values: ["Q": "@", "CLANG": "clang", "MY_FLAGS": "-DX -Wall", "ARCH": "x86", "A": "-O2"])
                == [["clang", "-DX", "-Wall", "-D__TARGET_ARCH_x86", "$", "-c", "$"]])
        let project = try TemporaryProject("init-recipe-flags")
        try project.write("lib/libbpf.a", "")
        for app in ["one", "two"] {
            try project.write("\(app).bpf.c", MakefileFamily.kernelPart())
            try project.write("\(app).c", "int main(void) { return 0; }\n")
        }
        try project.write("Makefile", """
            OUT := build
            TARCH := x86
            APPS = one two
            all: $(APPS)
            $(OUT)/%.bpf.o: %.bpf.c
            \tclang -g -O2 -target bpf -D __TARGET_ARCH_$(TARCH) -D WITH_RING \\
            \t    -fno-unroll-loops -c $< -o $@ # the kernel part
            $(OUT)/%.o: %.c
            \t$(CC) -g -DUSER_SIDE -c $< -o $@
            $(APPS): %: $(OUT)/%.o
            \t@$(CC) $^ -Llib -l:libbpf.a -lelf -lz -lm -Wl,--as-needed -o $@

            """)
        let outcome = try await MakefileInit.run(directory: project.path, makefile: nil, environment: ProcessInfo.processInfo.environment)
        let config = try project.read("swbpf.toml")
        #expect(config.contains("bpf-cflags = [\"-DWITH_RING\", \"-fno-unroll-loops\"]   # Makefile:6 rule build/%.bpf.o"), "\(config)")
        #expect(config.contains("cflags = [\"-DUSER_SIDE\"]   # Makefile:9 rule build/%.o"), "\(config)")
        #expect(config.contains("ldflags = [\"-Wl,--as-needed\"]   # Makefile:11 rule one"), "\(config)")
        #expect(config.contains("libs = [\"m\"]   # Makefile:11 rule one"), "\(config)")
        #expect(config.contains("[libbpf]\narchive = \"lib/libbpf.a\"   # Makefile:11 rule one"), "\(config)")
        #expect(outcome.learned.notUnderstood.isEmpty, "\(outcome.learned.notUnderstood)")
    }

    /// A book-style Makefile: one program named by a variable, a phony default goal that names the
    /// binary and its kernel object, no pattern rules (make prints "# No implicit rules."), and an
    /// app compiled and linked in one command. The app is an app (not "skipped"), the object is a
    /// step of it, the one-command flags are learned with the Makefile's variables expanded
    /// (`-DVERSION=$(VER)`), and a word whose value make knows only while building (`$@`) is not.
    @Test func aOneCommandAppWithoutPatternRulesIsLearned() async throws {
        let project = try TemporaryProject("init-book")
        try project.write("vendor/lib/libbpf.a", "")
        try project.write("counter.bpf.c", MakefileFamily.kernelPart())
        try project.write("counter.c", "int main(void) { return 0; }\n")
        try project.write("Makefile", """
            PROG = counter
            KOBJ = $(PROG).bpf.o
            VER = 3
            .PHONY: everything $(PROG)
            everything: $(PROG) $(KOBJ)
            $(PROG): $(PROG).c $(PROG).skel.h
            \tgcc -Wall -DUSER_BUILD -DVERSION=$(VER) -DOUT=$@ -o $@ $< -Lvendor/lib -l:libbpf.a -lelf -lz
            $(KOBJ): $(PROG).bpf.c
            \tclang -target bpf -D __BPF_TRACING__ -D __TARGET_ARCH_x86 -O2 -g -c $< -o $@
            \trm -f stale.o
            $(PROG).skel.h: $(KOBJ)
            \tbpftool gen skeleton $< > $@

            """)
        let outcome = try await MakefileInit.run(directory: project.path, makefile: nil, environment: ProcessInfo.processInfo.environment)
        let config = try project.read("swbpf.toml")
        #expect(!config.contains("skip"), "\(config)")
        #expect(config.contains("bpf-cflags = [\"-D__BPF_TRACING__\"]   # Makefile:9 rule counter.bpf.o"), "\(config)")
        #expect(config.contains("cflags = [\"-DUSER_BUILD\", \"-DVERSION=3\"]   # Makefile:7 rule counter"), "\(config)")
        #expect(config.contains("[libbpf]\narchive = \"vendor/lib/libbpf.a\"   # Makefile:7 rule counter"), "\(config)")
        #expect(outcome.learned.learned.contains { $0.hasPrefix("apps (Makefile:1 PROG): counter") }, "\(outcome.learned.learned)")
        #expect(outcome.learned.products == ["counter"])

        // Before libbpf is built, its source directory is named by -L: libbpf's link, not the app's.
        let unbuilt = try TemporaryProject("init-book-unbuilt")
        try unbuilt.write("libbpf/src/libbpf.c", "")
        try unbuilt.write("app/counter.bpf.c", MakefileFamily.kernelPart())
        try unbuilt.write("app/counter.c", "int main(void) { return 0; }\n")
        try unbuilt.write("app/Makefile", "counter: counter.c\n\tgcc -o $@ $< -L../libbpf/src -l:libbpf.a -lelf -lz -lm\n")
        let unbuiltOutcome = try await MakefileInit.run(directory: unbuilt.path + "/app", makefile: nil, environment: ProcessInfo.processInfo.environment)
        let unbuiltConfig = try unbuilt.read("app/swbpf.toml")
        #expect(unbuiltConfig.contains("libs = [\"m\"]") && !unbuiltConfig.contains("ldflags"), "\(unbuiltConfig)")
        #expect(unbuiltOutcome.learned.notUnderstood.contains { $0.contains("no -L directory of it holds a libbpf.a yet") })
        #expect(outcome.learned.notUnderstood.isEmpty, "\(outcome.learned.notUnderstood)")
    }

    /// Flags given to one target (`$(OUT)/one.bpf.o: BPFCFLAGS += -mcpu=v3`, on the app's binary or
    /// its object) become that app's; a replacing `:=` gives only the words the project's lack, and
    /// one on another target is named as not understood.
    @Test func targetSpecificVariablesBecomeAppFlags() async throws {
        let project = try TemporaryProject("init-target-variables")
        for app in ["one", "two", "three"] {
            try project.write("\(app).bpf.c", MakefileFamily.kernelPart())
            try project.write("\(app).c", "int main(void) { return 0; }\n")
        }
        try project.write("Makefile", """
            OUT := .output
            APPS = one two three
            BPFCFLAGS := -g -O2
            CFLAGS := -g -Wall
            all: $(APPS)
            $(OUT)/one.bpf.o: BPFCFLAGS += -mcpu=v3 -DLEVEL=$(LEVEL)
            two: LDLIBS += -lm
            $(OUT)/three.o: CFLAGS := -g -Wall -DTHREE
            clean: CFLAGS += -DNOTHING
            $(OUT)/%.bpf.o: %.bpf.c
            \tclang $(BPFCFLAGS) -target bpf -c $< -o $@
            $(OUT)/%.o: %.c
            \t$(CC) $(CFLAGS) -c $< -o $@
            $(APPS): %: $(OUT)/%.o
            \t$(CC) $^ -lbpf $(LDLIBS) -o $@

            """)
        let outcome = try await MakefileInit.run(directory: project.path, makefile: nil, environment: ProcessInfo.processInfo.environment)
        let config = try project.read("swbpf.toml")
        #expect(config.contains("[app.one]\nbpf-cflags = [\"-mcpu=v3\"]   # Makefile:6 .output/one.bpf.o: BPFCFLAGS"), "\(config)")
        #expect(config.contains("[app.two]\nlibs = [\"m\"]   # Makefile:7 two: LDLIBS"), "\(config)")
        #expect(config.contains("[app.three]\ncflags = [\"-DTHREE\"]   # Makefile:8 .output/three.o: CFLAGS"), "\(config)")
        #expect(outcome.learned.notUnderstood == ["Makefile:9 clean: CFLAGS: a variable for a target that is no app's binary, object or kernel object; add its flags by hand"],
                "\(outcome.learned.notUnderstood)")
    }

    /// A libbpf and bpftool source tree named by LIBBPF_SRC / BPFTOOL_SRC (as libbpf-bootstrap and
    /// the starter templates do) become [libbpf] source and [bpftool] source.
    @Test func sourceTreesOfTheMakefileBecomeSources() async throws {
        let top = try TemporaryProject("init-trees")
        try top.write("libbpf/src/Makefile", "all:\n")
        try top.write("bpftool/src/Makefile", "all:\n")
        try top.write("examples/c/minimal.bpf.c", MakefileFamily.kernelPart())
        try top.write("examples/c/minimal.c", "int main(void) { return 0; }\n")
        try top.write("examples/c/Makefile", """
            OUTPUT := .output
            LIBBPF_SRC := $(abspath ../../libbpf/src)
            BPFTOOL_SRC := $(abspath ../../bpftool/src)
            LIBBPF_OBJ := $(abspath $(OUTPUT)/libbpf.a)
            INCLUDES := -I$(OUTPUT) -I../../libbpf/include/uapi
            APPS = minimal
            all: $(APPS)
            $(APPS): %: $(OUTPUT)/%.o $(LIBBPF_OBJ)
            \t$(CC) $^ -o $@

            """)
        let outcome = try await MakefileInit.run(directory: top.path + "/examples/c", makefile: nil, environment: ProcessInfo.processInfo.environment)
        let config = try top.read("examples/c/swbpf.toml")
        #expect(config.contains("[libbpf]\nsource = \"../../libbpf\"   # Makefile:2 LIBBPF_SRC"), "\(config)")
        #expect(config.contains("[bpftool]\nsource = \"../../bpftool\"   # Makefile:3 BPFTOOL_SRC"), "\(config)")
        // The uapi directory comes with the libbpf tree: no include line for it.
        #expect(!config.contains("include ="), "\(config)")
        #expect(outcome.learned.notUnderstood.isEmpty, "\(outcome.learned.notUnderstood)")
    }
}

/// The per-app settings `swbpf init` writes, and users write by hand: parsed, refused with their
/// line and column, and really built.
@Suite(.timeLimit(.minutes(20))) struct AppSettingsTests {
    @Test func newKeysParse() throws {
        let config = try ProjectConfig.parse("""
            also = ["profile"]
            skeleton = "{name}.bpf.skel.h"
            [app.multi]
            bpf = ["a.bpf.c", "b.bpf.c"]
            skeleton = "{name}.h"
            [program.victim]
            sources = ["victim.c"]
            libs = ["m"]
            libbpf = true
            """, file: "swbpf.toml")
        #expect(config.alsoApps == ["profile"])
        #expect(config.skeletonPattern == "{name}.bpf.skel.h")
        #expect(config.apps["multi"]?.kernelParts == ["a.bpf.c", "b.bpf.c"])
        #expect(config.apps["multi"]?.skeletonPattern == "{name}.h")
        #expect(config.programs["victim"]?.linksLibbpf == true)
        #expect(config.programs["victim"]?.libs == ["m"])
    }

    @Test(arguments: [
        ("skeleton = \"fixed.skel.h\"", ConfigError.invalidValue(file: "swbpf.toml", line: 1, column: 1, key: "skeleton",
                                                                 message: "'fixed.skel.h' has no {name}: every kernel part needs its own skeleton; for example \"{name}.bpf.skel.h\"")),
        ("\n[app.x]\n  skeleton = \"out/{name}.h\"", ConfigError.invalidValue(file: "swbpf.toml", line: 3, column: 3, key: "app.x.skeleton",
                                                                               message: "'out/{name}.h' is not a file name: skeletons are written in the output directory, which -I finds; leave out the directory")),
        ("[app.x]\nbpf = []", ConfigError.invalidValue(file: "swbpf.toml", line: 2, column: 1, key: "app.x.bpf",
                                                       message: "the list is empty: name the app's kernel parts (\"x.bpf.c\"), or remove the key to use x.bpf.c")),
        ("[program.v]\nlibs = [\"m\"]", ConfigError.invalidValue(file: "swbpf.toml", line: 1, column: 1, key: "program.v.sources",
                                                                 message: "a program needs its sources: sources = [\"v.c\"]")),
        ("[program.v]\nsources = [\"v.c\"]\nlibbpf = \"yes\"", ConfigError.wrongType(file: "swbpf.toml", line: 3, key: "program.v.libbpf", expected: "true or false")),
    ])
    func badValuesSayWhereAndWhy(_ text: String, _ expected: ConfigError) {
        #expect(throws: expected) { try ProjectConfig.parse(text, file: "swbpf.toml") }
    }

    @Test func alsoMustNameAnApp() throws {
        let project = try TemporaryProject("also-unknown")
        try project.write("one.bpf.c", MakefileFamily.kernelPart())
        try project.write("one.c", "int main(void) { return 0; }\n")
        try project.write("swbpf.toml", "\n\nalso = [\"two\"]\n")
        let result = try project.swbpf("build")
        #expect(result.status != 0)
        #expect(result.stderr.contains("swbpf.toml:3"), "\(result.output)")
        #expect(result.stderr.contains("there is no app named 'two'; the apps are: one"), "\(result.output)")
    }

    /// Two kernel parts with a skeleton each, named by a pattern; a NAME_kern.c app; a program with
    /// -lm and no libbpf; a program with libbpf: all built for real, and run.
    @Test func skeletonsProgramsAndKernUserAppsBuild() throws {
        let project = try TemporaryProject("app-settings")
        try project.write("vmlinux.h", MakefileInitTests.vmlinux)
        try project.write("entry.bpf.c", MakefileFamily.kernelPart())
        try project.write("exit.bpf.c", MakefileFamily.kernelPart())
        try project.write("pair.c", """
            #include <stdio.h>
            #include <bpf/libbpf.h>
            #include "entry.bpf.skel.h"
            #include "exit.bpf.skel.h"

            int main(void)
            {
            \tstruct entry_bpf *entry = entry_bpf__open_and_load();
            \tstruct exit_bpf *exit_skel = exit_bpf__open_and_load();
            \tint ok = entry && exit_skel;

            \tentry_bpf__destroy(entry);
            \texit_bpf__destroy(exit_skel);
            \tprintf("pair %s\\n", ok ? "loaded" : "failed");
            \treturn !ok;
            }

            """)
        try project.write("sample_kern.c", MakefileFamily.kernelPart())
        try project.write("sample_user.c", MakefileFamily.userPart(name: "sample", skeleton: "sample_kern.bpf.skel.h", structName: "sample_kern"))
        try project.write("victim.c", """
            #include <math.h>
            #include <stdio.h>
            int main(int argc, char **argv) { volatile double x = argc + 0.5; printf("victim %.0f\\n", round(x)); return 0; }

            """)
        try project.write("find-map.c", "#include <stdio.h>\n#include <bpf/libbpf.h>\nint main(void) { printf(\"libbpf %u\\n\", libbpf_major_version()); return 0; }\n")
        try project.write("swbpf.toml", """
            skeleton = "{name}.bpf.skel.h"
            libs = ["rt"]

            [app.pair]
            bpf = ["entry.bpf.c", "exit.bpf.c"]

            [program.victim]
            sources = ["victim.c"]
            libs = ["m"]

            [program.find-map]
            sources = ["find-map.c"]
            libbpf = true

            """)
        let build = try project.swbpf("build", "-v")
        try #require(build.status == 0, "\(build.output)")
        #expect(build.stdout.contains("bpftool gen skeleton .output/entry.bpf.o > .output/entry.bpf.skel.h"), "\(build.stdout)")
        #expect(build.stdout.contains("bpftool gen skeleton .output/exit.bpf.o > .output/exit.bpf.skel.h"), "\(build.stdout)")
        #expect(build.stdout.contains("bpftool gen skeleton .output/sample_kern.bpf.o name sample_kern > .output/sample_kern.bpf.skel.h"), "\(build.stdout)")
        let victimLink = try #require(build.stdout.split(separator: "\n").first { $0.hasSuffix("-o victim") })
        // A program without libbpf links neither libbpf.a nor what it needs, nor the apps' libs.
        #expect(victimLink.contains("-lm") && !victimLink.contains("libbpf.a") && !victimLink.contains("-lelf") && !victimLink.contains("-lrt"), "\(victimLink)")
        let findMapLink = try #require(build.stdout.split(separator: "\n").first { $0.hasSuffix("-o find-map") })
        #expect(findMapLink.contains("libbpf.a") && findMapLink.contains("-lelf"), "\(findMapLink)")
        #expect(try project.runApp("victim").stdout == "victim 2\n")
        #expect(try project.runApp("find-map").stdout == "libbpf 1\n")
        #expect(try project.runApp("sample", ["--print"]).stdout == "sample ok\n")
        let pair = try project.runApp("pair")
        #expect(pair.stdout == "pair loaded\n", "\(pair.output)")

        // explain names each setting's table, and compile_commands.json holds the programs' compiles.
        let explain = try project.swbpf("explain", "victim")
        #expect(explain.stdout.contains("swbpf.toml [program.victim] libs"), "\(explain.stdout)")
        #expect(try project.swbpf("compdb").status == 0)
        let database = try project.read("compile_commands.json")
        for source in ["victim.c", "find-map.c", "entry.bpf.c", "exit.bpf.c", "sample_kern.c", "sample_user.c"] {
            #expect(database.contains("\"file\" : \"\(source)\""), "\(source) missing")
        }
        // Both kernel parts of pair go through the verifier.
        let verify = try project.swbpf("verify", "pair")
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output.contains("2 programs in 1 app: 2 accepted"), "\(verify.output)")
    }
}
