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

/// File names are data: never an option or a response file for a tool, never an escape sequence
/// on the terminal, and the printed commands still replay.
@Suite(.timeLimit(.minutes(20))) struct FileNameTests {
    @Test func namesThatLookLikeOptionsAreFilesToEveryTool() throws {
        let project = try TemporaryProject("option-names")
        try Reliability.writeApp(project, "-rf", skeleton: "_rf_bpf")
        // clang reads `@evil.bpf.c` as a response file named evil.bpf.c: these words would make it
        // write a marker (and could have loaded a plugin).
        try Reliability.writeApp(project, "@evil", skeleton: "_evil_bpf")
        try project.write("evil.bpf.c", "-MD -MF pwned.d\n")
        let result = try project.swbpf("build", "-v")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains(" -c ./-rf.bpf.c ") && result.stdout.contains(" -c ./-rf.c "), "\(result.stdout)")
        #expect(result.stdout.contains(" -o ./-rf"), "\(result.stdout)")
        #expect(project.isExecutable("-rf"))
        // clang hands a source's base name to its compiler proper, which reads `@NAME` as options
        // whatever the path says, so such an app is left out with a note, never compiled.
        #expect(result.stderr.contains("note: @evil.bpf.c is not built: clang reads a file whose name starts with '@'"), "\(result.stderr)")
        #expect(!result.stdout.contains("@evil.bpf.c"))
        #expect(!project.exists("pwned.d"), "a file name was read as a response file")
    }

    @Test func controlCharactersInNamesAreEscapedAndCommandsStillReplay() throws {
        let name = "bell\u{07}red\u{1b}[31m"
        let project = try TemporaryProject("control-names")
        try Reliability.writeApp(project, name, skeleton: App.skeletonName(of: name))
        let result = try project.swbpf("build", "-v")
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.output.utf8.contains(0x1B) && !result.output.utf8.contains(0x07), "raw control characters printed")
        let short = try TemporaryProject("control-names-short")
        try Reliability.writeApp(short, name, skeleton: App.skeletonName(of: name))
        let plain = try short.swbpf("build")
        #expect(plain.status == 0 && !plain.output.utf8.contains(0x1B), "\(plain.output)")

        // The -v lines, pasted into sh in a copy of the sources, rebuild the binary.
        let replay = try TemporaryProject("control-names-replay")
        for file in ["\(name).bpf.c", "\(name).c"] { try replay.write(file, try project.read(file)) }
        try FileManager.default.createDirectory(atPath: replay.path(".output"), withIntermediateDirectories: true)
        let script = result.stdout.lines.joined(separator: "\n") + "\n"
        let shell = try runProcess("/bin/sh", ["-e", "-c", script], in: replay.path)
        #expect(shell.status == 0, "\(shell.output)")
        #expect(replay.isExecutable(name))
    }
}
