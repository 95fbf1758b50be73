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
#if canImport(Glibc)
import Glibc
#endif

// Files swbpf creates itself (temporaries, the lock, the state) are never opened through a symbolic
// link planted in their place, and never clobber what is there: first the primitives, then the
// binary with links planted before a build.

/// A scratch directory with a victim file outside anything swbpf is asked to write.
private final class Scratch {
    let directory: String
    let victim: String
    static let victimBytes = Array("the victim's own bytes\n".utf8)

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-links-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory + "/elsewhere", withIntermediateDirectories: true)
        victim = directory + "/elsewhere/victim"
        try Data(Self.victimBytes).write(to: URL(fileURLWithPath: victim))
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String) -> String { directory + "/" + name }

    func link(_ name: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: name.hasPrefix("/") ? name : path(name), withDestinationPath: target)
    }

    var victimIsIntact: Bool { FileSystem.read(victim) == Self.victimBytes && !FileSystem.isSymbolicLink(victim) }
}

private func bytes(_ path: String) -> String? { FileSystem.readText(path) }

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

@Suite struct BuildLockSafetyTests {
    private func expectRefused(_ lock: String, problem: String, sourceLocation: SourceLocation = #_sourceLocation) async {
        #expect(BuildLock.tryAcquire(path: lock) == nil, sourceLocation: sourceLocation)
        await #expect(sourceLocation: sourceLocation) {
            _ = try await BuildLock.acquire(path: lock, timeoutSeconds: 1, onWait: { _ in })
        } throws: { error in
            guard case OutputError.notSwbpfsOwn(let path, let reason) = error else { return false }
            return path == lock || path == FileSystem.split(lock).directory ? reason.contains(problem) : false
        }
    }

    @Test func aLinkAtTheLockIsRefusedAndNeverFollowed() async throws {
        let scratch = try Scratch()
        let lock = scratch.path("lock")
        try scratch.link("lock", to: scratch.victim)
        await expectRefused(lock, problem: "is a symbolic link to '\(scratch.victim)'")
        #expect(scratch.victimIsIntact)
        do {
            _ = try await BuildLock.acquire(path: lock, timeoutSeconds: 1, onWait: { _ in })
        } catch let error as OutputError {
            #expect(error.description.hasPrefix("error: '\(lock)' is a symbolic link"), "\(error)")
            #expect(error.description.contains("\nhelp: remove it ('rm \(lock)') and run swbpf again"), "\(error)")
        }
    }

    @Test func aDanglingLinkDoesNotCreateItsTarget() async throws {
        let scratch = try Scratch()
        let target = scratch.path("elsewhere/made-by-the-lock")
        try scratch.link("lock", to: target)
        await expectRefused(scratch.path("lock"), problem: "is a symbolic link")
        #expect(!FileSystem.exists(target))
    }

    @Test func aLinkAsTheLocksDirectoryIsRefused() async throws {
        let scratch = try Scratch()
        try scratch.link(".swbpf", to: scratch.path("elsewhere"))
        await expectRefused(scratch.path(".swbpf/lock"), problem: "is a symbolic link to '\(scratch.path("elsewhere"))'")
        #expect(!FileSystem.exists(scratch.path("elsewhere/lock")))
    }

    @Test func aFIFOOrAHardLinkIsRefused() async throws {
        let scratch = try Scratch()
        #expect(mkfifo(scratch.path("fifo"), 0o644) == 0)
        await expectRefused(scratch.path("fifo"), problem: "is not a regular file")
        #expect(link(scratch.victim, scratch.path("hard")) == 0)
        await expectRefused(scratch.path("hard"), problem: "has 1 other hard link(s)")
        #expect(scratch.victimIsIntact)
    }

    @Test func aRegularLockStillWorks() async throws {
        let scratch = try Scratch()
        let lock = try await BuildLock.acquire(path: scratch.path("lock"), timeoutSeconds: 1, onWait: { _ in })
        #expect(bytes(scratch.path("lock")) == "pid \(getpid())\n")
        withExtendedLifetime(lock) {}
    }
}

