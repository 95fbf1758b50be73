import Foundation
import Testing
@testable import SwbpfModel
@testable import SwbpfViews
import SwbpfTestSupport

// Issue 21 item 6: a compile that fails on what the libbpf in use lacks gets a help line that
// names the libbpf this build uses, the release that added the name, and how to use a newer one.
// Real compiles against Debian 12's libbpf 1.1.2; the table is checked against the headers.

@Suite struct LibbpfAgeTests {
    /// Each entry of the table is absent from Debian's libbpf 1.1 headers and present in libbpf
    /// 1.6's (../shared/sources): the table says nothing the headers do not.
    @Test(.enabled(if: SharedSources.available, SharedSources.skipReason))
    func theTableAgreesWithTheHeaders() throws {
        #expect(try String(contentsOfFile: "/usr/include/bpf/libbpf_version.h", encoding: .utf8).contains("LIBBPF_MINOR_VERSION 1"))
        for addition in LibbpfAge.additions {
            let file = String(addition.header.dropFirst("bpf/".count))
            let old = LibbpfAge.identifiers(in: try String(contentsOfFile: "/usr/include/bpf/" + file, encoding: .utf8))
            let new = LibbpfAge.identifiers(in: try String(contentsOfFile: SharedSources.path + "/libbpf/src/" + file, encoding: .utf8))
            let name = String(addition.name.split(separator: ".").last!)
            #expect(!old.contains(name) && new.contains(name), "\(addition.name) in \(addition.header)")
            #expect(LibbpfAge.older("1.1.2", than: addition.version) && !LibbpfAge.older("1.6.0", than: addition.version))
        }
    }

