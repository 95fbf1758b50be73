import Foundation
import Testing
import SwbpfBasics
import SwbpfModel
import SwbpfToolchain
import SwbpfBuild
import SwbpfKernel
import SwbpfViews
import SwbpfScaffolding
import SwbpfDriver

// Helpers shared by the integration suites. They build on
// TestSupport.swift (runProcess, Swbpf, TemporaryProject, Kernel) and add only what those lack.

extension String {
    /// The lines of a process's output, without the empty one after the final newline.
    package var lines: [String] {
        split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }
}

/// Whether `line` has the shape of `template`: literal text, where `{}` stands for one word (no
/// blanks), `{...}` for anything, and `{bpftool}` for bpftool as swbpf names it (`bpftool` when
/// found on PATH, else the full path of a fallback such as /usr/sbin/bpftool). Lets a test pin a command exactly except for machine-specific
/// words (the libbpf.a path, clang's include dirs).
package func matchesShape(_ line: String, _ template: String) -> Bool {
    var pattern = "^"
    var rest = Substring(template)
    while !rest.isEmpty {
        if rest.hasPrefix("{bpftool}") {
            pattern += "(?:bpftool|/\\S*/bpftool)"
            rest = rest.dropFirst(9)
        } else if rest.hasPrefix("{...}") {
            pattern += ".*"
            rest = rest.dropFirst(5)
        } else if rest.hasPrefix("{}") {
            pattern += "\\S+"
            rest = rest.dropFirst(2)
        } else {
            let next = rest.dropFirst().firstIndex(of: "{") ?? rest.endIndex
            pattern += NSRegularExpression.escapedPattern(for: String(rest[..<next]))
            rest = rest[next...]
        }
    }
    pattern += "$"
    let regex = try! NSRegularExpression(pattern: pattern)
    return regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
}

/// clang's own include directory (`<resource dir>/include`), asked of clang in a different way than
/// swbpf asks it, so the -idirafter words in swbpf's commands are checked against an independent answer.
package func clangBuiltinIncludeDirectory(_ clang: String) throws -> String {
    let result = try runProcess(clang, ["-print-resource-dir"])
    #expect(result.status == 0, "\(clang) -print-resource-dir failed: \(result.output)")
    return URL(fileURLWithPath: result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        .appendingPathComponent("include").standardizedFileURL.path
}

/// Every regular file under `directory`, hidden ones included, as paths relative to it.
package func allFiles(under directory: String) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
    var result: [String] = []
    while let relative = enumerator.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
            result.append(relative)
        }
    }
    return result.sorted()
}

/// The modification time of a file in nanoseconds, or nil if it does not exist.
package func modificationTime(_ path: String) -> Int64? {
    FileSystem.stat(path)?.mtimeNanoseconds
}

extension TemporaryProject {
    package func path(_ name: String) -> String { url(name).path }

    package func isExecutable(_ name: String) -> Bool { FileManager.default.isExecutableFile(atPath: path(name)) }

    /// Runs a program of the project (a built app) in the project directory.
    @discardableResult
    package func runApp(_ name: String, _ arguments: [String] = []) throws -> RunResult {
        try runProcess(path(name), arguments, in: path)
    }

    /// Leftovers of interrupted or failed steps: swbpf's temporary names anywhere in the project.
    package var temporaryLeftovers: [String] { allFiles(under: path).filter { $0.hasSuffix("swbpf-tmp") } }
}

/// The short line swbpf prints when a step runs: `  LABEL    OUTPUT` (label padded to 8).
package func shortLine(_ label: String, _ output: String) -> String {
    "  " + label.padding(toLength: 8, withPad: " ", startingAt: 0) + " " + output
}

/// Asserts that a second build finds nothing to do: one line, no step run, and on stderr only the
/// project's notes (which every build repeats).
package func expectNothingToDo(_ result: RunResult, steps: Int, notes: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == 0, "no-op build failed: \(result.output)", sourceLocation: sourceLocation)
    #expect(result.stdout.lines.count == 1, "a no-op build printed more than one line: \(result.output)", sourceLocation: sourceLocation)
    #expect(matchesShape(result.stdout.lines.first ?? "", "swbpf: nothing to do, all \(steps) steps are up to date ({} ms)"),
            "unexpected no-op line: \(result.stdout)", sourceLocation: sourceLocation)
    #expect(result.stderr == notes, "a no-op build printed diagnostics: \(result.stderr)", sourceLocation: sourceLocation)
}

// MARK: - A project laid out like libbpf-bootstrap's examples/c