@Suite struct BoundedStateReadTests {
    private func expectWarningAndRewrite(_ scratch: Scratch, problem: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = scratch.path("state")
        let state = BuildState.load(path: path)
        let warning = try #require(state.warning, sourceLocation: sourceLocation)
        #expect(warning == "ignoring build state \(path): \(problem); rebuilding everything", sourceLocation: sourceLocation)
        #expect(state.steps.isEmpty && state.files.isEmpty, sourceLocation: sourceLocation)
        try state.record(StepRecord(key: "x.o", toolRole: "cc", toolVersion: "1", toolIdentity: "1", commandLine: "cc",
                                    inputs: [], outputs: []))
        #expect(!FileSystem.isSymbolicLink(path), sourceLocation: sourceLocation)
        let reloaded = BuildState.load(path: path)
        #expect(reloaded.warning == nil && reloaded.steps["x.o"] != nil, sourceLocation: sourceLocation)
    }

    @Test func aLinkToDevZeroIsIgnoredAndReplaced() throws {
        let scratch = try Scratch()
        try scratch.link("state", to: "/dev/zero")
        try expectWarningAndRewrite(scratch, problem: "it is a symbolic link to '/dev/zero'")
    }

    @Test func aLinkToAValidStateIsNotFollowedEither() throws {
        let scratch = try Scratch()
        try scratch.link("state", to: scratch.victim)
        try expectWarningAndRewrite(scratch, problem: "it is a symbolic link to '\(scratch.victim)'")
        #expect(scratch.victimIsIntact)
    }

    @Test func aFIFOIsNotWaitedFor() throws {
        let scratch = try Scratch()
        #expect(mkfifo(scratch.path("state"), 0o644) == 0)
        try expectWarningAndRewrite(scratch, problem: "it is a FIFO, not a regular file")
    }

    @Test func aFileLargerThanTheBoundIsNotRead() throws {
        let scratch = try Scratch()
        let fd = open(scratch.path("state"), O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        // Sparse: no block of it is written.
        #expect(ftruncate(fd, off_t(BuildState.sizeLimit + 1)) == 0)
        close(fd)
        try expectWarningAndRewrite(scratch, problem: "it is \(BuildState.sizeLimit + 1) bytes, more than the \(BuildState.sizeLimit) bytes allowed")
    }

    @Test func aDirectoryIsIgnored() throws {
        let scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.path("state"), withIntermediateDirectories: false)
        #expect(BuildState.load(path: scratch.path("state")).warning?.contains("it is a directory, not a regular file") == true)
    }
}

/// Through the binary: links planted in a project before it is built.
@Suite struct PlantedLinkBuildTests {
    static let app = "minimal"

    @Test func aLinkAtTheLockStopsTheBuildAndTheVictimIsUntouched() throws {
        let scratch = try Scratch()
        let project = try TemporaryProject(copying: "examples/minimal")
        try FileManager.default.createDirectory(atPath: project.path(".output/.swbpf"), withIntermediateDirectories: true)
        let lock = project.path(".output/.swbpf/lock")
        try scratch.link(lock, to: scratch.victim)
        let build = try project.build()
        #expect(build.status == 1, "\(build)")
        #expect(build.result.stderr.contains("error: '\(lock)' is a symbolic link to '\(scratch.victim)'"), "\(build)")
        #expect(build.result.stderr.contains("help: remove it ('rm \(lock)')"), "\(build)")
        #expect(build.steps.isEmpty)
        #expect(scratch.victimIsIntact)
    }

    @Test func aLinkAsSwbpfsDirectoryStopsTheBuild() throws {
        let scratch = try Scratch()
        let project = try TemporaryProject(copying: "examples/minimal")
        try FileManager.default.createDirectory(atPath: project.path(".output"), withIntermediateDirectories: true)
        try scratch.link(project.path(".output/.swbpf"), to: scratch.path("elsewhere"))
        let build = try project.build()
        #expect(build.status == 1, "\(build)")
        #expect(build.result.stderr.contains("error: '\(project.path(".output/.swbpf"))' is a symbolic link"), "\(build)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path("elsewhere")) == ["victim"])
        #expect(scratch.victimIsIntact)
    }

