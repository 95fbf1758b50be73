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

/// Small correct apps and tools for the reliability suites, which run the real binary.
enum Reliability {
    /// A tracepoint kernel part and a user part that opens its skeleton; `header` is included by
    /// both when given.
    static func writeApp(_ project: TemporaryProject, _ app: String, header: String? = nil, skeleton: String? = nil) throws {
        let include = header.map { "#include \"\($0)\"\n" } ?? ""
        try project.write("\(app).bpf.c", """
            #include "vmlinux.h"
            #include <bpf/bpf_helpers.h>
            \(include)
            char LICENSE[] SEC("license") = "GPL";

            SEC("tp/syscalls/sys_enter_getpid")
            int on_getpid(void *ctx)
            {
            \treturn 0;
            }

            """)
        let skeletonName = skeleton ?? App.skeletonName(of: app)
        try project.write("\(app).c", """
            #include <stdio.h>
            #include <bpf/libbpf.h>
            \(include)#include "\(app).skel.h"

            int main(void)
            {
            \tstruct \(skeletonName) *skel = NULL;
            \t(void)skel;
            \tputs("ok");
            \treturn 0;
            }

            """)
    }

    /// A wrapper around a real tool, written into the project: runs `before`, then the tool with
    /// the arguments it was given, then `after` (shell, in the project directory).
    static func wrapper(_ project: TemporaryProject, name: String, tool: String, before: String = "", after: String = "") throws -> String {
        try project.write("tools/\(name)", """
            #!/bin/sh
            \(before)
            \(tool) "$@" || exit $?
            \(after)

            """)
        let path = project.path("tools/\(name)")
        chmod(path, 0o755)
        return path
    }

    /// The step lines (`LABEL OUTPUT`) a build printed.
    static func steps(_ result: RunResult) -> [String] {
        result.stdout.lines.filter { $0.hasPrefix("  ") }.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
    }
}
