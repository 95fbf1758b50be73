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

/// The dirty check never records a wrong build: an input changed while its step runs, a header
/// that newly shadows the one a compile read, a vmlinux.h left from an earlier configuration.
@Suite(.timeLimit(.minutes(20))) struct RecordingTests {
    @Test func aSourceEditedWhileItCompilesIsCompiledAgainNextTime() throws {
        let project = try TemporaryProject("edit-during")
        try Reliability.writeApp(project, "tiny")
        // cc, and, the first time it compiles tiny.c (after reading it), a save of a new version.
        let cc = try Reliability.wrapper(project, name: "cc", tool: "/usr/bin/cc", after: """
            case "$*" in *" -c tiny.c "*) [ -e saved ] || { printf '/* saved during the build */\\n' >> tiny.c; touch saved; };; esac
            """)
        let first = try project.swbpf("build", environment: ["CC": cc])
        #expect(first.status == 0, "\(first.output)")
        // tiny.o was built from the old tiny.c: the next build must compile it again, once.
        let second = try project.swbpf("build", "--explain", environment: ["CC": cc])
        #expect(second.status == 0, "\(second.output)")
        #expect(Reliability.steps(second).contains("CC .output/tiny.o"), "\(second.output)")
        #expect(second.stderr.contains("input tiny.c changed"), "\(second.stderr)")
        let third = try project.swbpf("build", environment: ["CC": cc])
        expectNothingToDo(third, steps: 7)
    }

    @Test func aHeaderThatNowComesFirstOnTheIncludePathRebuilds() throws {
        let project = try TemporaryProject("shadow")
        try Reliability.writeApp(project, "tiny", header: "common.h")
        try project.write("include/common.h", "#define COMMON_TAG 1\n")
        try project.write("swbpf.toml", "include = [\"include\"]\n")
        #expect(try project.swbpf("build").status == 0)
        expectNothingToDo(try project.swbpf("build"), steps: 7)
        // A common.h beside the sources is found before include/common.h by both compiles.
        try project.write("common.h", "#define COMMON_TAG 2\n#error this header must now be read\n")
        let shadowed = try project.swbpf("build", "--explain")
        #expect(shadowed.status == 1, "the new header was not read: \(shadowed.output)")
        #expect(shadowed.stderr.contains("new file common.h comes before a header the step read"), "\(shadowed.stderr)")
        #expect(shadowed.output.contains("this header must now be read"))
        try project.write("common.h", "#define COMMON_TAG 2\n")
        #expect(try project.swbpf("build").status == 0)
        expectNothingToDo(try project.swbpf("build"), steps: 7)
    }

    @Test func theVmlinuxHeaderUsedIsAlwaysTheConfiguredOne() throws {
        let project = try TemporaryProject("vmlinux-choice")
        try Reliability.writeApp(project, "tiny")
        #expect(try project.swbpf("build").status == 0)
        #expect(project.exists(".output/vmlinux.h"))
        // The project now brings its own vmlinux.h: the generated one must not shadow it.
        let generated = try #require(project.data(".output/vmlinux.h"))
        try project.write("vmlinux.h", "#error the project's own vmlinux.h was read\n")
        let own = try project.swbpf("build")
        #expect(own.status == 1 && own.output.contains("the project's own vmlinux.h was read"), "\(own.output)")
        #expect(!project.exists(".output/vmlinux.h"), "the stale generated header is still there")
        try FileManager.default.createFile(atPath: project.path("vmlinux.h"), contents: generated)
        #expect(try project.swbpf("build").status == 0)
        // And back: the running kernel's BTF again.
        try FileManager.default.removeItem(atPath: project.path("vmlinux.h"))
        let back = try project.swbpf("build")
        #expect(back.status == 0 && Reliability.steps(back).contains("VMLINUX .output/vmlinux.h"), "\(back.output)")
    }
}
