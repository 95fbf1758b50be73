import Foundation
import Testing
@testable import SwbpfBasics
import SwbpfTestSupport

/// A build writes only in directories that are swbpf's to fill (issue 20, item 6): refused ones
/// stop the build before anything is written.
@Suite(.timeLimit(.minutes(20))) struct OutputDirectoryTests {
    @Test(arguments: [".", "", "/"])
    func anOutputOfTheProjectEmptyOrRootIsRefusedBeforeAnythingIsWritten(_ value: String) throws {
        let project = try TemporaryProject("output-refused")
        try Reliability.writeApp(project, "tiny")
        try project.write("swbpf.toml", "output = \"\(value)\"\n")
        let result = try project.swbpf("build")
        #expect(result.status != 0)
        #expect(result.stderr.contains("swbpf.toml:1") && result.stderr.contains("output = \"\(value)\""), "\(result.output)")
        #expect(!project.exists(".swbpf") && !project.exists("vmlinux.h") && !FileSystem.exists("/.swbpf"))
    }

    @Test func aUsersNonEmptyDirectoryIsRefusedAndLeftAlone() throws {
        let project = try TemporaryProject("output-foreign")
        try Reliability.writeApp(project, "tiny")
        try project.write("build/notes.txt", "mine\n")
        try project.write("swbpf.toml", "output = \"build\"\n")
        let result = try project.swbpf("build")
        #expect(result.status != 0)
        #expect(result.stderr.contains("output directory 'build' already holds files that are not swbpf's: 'notes.txt'"), "\(result.output)")
        #expect(try project.read("build/notes.txt") == "mine\n" && !project.exists("build/.swbpf") && !project.exists("build/vmlinux.h"))
    }

    /// The .output libbpf-bootstrap's Makefile left: swbpf builds there, replacing make's products.
    /// (Not make's bpf/ headers: -I.output would find them before the system libbpf's.)
    @Test func theOutputMakeLeftIsBuiltIn() throws {
        let project = try TemporaryProject("output-make")
        try Reliability.writeApp(project, "tiny")
        for name in ["libbpf/libbpf.o", "libbpf.a", "bpftool/bootstrap/bpftool", "tiny.tmp.bpf.o", "tiny.bpf.o", "tiny.skel.h", "tiny.o"] {
            try project.write(".output/" + name, "made by make\n")
        }
        let result = try project.swbpf("build")
        #expect(result.status == 0, "\(result.output)")
        #expect(project.exists(".output/.swbpf/state"))
        #expect(project.data(".output/tiny.bpf.o")?.starts(with: [0x7F, 0x45, 0x4C, 0x46]) == true)
    }
}
