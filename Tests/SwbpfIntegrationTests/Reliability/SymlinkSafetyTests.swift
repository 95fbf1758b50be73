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
#if canImport(Glibc)
import Glibc
#endif

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
        // The output directory is swbpf's (an earlier build made it, with its state directory), so
        // the planted links are inside a directory swbpf builds in, as an attacker would find it.
        try FileManager.default.createDirectory(atPath: project.path(".output/.swbpf"), withIntermediateDirectories: true)
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
