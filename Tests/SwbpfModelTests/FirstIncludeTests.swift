import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
import SwbpfTestSupport

@Suite struct FirstIncludeTests {
    @Test(arguments: [
        ("// SPDX-License-Identifier: GPL-2.0\n/* Copyright */\n#include \"vmlinux.h\"\n#include <bpf/bpf_helpers.h>\n", "vmlinux.h"),
        ("  #  include <vmlinux.h>\n", "vmlinux.h"),
        ("/* a\n * long comment */ #include \"vmlinux.h\"", "vmlinux.h"),
        ("#include <linux/bpf.h>\n#include \"vmlinux.h\"\n", "linux/bpf.h"),
    ])
    func findsTheFirstInclude(_ source: String, _ expected: String) {
        #expect(FirstInclude.firstInclude(in: Array(source.utf8)) == expected)
    }

    @Test(arguments: ["#define DEBUG 1\n#include \"vmlinux.h\"\n", "int x;\n#include \"vmlinux.h\"\n", "#if 1\n#include \"vmlinux.h\"\n#endif\n", ""])
    func anythingBeforeTheIncludeMeansNone(_ source: String) {
        #expect(FirstInclude.firstInclude(in: Array(source.utf8)) == nil)
    }
}