    @Test func eachAdditionGetsItsHelpLineFromARealCompileAgainstDebiansLibbpf() throws {
        let project = try TemporaryProject("old-libbpf")
        try project.write("swbpf.toml", "[libbpf]\nsource = \"system\"\n")
        let license = "#include \"vmlinux.h\"\n#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_tracing.h>\n\nchar LICENSE[] SEC(\"license\") = \"GPL\";\n\n"
        let plainUser = "#include <bpf/libbpf.h>\n#include \"NAME.skel.h\"\n\nint main(void)\n{\n\treturn 0;\n}\n"
        func app(_ name: String, kernel: String, user: String = plainUser) throws {
            try project.write("\(name).bpf.c", license + kernel)
            try project.write("\(name).c", user.replacing("NAME", with: name))
        }
        try app("uprobe", kernel: "SEC(\"uprobe\")\nint BPF_UPROBE(on_call, int a)\n{\n\treturn a;\n}\n")
        try app("uretprobe", kernel: "SEC(\"uretprobe\")\nint BPF_URETPROBE(on_return, long ret)\n{\n\treturn ret != 0;\n}\n")
        try app("arena", kernel: """
            struct {
            \t__uint(type, BPF_MAP_TYPE_HASH);
            \t__uint(max_entries, 16);
            \t__type(key, u32);
            \t__type(value, u64);
            \t__ulong(map_extra, 1);
            } counts SEC(".maps");

            """)
        try SourceTreeApps.writeKsymApp(project)
        try app("token", kernel: "SEC(\"tp/syscalls/sys_enter_getpid\")\nint on_getpid(void *ctx)\n{\n\treturn 0;\n}\n", user: """
            #include <bpf/libbpf.h>
            #include "NAME.skel.h"

            int main(void)
            {
            \tLIBBPF_OPTS(bpf_object_open_opts, opts, .bpf_token_path = "/sys/fs/bpf");
            \tstruct NAME_bpf *skel = NAME_bpf__open_opts(&opts);
            \tNAME_bpf__destroy(skel);
            \treturn 0;
            }

            """)
        // Open-coded iterators, a global subprogram's argument tag and bpf_core_cast (1.2, 1.4).
        try app("iterate", kernel: "SEC(\"tp/syscalls/sys_enter_getpid\")\nint on_getpid(void *ctx)\n{\n\tint i, sum = 0;\n\n\tbpf_for(i, 0, 8) {\n\t\tsum += i;\n\t}\n\treturn sum;\n}\n")
        try app("repeat", kernel: "SEC(\"tp/syscalls/sys_enter_getpid\")\nint on_getpid(void *ctx)\n{\n\tint n = 0;\n\n\tbpf_repeat(4) {\n\t\tn++;\n\t}\n\treturn n;\n}\n")
        try app("numbers", kernel: "SEC(\"tp/syscalls/sys_enter_getpid\")\nint on_getpid(void *ctx)\n{\n\tint *v, sum = 0;\n\n\tbpf_for_each(num, v, 0, 8) {\n\t\tsum += *v;\n\t}\n\treturn sum;\n}\n")
        try app("argtag", kernel: "__noinline int count(void *ctx __arg_ctx)\n{\n\treturn ctx != 0;\n}\n\nSEC(\"kprobe/do_unlinkat\")\nint on_unlink(struct pt_regs *ctx)\n{\n\treturn count(ctx);\n}\n")
        try app("cast", kernel: "#include <bpf/bpf_core_read.h>\n\nSEC(\"tp_btf/sched_switch\")\nint on_switch(u64 *ctx)\n{\n\tstruct task_struct *task = bpf_core_cast((void *)ctx[1], struct task_struct);\n\n\treturn task->pid;\n}\n")
        // A user part asking for libbpf 1.3's multi-uprobe attach options (gcc quotes the line).
        try app("multi", kernel: "SEC(\"uprobe.multi\")\nint on_any(void *ctx)\n{\n\treturn 0;\n}\n", user: """
            #include <bpf/libbpf.h>
            #include "NAME.skel.h"

            int main(void)
            {
            \tLIBBPF_OPTS(bpf_uprobe_multi_opts, opts);
            \treturn (int)opts.sz;
            }

            """)
        let result = try project.swbpf("build", "-k")
        #expect(result.status == 1)
        let helps = result.stderr.lines.filter { $0.hasPrefix("help: ") }
        let how = "from its source tree (a libbpf submodule at ../libbpf, ../../libbpf or third_party/libbpf, as the project's Makefile has it, or [libbpf] source = \"DIR\" in swbpf.toml), or set LIBBPF_OBJ to its libbpf.a with its headers beside it"
        func expected(_ name: String, _ version: String, _ header: String) -> String {
            "help: '\(name)' needs libbpf \(version) or newer (\(header) has it since \(version)); this build uses libbpf 1.1.2 from the system: build with libbpf \(version) or newer \(how)"
        }
        for line in [expected("BPF_UPROBE", "1.2", "bpf/bpf_tracing.h"), expected("BPF_URETPROBE", "1.2", "bpf/bpf_tracing.h"),
                     expected("__ulong", "1.4", "bpf/bpf_helpers.h"), expected("bpf_ksym_exists", "1.2", "bpf/bpf_helpers.h"),
                     expected("bpf_object_open_opts's member 'bpf_token_path", "1.4", "bpf/libbpf.h"),
                     expected("bpf_for", "1.2", "bpf/bpf_helpers.h"), expected("bpf_repeat", "1.2", "bpf/bpf_helpers.h"),
                     expected("bpf_for_each", "1.2", "bpf/bpf_helpers.h"), expected("__arg_ctx", "1.4", "bpf/bpf_helpers.h"),
                     expected("bpf_core_cast", "1.4", "bpf/bpf_core_read.h"), expected("bpf_uprobe_multi_opts", "1.3", "bpf/libbpf.h")] {
            #expect(helps.contains(line), "missing: \(line)\nin:\n\(result.stderr)")
        }
        #expect(helps.count == 11, "\(result.stderr)")
    }

    @Test func aNewEnoughLibbpfGetsNoSuchLine() {
        let output = Array("x.bpf.c:6:25: error: expected identifier\nint BPF_UPROBE(on_call, int a)\n".utf8)
        let newer = LibbpfInUse(summary: "libbpf 1.6.0 from ../libbpf (source)", fromSource: true, version: "1.6.0")
        #expect(LibbpfAge.hint(for: output, libbpf: newer) == nil)
        let older = LibbpfInUse(summary: "libbpf 1.1.2 from the system", fromSource: false, version: "1.1.2")
        #expect(LibbpfAge.hint(for: output, libbpf: older)?.hasPrefix("'BPF_UPROBE' needs libbpf 1.2 or newer") == true)
    }
}