/// Four apps with tracepoint (and one XDP) kernel parts, a header shared by kernel and user parts,
/// a helper linked into two of them, a kernel part with no user part, and a subfolder of broken
/// code that is not part of the project. Every user part opens and loads its skeleton, or with
/// `--print` prints a line without touching the kernel.
package enum LayoutProject {
    package static let apps = ["opener", "sched", "writer", "xdp-counter"]
    /// The apps that include helpers.h and so link helpers.o.
    package static let helperUsers: Set<String> = ["opener", "writer"]

    package static func create(_ project: TemporaryProject) throws {
        try project.write("common.h", """
            /* Shared by the kernel and user parts: plain C only, no libc or kernel headers. */
            #ifndef COMMON_H
            #define COMMON_H

            #define COMMON_TAG "layout"

            /* A tiny hash both sides can compute: proves the same header compiles in both worlds. */
            static inline unsigned int common_mix(unsigned int value)
            {
            \treturn value * 2654435761u;
            }

            #endif

            """)
        try project.write("helpers.h", """
            #ifndef HELPERS_H
            #define HELPERS_H

            /* Defined in helpers.c, compiled once and linked into the apps that include this. */
            const char *helper_describe(void);

            #endif

            """)
        try project.write("helpers.c", """
            #include "helpers.h"

            const char *helper_describe(void)
            {
            \treturn "helpers-linked";
            }

            """)
        try writeTracepointApp(project, name: "opener", tracepoint: "syscalls/sys_enter_openat", angleVmlinux: false,
                               usesHelpers: true)
        try writeTracepointApp(project, name: "writer", tracepoint: "syscalls/sys_enter_write", angleVmlinux: true,
                               usesHelpers: true)
        try writeTracepointApp(project, name: "sched", tracepoint: "sched/sched_process_exec", angleVmlinux: false,
                               usesHelpers: false)
        try project.write("xdp-counter.bpf.c", """
            #include "vmlinux.h"
            #include <bpf/bpf_helpers.h>

            char LICENSE[] SEC("license") = "GPL";

            struct {
            \t__uint(type, BPF_MAP_TYPE_ARRAY);
            \t__uint(max_entries, 1);
            \t__type(key, __u32);
            \t__type(value, __u64);
            } packets SEC(".maps");

            SEC("xdp")
            int count_packets(struct xdp_md *ctx)
            {
            \t__u32 key = 0;
            \t__u64 *value = bpf_map_lookup_elem(&packets, &key);

            \tif (value)
            \t\t__sync_fetch_and_add(value, 1);
            \treturn XDP_PASS;
            }

            """)
        try project.write("xdp-counter.c", """
            #include <stdio.h>
            #include <string.h>
            #include <bpf/libbpf.h>
            #include "xdp-counter.skel.h"

            int main(int argc, char **argv)
            {
            \tstruct xdp_counter_bpf *skel;

            \tif (argc > 1 && !strcmp(argv[1], "--print")) {
            \t\tprintf("xdp-counter: skeleton struct xdp_counter_bpf\\n");
            \t\treturn 0;
            \t}
            \tskel = xdp_counter_bpf__open_and_load();
            \tif (!skel) {
            \t\tfprintf(stderr, "xdp-counter: failed to open and load the skeleton\\n");
            \t\treturn 1;
            \t}
            \tprintf("xdp-counter: loaded %s\\n", bpf_program__name(skel->progs.count_packets));
            \txdp_counter_bpf__destroy(skel);
            \treturn 0;
            }

            """)
        try project.write("lonely.bpf.c", """
            #include "vmlinux.h"
            #include <bpf/bpf_helpers.h>

            char LICENSE[] SEC("license") = "GPL";

            SEC("tp/syscalls/sys_enter_close")
            int on_close(void *ctx)
            {
            \treturn 0;
            }

            """)
        // Not part of the project: swbpf must not even look at these.
        try project.write("tests/broken.c", "this is not C at all;\n")
        try project.write("tests/broken.bpf.c", "neither is this;\n")
        try project.write("tests/helpers.h", "#error this header must never be used\n")
    }

    private static func writeTracepointApp(_ project: TemporaryProject, name: String, tracepoint: String,
                                           angleVmlinux: Bool, usesHelpers: Bool) throws {
        try project.write("\(name).bpf.c", """
            \(angleVmlinux ? "#include <vmlinux.h>" : "#include \"vmlinux.h\"")
            #include <bpf/bpf_helpers.h>
            #include "common.h"

            char LICENSE[] SEC("license") = "GPL";

            unsigned int last_mixed = 0;

            SEC("tp/\(tracepoint)")
            int on_event(void *ctx)
            {
            \tlast_mixed = common_mix(bpf_get_current_pid_tgid() >> 32);
            \treturn 0;
            }

            """)
        let skeleton = name.replacingOccurrences(of: "-", with: "_") + "_bpf"
        try project.write("\(name).c", """
            #include <stdio.h>
            #include <string.h>
            #include <bpf/libbpf.h>
            #include "common.h"
            \(usesHelpers ? "#include \"helpers.h\"" : "")
            #include "\(name).skel.h"

            int main(int argc, char **argv)
            {
            \tstruct \(skeleton) *skel;

            \tif (argc > 1 && !strcmp(argv[1], "--print")) {
            \t\tprintf("%s \(name) %u %s\\n", COMMON_TAG, common_mix(1), \(usesHelpers ? "helper_describe()" : "\"no-helpers\""));
            \t\treturn 0;
            \t}
            \tskel = \(skeleton)__open_and_load();
            \tif (!skel) {
            \t\tfprintf(stderr, "\(name): failed to open and load the skeleton\\n");
            \t\treturn 1;
            \t}
            \tprintf("\(name): loaded %s\\n", bpf_program__name(skel->progs.on_event));
            \t\(skeleton)__destroy(skel);
            \treturn 0;
            }

            """)
    }
}
