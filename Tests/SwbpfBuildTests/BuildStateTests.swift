import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfBuild
import SwbpfTestSupport

@Suite struct BuildStateTests {
    @Test func recordsSurviveARoundTripWithAwkwardCharacters() throws {
        let path = temporaryFilePath("swbpf-state")
        defer { unlink(path) }
        let state = BuildState.load(path: path)
        #expect(!state.existed)
        let record = StepRecord(key: "out dir/a\tb.o", toolRole: "cc", toolVersion: "12.2.0", toolIdentity: "12.2.0 /usr/bin/cc  1:2",
                                commandLine: StepRecord.commandLine(["cc", "-DX=\"a b\"", "100%", "-c", "a\nb.c"]),
                                inputs: [.init(path: "a\u{1f}.c", digest: Digest(high: 1, low: .max), kind: .declared),
                                         .init(path: "h.h", digest: Digest(high: 0xabc, low: 0), kind: .discovered)],
                                outputs: [.init(path: "out dir/a\tb.o", stat: FileStat(size: 1, mtimeNanoseconds: 2, inode: 3))])
        try state.record(record)
        let reloaded = BuildState.load(path: path)
        #expect(reloaded.warning == nil)
        #expect(reloaded.steps["out dir/a\tb.o"] == record)
        #expect(reloaded.steps["out dir/a\tb.o"]?.command == ["cc", "-DX=\"a b\"", "100%", "-c", "a\nb.c"])
    }

    /// States written before tool answers had their own file hold them as `T` lines: such a state
    /// is read without a warning, its records are kept, and its next write leaves the lines out.
    @Test func toolAnswerLinesOfAnOlderStateAreSkippedThenDropped() throws {
        let path = temporaryFilePath("swbpf-state")
        defer { unlink(path) }
        let digest = String(repeating: "0", count: 28) + "ffff"
        try FileSystem.writeAtomically(path, Array("""
            swbpf-state \(BuildState.formatVersion)
            P\t0\ta.c
            F\t0\t1\t2\t3\t\(digest)
            T\tclang /usr/bin/clang  1:2:3\t14.0.6\tbpf\t/usr/include
            T\tannounced toolchain\tlibbpf 1.1.2 from the system
            P\t1\ta.o
            S\t1\tcc\t12\t12 /usr/bin/cc\tcc\t0\u{1f}\(digest)\u{1f}i\t1\u{1f}5\u{1f}6\u{1f}7

            """.utf8))
        let state = BuildState.load(path: path)
        #expect(state.warning == nil)
        #expect(state.files["a.c"]?.digest == Digest(high: 0, low: 0xffff))
        #expect(state.steps["a.o"]?.inputs.map(\.path) == ["a.c"])
        try state.flush()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("\nT\t") && text.contains("a.c"), "the T lines were kept: \(text)")
        #expect(BuildState.load(path: path).steps["a.o"] == state.steps["a.o"])
    }

    @Test func aTruncatedLastLineIsDroppedNotFatal() throws {
        let path = temporaryFilePath("swbpf-state")
        defer { unlink(path) }
        let digest = String(repeating: "0", count: 28) + "ffff"
        try FileSystem.writeAtomically(path, Array("swbpf-state \(BuildState.formatVersion)\nP\t0\ta.c\nF\t0\t1\t2\t3\t\(digest)\nS\t0\tcc".utf8))
        let state = BuildState.load(path: path)
        #expect(state.warning == nil)
        #expect(state.files["a.c"]?.digest == Digest(high: 0, low: 0xffff))
        #expect(state.steps.isEmpty)
        // The next record must not be glued to the torn line: the file is rewritten, and reads back whole.
        try state.record(StepRecord(key: "x.o", toolRole: "cc", toolVersion: "1", toolIdentity: "1", commandLine: "cc",
                                    inputs: [.init(path: "a.c", digest: Digest(high: 0, low: 0xffff), kind: .declared)],
                                    outputs: []))
        let reloaded = BuildState.load(path: path)
        #expect(reloaded.warning == nil)
        #expect(reloaded.steps["x.o"]?.inputs.first?.path == "a.c")
    }

    @Test func corruptOrFutureStateGivesOneWarning() throws {
        let path = temporaryFilePath("swbpf-state")
        defer { unlink(path) }
        for text in ["garbage\n", "swbpf-state 99\nF\ta\n", "swbpf-state \(BuildState.formatVersion)\nQ\tnonsense\n", "swbpf-state \(BuildState.formatVersion)\nP\t0\ta.c\nF\t0\tx\t2\t3\tff\n",
                     "swbpf-state \(BuildState.formatVersion)\nF\t7\t1\t2\t3\t\(String(repeating: "a", count: 32))\n"] {
            try FileSystem.writeAtomically(path, Array(text.utf8))
            let state = BuildState.load(path: path)
            let warning = try #require(state.warning)
            #expect(Diagnostic(.warning, warning).rendered.hasPrefix("warning: ignoring build state") && !warning.contains("\n"))
            #expect(state.steps.isEmpty && state.files.isEmpty)
        }
    }

    @Test func touchedFileIsRehashedOnceAndThenTrustedByStat() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-hash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("a.c").path
        try "int x;\n".write(toFile: file, atomically: false, encoding: .utf8)
        let state = BuildState(path: directory.appendingPathComponent("state").path)
        let first = try #require(state.currentDigest(of: file, files: ProjectFileSystem(root: "/")))
        let firstStat = try #require(state.files[file]?.stat)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: file)
        #expect(state.currentDigest(of: file, files: ProjectFileSystem(root: "/")) == first)
        #expect(state.files[file]?.stat != firstStat)
        try "int y;\n".write(toFile: file, atomically: false, encoding: .utf8)
        #expect(state.currentDigest(of: file, files: ProjectFileSystem(root: "/")) != first)
    }
}

@Suite struct DirtyCheckTests {
    @Test func commandChangesAreDescribedByTheirWords() {
        #expect(DirtyCheck.describeChange(from: ["cc", "-O2", "-c", "a.c"], to: ["cc", "-O1", "-c", "a.c"]) == "-O2 → -O1")
        #expect(DirtyCheck.describeChange(from: ["cc", "-c", "a.c"], to: ["cc", "-DDEBUG", "-c", "a.c"]) == "added -DDEBUG")
        #expect(DirtyCheck.describeChange(from: ["cc", "-Werror", "-c"], to: ["cc", "-c"]) == "removed -Werror")
        #expect(DirtyCheck.describeChange(from: ["a", "b"], to: ["b", "a"]) == "arguments reordered")
    }
}