    /// The build's temporaries carry its pid, unknown before it starts; links are planted at the
    /// names of the next pids this machine will hand out, and the build's own pid (which it
    /// writes into its lock file) is checked to be among them.
    @Test func linksPlantedAtTheBuildsTemporaryNamesAreRemovedNotFollowed() throws {
        let scratch = try Scratch()
        let project = try TemporaryProject(copying: "examples/minimal")
        try FileManager.default.createDirectory(atPath: project.path(".output"), withIntermediateDirectories: true)
        let pidMax = Int32((try? String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 32768
        let last = try #require(Int32(try runProcess("/bin/sh", ["-c", "echo $$"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        // Pids wrap at pid_max to 300 (the kernel keeps the low ones).
        let planted = (1...2000).map { offset -> Int32 in
            let next = Int32(last) + Int32(offset)
            return next < pidMax ? next : 300 + (next - pidMax) % (pidMax - 300)
        }
        // A redirect (`> vmlinux.h`, `> skel.h`), the compilers' -o and -MF files, the linker's -o.
        let names = [".output/vmlinux.h", ".output/\(Self.app).skel.h", ".output/\(Self.app).o", ".output/\(Self.app).d",
                     ".output/\(Self.app).tmp.bpf.o", ".output/\(Self.app).tmp.bpf.d", Self.app]
        for pid in planted {
            for name in names {
                let (directory, base) = FileSystem.split(name)
                try scratch.link(project.path(FileSystem.join(directory, ".\(base).\(pid).\(FileSystem.temporarySuffix)")), to: scratch.victim)
            }
        }
        let build = try project.build()
        #expect(build.status == 0, "\(build)")
        #expect(scratch.victimIsIntact)
        let holder = try project.read(".output/.swbpf/lock")
        let pid = try #require(Int32(holder.dropFirst(4).trimmingCharacters(in: .whitespacesAndNewlines)), "lock holds \(holder)")
        #expect(planted.contains(pid), "the build's pid \(pid) is not among those planted (\(planted.first!)...): the test proved nothing")
        for name in names {
            #expect(!FileSystem.isSymbolicLink(project.path(name)), "\(name) is a link")
            let (directory, base) = FileSystem.split(name)
            #expect(!FileSystem.isSymbolicLink(project.path(FileSystem.join(directory, ".\(base).\(pid).\(FileSystem.temporarySuffix)"))))
        }
        #expect(project.isExecutable(Self.app))
    }
}

/// Through the binary: a state file that is not a regular file of sane size.
@Suite struct UnreadableStateBuildTests {
    enum Replacement: String, CaseIterable, CustomTestStringConvertible {
        case linkToDevZero, sparse50GB, fifo
        var testDescription: String { rawValue }
    }

    @Test(arguments: Replacement.allCases)
    func theBuildWarnsRebuildsAndLeavesARegularState(_ replacement: Replacement) throws {
        let project = try TemporaryProject(copying: "examples/minimal")
        let cold = try project.build()
        try #require(cold.status == 0, "\(cold)")
        let state = project.statePath
        try FileManager.default.removeItem(atPath: state)
        let problem: String
        switch replacement {
        case .linkToDevZero:
            try FileManager.default.createSymbolicLink(atPath: state, withDestinationPath: "/dev/zero")
            problem = "it is a symbolic link to '/dev/zero'"
        case .sparse50GB:
            try #require(runProcess("/usr/bin/truncate", ["-s", "50G", state]).status == 0)
            problem = "it is \(50 << 30) bytes, more than the \(BuildState.sizeLimit) bytes allowed"
        case .fifo:
            try #require(mkfifo(state, 0o644) == 0)
            problem = "it is a FIFO, not a regular file"
        }
        let build = try project.build()
        #expect(build.status == 0, "\(build)")
        #expect(build.warnings == ["warning: ignoring build state \(state): \(problem); rebuilding everything"], "\(build)")
        #expect(Set(build.steps) == StepID.everything([PlantedLinkBuildTests.app]), "\(build)")
        var info = stat()
        #expect(lstat(state, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && info.st_size < 1 << 20)
        #expect(stat("/dev/zero", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR)
        #expect(try project.build().isNoOp)
    }
}
