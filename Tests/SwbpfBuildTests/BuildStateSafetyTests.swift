import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfBuild
import SwbpfTestSupport
#if canImport(Glibc)
import Glibc
#endif

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
