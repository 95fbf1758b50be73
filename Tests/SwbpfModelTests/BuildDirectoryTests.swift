import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
import SwbpfTestSupport

/// The output and bin directories must be swbpf's to fill (issue 20, item 6).
@Suite struct BuildDirectoryTests {
    /// An app `a` (a.bpf.c, a.c), a helper under lib/, and swbpf.toml with `settings`.
    func project(_ settings: String) throws -> TemporaryProject {
        let project = try TemporaryProject("build-directories")
        try project.write("a.bpf.c", "char LICENSE[] __attribute__((section(\"license\"))) = \"GPL\";\n")
        try project.write("a.c", "int main(void) { return 0; }\n")
        try project.write("lib/helper.c", "int helper(void) { return 1; }\n")
        try project.write("swbpf.toml", "sources = [\"lib/helper.c\"]\n" + settings + "\n")
        return project
    }

    func refusal(_ settings: String) throws -> (key: String, line: Int, problem: String)? {
        let project = try project(settings)
        do {
            _ = try ProjectLoader.load(directory: project.path)
            return nil
        } catch ProjectError.unusableBuildDirectory(let key, _, let line, let problem) {
            return (key, line, problem)
        }
    }

    @Test(arguments: ["", ".", "./", "lib/..", "/", "..", "../..", "lib"])
    func anOutputDirectoryThatIsOrHoldsTheSourcesIsRefused(_ value: String) throws {
        let refused = try #require(try refusal("output = \"\(value)\""), "output = \"\(value)\" was accepted")
        #expect(refused.key == "output" && refused.line == 2, "\(refused)")
    }

    @Test func theProjectDirectoryByItsAbsolutePathIsRefused() throws {
        let project = try project("")
        try project.write("swbpf.toml", "output = \"\(project.path)/\"\n")
        #expect(throws: ProjectError.self) { try ProjectLoader.load(directory: project.path) }
    }

    @Test(arguments: ["", "/", "..", "lib"])
    func aBinDirectoryThatIsEmptyRootAboveOrAmongSourcesIsRefused(_ value: String) throws {
        let refused = try #require(try refusal("bin = \"\(value)\""), "bin = \"\(value)\" was accepted")
        #expect(refused.key == "bin", "\(refused)")
    }

    @Test(arguments: ["output = \"build\"", "output = \"../elsewhere\"", "bin = \".\"", "bin = \"bin\"", "output = \"out/x\"\nbin = \"out/bin\""])
    func directoriesOfTheirOwnAreAccepted(_ settings: String) throws {
        #expect(try refusal(settings) == nil)
    }

    @Test func theMessageSaysWhichKeyLineAndWhy() throws {
        let project = try project("output = \".\"")
        #expect {
            try ProjectLoader.load(directory: project.path)
        } throws: { error in
            let text = Diagnostic(of: error).rendered
            return text.contains("output = \".\" is the project directory") && text.contains("swbpf.toml:2") && text.contains("output = \".output\"")
        }
    }

    // MARK: An existing output directory

    func check(_ project: TemporaryProject) throws {
        try ProjectLoader.load(directory: project.path).checkOutputDirectoryIsSwbpfs()
    }

    @Test func aNonEmptyDirectoryThatIsNotSwbpfsIsRefusedAndNamed() throws {
        let project = try project("output = \"build\"")
        try project.write("build/notes.txt", "mine\n")
        #expect(throws: ProjectError.outputDirectoryNotSwbpfs(path: "build", foreign: ["notes.txt"])) { try check(project) }
    }

    @Test func anEmptyOrNewOrSwbpfsOwnDirectoryIsAccepted() throws {
        let project = try project("output = \"build\"")
        try check(project)
        try FileManager.default.createDirectory(atPath: project.path + "/build", withIntermediateDirectories: true)
        try check(project)
        try project.write("build/.swbpf/state", "")
        try project.write("build/a.bpf.o", "")
        try check(project)
        // A cross build's state is in the target's subdirectory.
        let cross = try self.project("")
        try cross.write(".output/arm64/.swbpf/state", "")
        try check(cross)
    }

    /// libbpf-bootstrap's Makefile leaves .output with libbpf, bpftool and each app's objects:
    /// swbpf builds there; anything else in it stops the build.
    @Test func makesOutputDirectoryIsAcceptedAndNothingMore() throws {
        let project = try project("")
        for name in ["libbpf/libbpf.o", "libbpf.a", "bpf/libbpf.h", "pkgconfig/libbpf.pc", "bpftool/bootstrap/bpftool",
                     "a.tmp.bpf.o", "a.bpf.o", "a.skel.h", "a.o", "helper.o"] {
            try project.write(".output/" + name, "")
        }
        try check(project)
        try project.write(".output/b.skel.h", "")
        #expect(throws: ProjectError.outputDirectoryNotSwbpfs(path: ".output", foreign: ["b.skel.h"])) { try check(project) }
    }
}
