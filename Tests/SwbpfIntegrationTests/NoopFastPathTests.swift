import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfBuild
import SwbpfTestSupport

/// The no-op fast path (`NoopRecord`): every change the normal path would see still reaches it, the
/// fast path prints what a no-op prints, and only a plain build line ever writes or takes a record.
/// Each test builds its own copy of examples/minimal, so the tests run in parallel.
@Suite struct NoopFastPathTests {
    /// A built project whose plain `swbpf build` is answered by its record.
    struct Built {
        let project: TemporaryProject
        let steps: Int
        var records: String { project.path + "/.output/.swbpf/noop" }

        init() throws {
            project = try TemporaryProject(copying: "examples/minimal")
            let cold = try Swbpf.run(["build"], in: project.path)
            #expect(cold.status == 0, "\(cold.output)")
            #expect((FileSystem.list(project.path + "/.output/.swbpf/noop") ?? []).isEmpty,
                    "a build that ran steps records nothing (deciding again would cost every edit)")
            let recorded = try Swbpf.run(["build"], in: project.path)
            steps = Int(recorded.stdout.split(separator: " ").dropFirst(5).first ?? "") ?? -1
            expectNothingToDo(recorded, steps: steps)
            let written = FileSystem.list(project.path + "/.output/.swbpf/noop") ?? []
            #expect(written.count == 1, "the normal path's no-op records its line: \(written)")
        }

        var recordNames: [String] { FileSystem.list(records) ?? [] }
        /// Each record's inode: the normal path's no-op writes its record anew, the fast path
        /// writes nothing.
        var recordInodes: [String: UInt64] {
            Dictionary(uniqueKeysWithValues: recordNames.map { ($0, FileSystem.stat(records + "/" + $0)?.inode ?? 0) })
        }

