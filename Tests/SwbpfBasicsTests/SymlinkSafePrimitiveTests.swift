import Foundation
import Testing
@testable import SwbpfBasics
import SwbpfTestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SymlinkSafePrimitiveTests {
    @Test func writeAtomicallyUnlinksALinkPlantedAtItsTemporaryName() throws {
        let scratch = try Scratch()
        let output = scratch.path("out.txt")
        try scratch.link(FileSystem.temporarySibling(of: output), to: scratch.victim)
        try FileSystem.writeAtomically(output, Array("new contents\n".utf8))
        #expect(scratch.victimIsIntact)
        #expect(bytes(output) == "new contents\n")
        #expect(!FileSystem.isSymbolicLink(output))
        #expect(!FileSystem.exists(FileSystem.temporarySibling(of: output)) && !FileSystem.isSymbolicLink(FileSystem.temporarySibling(of: output)))
    }

    @Test func writeAtomicallyNeverCreatesTheTargetOfADanglingLink() throws {
        let scratch = try Scratch()
        let output = scratch.path("out.txt")
        let target = scratch.path("elsewhere/created-through-the-link")
        try scratch.link(FileSystem.temporarySibling(of: output), to: target)
        try FileSystem.writeAtomically(output, Array("x".utf8))
        #expect(!FileSystem.exists(target))
        #expect(bytes(output) == "x")
    }

    @Test func writeAtomicallyReplacesALinkAtThePathItself() throws {
        let scratch = try Scratch()
        let output = scratch.path("state")
        try scratch.link(output, to: scratch.victim)
        try FileSystem.writeAtomically(output, Array("mine\n".utf8))
        #expect(scratch.victimIsIntact)
        #expect(!FileSystem.isSymbolicLink(output) && bytes(output) == "mine\n")
    }

    @Test func writeAtomicallySaysWhatFailed() throws {
        let scratch = try Scratch()
        let output = scratch.path("missing-directory/out.txt")
        #expect {
            try FileSystem.writeAtomically(output, [1, 2, 3])
        } throws: { error in
            guard case FileError.cannotWrite(let path, let reason) = error else { return false }
            return path == output && reason.contains("No such file or directory") && reason.contains(FileSystem.temporarySibling(of: output))
        }
        // A directory at the temporary name cannot be unlinked: a clean error, nothing written.
        let blocked = scratch.path("blocked.txt")
        try FileManager.default.createDirectory(atPath: FileSystem.temporarySibling(of: blocked), withIntermediateDirectories: false)
        #expect(throws: FileError.self) { try FileSystem.writeAtomically(blocked, [1]) }
        #expect(!FileSystem.exists(blocked))
    }

    @Test func createExclusivelyNeverOpensWhatIsThere() throws {
        let scratch = try Scratch()
        try scratch.link("link", to: scratch.victim)
        try scratch.link("dangling", to: scratch.path("elsewhere/new"))
        try Data("existing".utf8).write(to: URL(fileURLWithPath: scratch.path("file")))
        for name in ["link", "dangling", "file"] {
            #expect(throws: FileError.self, "\(name)") { let fd = try FileSystem.createExclusively(scratch.path(name)); close(fd) }
        }
        #expect(scratch.victimIsIntact)
        #expect(!FileSystem.exists(scratch.path("elsewhere/new")))
        #expect(bytes(scratch.path("file")) == "existing")
        let fd = try FileSystem.createExclusively(scratch.path("fresh"))
        defer { close(fd) }
        try FileSystem.writeAll(Array("fresh".utf8), to: fd, path: scratch.path("fresh"))
        #expect(bytes(scratch.path("fresh")) == "fresh")
    }

    @Test func aFullDiskIsAnErrorWithThePath() throws {
        let fd = open("/dev/full", O_WRONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(throws: FileError.cannotWrite(path: "out/file", reason: "No space left on device")) {
            try FileSystem.writeAll([UInt8](repeating: 7, count: 100), to: fd, path: "out/file")
        }
    }

    @Test func staleTemporariesIncludeThoseWithThisProcessesPid() throws {
        let scratch = try Scratch()
        // A pid that has ended: a child this test started and reaped.
        let ended = try runProcess("/bin/sh", ["-c", "echo $$"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let own = ".out.\(getpid()).swbpf-tmp", dead = ".out.\(ended).swbpf-tmp", live = ".out.1.swbpf-tmp"
        let other = ".other.\(getpid()).swbpf-tmp"
        for name in [own, dead, live, other] { try scratch.link(name, to: scratch.victim) }
        let removed = FileSystem.removeStaleTemporaries(in: scratch.directory, base: "out")
        #expect(Set(removed) == [scratch.path(own), scratch.path(dead)])
        #expect(FileSystem.isSymbolicLink(scratch.path(live)) && FileSystem.isSymbolicLink(scratch.path(other)))
        #expect(scratch.victimIsIntact)
    }
}
