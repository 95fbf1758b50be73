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

/// swbpf never writes or deletes a file it did not create: products never replace a user's
/// file, a product can never be a source, and clean removes exactly what the state records.
@Suite(.timeLimit(.minutes(20))) struct OwnershipTests {
    @Test(arguments: ["bin", "output"])
    func aProductNeverReplacesAFileSwbpfDidNotMake(key: String) throws {
        let project = try TemporaryProject("victim-\(key)")
        try Reliability.writeApp(project, "tiny")
        let victim = try TemporaryProject("victim-dir")
        let mine = key == "bin" ? "tiny" : "tiny.o"
        try victim.write(mine, "the user's own file\n")
        try project.write("swbpf.toml", "\(key) = \"\(victim.path)\"\n")
        let result = try project.swbpf("build")
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("error: '\(victim.path)/\(mine)' exists and swbpf did not make it"), "\(result.stderr)")
        #expect(result.stderr.contains("'\(key) = \"DIR\"'"), "the key is not named: \(result.stderr)")
        #expect(try victim.read(mine) == "the user's own file\n")
        #expect(Reliability.steps(result).isEmpty, "steps ran before the refusal: \(result.stdout)")
    }

    @Test func aBinaryAnEarlierBuildMadeIsReplaced() throws {
        let project = try TemporaryProject("make-binary")
        try Reliability.writeApp(project, "tiny")
        #expect(try project.swbpf("build").status == 0)
        // As after switching from make, or after the state was lost: the binary is an ELF file.
        try FileManager.default.removeItem(atPath: project.path(".output"))
        let rebuilt = try project.swbpf("build")
        #expect(rebuilt.status == 0 && Reliability.steps(rebuilt).contains("BINARY tiny"), "\(rebuilt.output)")
    }

    @Test func aProductThatWouldOverwriteASourceIsRefusedWhenPlanning() throws {
        let project = try TemporaryProject("product-source")
        // App `util.c` (util.c.bpf.c + util.c.c) links the helper util.c: its binary is ./util.c.
        try Reliability.writeApp(project, "util.c", header: "util.h", skeleton: "util_c_bpf")
        try project.write("util.h", "int util(void);\n")
        try project.write("util.c", "#include \"util.h\"\nint util(void) { return 1; }\n")
        let result = try project.swbpf("build")
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("BINARY util.c would overwrite 'util.c', which CC .output/util.o reads"), "\(result.stderr)")
        #expect(try project.read("util.c") == "#include \"util.h\"\nint util(void) { return 1; }\n")
    }

    @Test func cleanWithoutStateRemovesNothing() throws {
        let project = try TemporaryProject("clean-nostate")
        try Reliability.writeApp(project, "minimal")
        try project.write("minimal", "#!/bin/sh\necho the user's own script\n")
        let result = try project.swbpf("clean")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("nothing to clean: there is no build state"), "\(result.stdout)")
        #expect(try project.read("minimal") == "#!/bin/sh\necho the user's own script\n")
    }

    @Test func cleanOutsideTheProjectRemovesOnlyRecordedProducts() throws {
        let project = try TemporaryProject("clean-outside")
        try Reliability.writeApp(project, "tiny")
        let outside = try TemporaryProject("clean-outside-dirs")
        try project.write("swbpf.toml", "output = \"\(outside.path)/out\"\nbin = \"\(outside.path)/bin\"\n")
        #expect(try project.swbpf("build").status == 0)
        try outside.write("out/notes.txt", "mine\n")
        try outside.write("bin/other-tool", "mine too\n")
        // A product the user changed after the build is theirs now.
        try outside.write("out/tiny.o", "edited by hand\n")
        let result = try project.swbpf("clean")
        #expect(result.status == 0, "\(result.output)")
        #expect(!outside.exists("bin/tiny") && !outside.exists("out/tiny.skel.h") && !outside.exists("out/vmlinux.h"))
        #expect(outside.exists("out/notes.txt") && outside.exists("bin/other-tool") && outside.exists("out/tiny.o"))
        #expect(result.stderr.contains("kept \(outside.path)/out/tiny.o: it was changed after swbpf built it"), "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: outside.path("bin")), "a directory of the user's was removed")
    }

    @Test func cleanWaitsForABuildAndNeverBreaksTheLock() throws {
        let project = try TemporaryProject("clean-during")
        try Reliability.writeApp(project, "tiny")
        let slow = try Reliability.wrapper(project, name: "clang", tool: "clang", before: "sleep 2")
        var environment = ProcessInfo.processInfo.environment
        environment["CLANG"] = slow
        let build = Process()
        build.executableURL = URL(fileURLWithPath: Swbpf.path)
        build.arguments = ["build"]
        build.currentDirectoryURL = URL(fileURLWithPath: project.path)
        build.environment = environment
        build.standardOutput = FileHandle.nullDevice
        build.standardError = FileHandle.nullDevice
        try build.run()
        // Wait until the build holds the lock, then clean.
        let deadline = Date().addingTimeInterval(20)
        while !project.exists(".output/.swbpf/lock"), Date() < deadline { usleep(20_000) }
        let clean = try project.swbpf("clean")
        build.waitUntilExit()
        #expect(build.terminationStatus == 0)
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.stderr.contains("waiting for another build"), "clean did not wait: \(clean.output)")
        // Clean ran after the build: everything it built is gone, and the state is gone with it.
        #expect(!project.exists("tiny") && !project.exists(".output/.swbpf/state"))
        let next = try project.swbpf("build")
        #expect(next.status == 0 && Reliability.steps(next).count == 7, "\(next.output)")
    }
}