        /// Runs `swbpf build ARGUMENTS`; says whether the fast path answered it.
        func build(_ arguments: [String] = [], environment: [String: String] = [:]) throws -> (result: RunResult, fast: Bool) {
            let before = recordInodes
            let result = try Swbpf.run(["build"] + arguments, in: project.path, environment: environment)
            #expect(result.status == 0, "\(result.output)")
            // A build that ran steps was not answered from a record; a no-op was when it wrote none.
            let noop = result.stdout.hasPrefix("swbpf: nothing to do")
            return (result, noop && !before.isEmpty && recordInodes == before)
        }
    }

    @Test func aNoopIsAnsweredFromTheRecordWithTheSameLine() throws {
        let built = try Built()
        let (result, fast) = try built.build()
        #expect(fast)
        expectNothingToDo(result, steps: built.steps)
    }

    @Test func editingASourceRebuildsAndTheNextNoopRecordsAgain() throws {
        let built = try Built()
        try built.project.write("minimal.c", try built.project.read("minimal.c") + "\nint noop_fast_path_edit(void) { return 1; }\n")
        let (result, fast) = try built.build()
        #expect(!fast)
        #expect(result.stdout.contains("CC") && result.stdout.contains("BINARY"), "\(result.output)")
        let next = try built.build()
        #expect(!next.fast, "the record names the edited source's old version")
        expectNothingToDo(next.result, steps: built.steps)
        let third = try built.build()
        #expect(third.fast, "the no-op before it recorded the new outputs")
        expectNothingToDo(third.result, steps: built.steps)
    }

    @Test func aFileBesideTheProjectChangesNothing() throws {
        let built = try Built()
        let sibling = built.project.path + "-sibling"
        try Data("beside\n".utf8).write(to: URL(fileURLWithPath: sibling))
        defer { try? FileManager.default.removeItem(atPath: sibling) }
        let (result, fast) = try built.build()
        #expect(fast, "only what the build read is watched, not the directory the project is in")
        expectNothingToDo(result, steps: built.steps)
    }

    @Test func aToolAppearingEarlierOnThePathTakesTheNormalPath() throws {
        let built = try Built()
        let tools = temporaryFilePath("swbpf-noop-path")
        try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tools) }
        let path = ["PATH": tools + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
        _ = try built.build(environment: path)
        let quiet = try built.build(environment: path)
        #expect(quiet.fast, "\(quiet.result.output)")
        // The resolver looked for bpftool in the empty directory first: it appearing there is a change.
        try FileManager.default.createSymbolicLink(atPath: tools + "/bpftool", withDestinationPath: "/usr/sbin/bpftool")
        let (_, fast) = try built.build(environment: path)
        #expect(!fast)
    }

    @Test func cleanThenBuildRebuildsEverything() throws {
        let built = try Built()
        let cleaned = try Swbpf.run(["clean"], in: built.project.path)
        #expect(cleaned.status == 0, "\(cleaned.output)")
        #expect(!built.project.exists(".output"), "the records go with the state")
        let result = try Swbpf.run(["build"], in: built.project.path)
        #expect(result.status == 0 && result.stdout.contains("BINARY"), "\(result.output)")
        #expect(built.project.isExecutable("minimal"))
    }

    @Test func touchingASourceTakesTheNormalPath() throws {
        let built = try Built()
        // No times: both become now (the content is left as it was).
        #expect(utimensat(AT_FDCWD, built.project.path + "/minimal.bpf.c", nil, 0) == 0)
        let (result, fast) = try built.build()
        #expect(!fast)
        expectNothingToDo(result, steps: built.steps)
    }

    @Test func aNewHeaderThatCouldShadowOneTakesTheNormalPath() throws {
        let built = try Built()
        try FileManager.default.createDirectory(atPath: built.project.path + "/bpf", withIntermediateDirectories: true)
        try built.project.write("bpf/bpf_helpers.h", "#error shadowing header\n")
        let (_, fast) = try built.build()
        #expect(!fast)
    }

    @Test func aDeletedProductIsRebuilt() throws {
        let built = try Built()
        try FileManager.default.removeItem(atPath: built.project.path + "/minimal")
        let (result, fast) = try built.build()
        #expect(!fast)
        #expect(result.stdout.contains("BINARY"), "\(result.output)")
        #expect(built.project.isExecutable("minimal"))
    }

    @Test func aKnobOnTheCommandLineOrInTheEnvironmentRebuilds() throws {
        let built = try Built()
        let knob = try built.build(["CFLAGS=-O1"])
        #expect(!knob.fast)
        #expect(knob.result.stdout.contains("CC"), "\(knob.result.output)")
        let environment = try built.build(environment: ["CFLAGS": "-O0"])
        #expect(!environment.fast)
        #expect(environment.result.stdout.contains("CC"), "\(environment.result.output)")
    }

    @Test func aChangedConfigRebuilds() throws {
        let built = try Built()
        try built.project.write("swbpf.toml", "cflags = [\"-DNOOP_FAST_PATH=1\"]\n")
        let (result, fast) = try built.build()
        #expect(!fast)
        #expect(result.stdout.contains("CC"), "\(result.output)")
    }

    @Test func aNewAppIsBuilt() throws {
        let built = try Built()
        try built.project.write("second.bpf.c", try built.project.read("minimal.bpf.c"))
        try built.project.write("second.c", try built.project.read("minimal.c").replacingOccurrences(of: "minimal", with: "second"))
        let (result, fast) = try built.build()
        #expect(!fast)
        #expect(built.project.isExecutable("second"), "\(result.output)")
    }

    @Test func dryRunsExplainAndAlwaysMakeNeverUseOrWriteARecord() throws {
        let built = try Built()
        let dryRun = try built.build(["-n"])
        #expect(dryRun.result.stdout == "swbpf: nothing to do, all \(built.steps) steps are up to date\n", "\(dryRun.result.output)")
        let explained = try Swbpf.run(["build", "--explain"], in: built.project.path)
        expectNothingToDo(explained, steps: built.steps)
        // -B writes no record, so the record's inode cannot tell; every step running can.
        let always = try built.build(["-B"])
        #expect(always.result.stdout.contains("BINARY"), "-B must run every step: \(always.result.output)")
        #expect(built.recordNames.count == 1, "only the plain build line has a record: \(built.recordNames)")
    }
}
