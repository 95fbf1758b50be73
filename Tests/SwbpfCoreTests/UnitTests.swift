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

@Suite struct ConfigTests {
    @Test func everyKeyIsRead() throws {
        let config = try ProjectConfig.parse("""
            output = "build"
            bin = "bin"
            arch = "arm64"
            vmlinux = "vmlinux/{arch}/vmlinux.h"
            include = ["include", "vmlinux/{arch}"]
            cflags = ["-O2"]
            bpf-cflags = ["-DDEBUG"]
            ldflags = ["-static-libgcc"]
            libs = ["pthread"]
            sources = ["trace_helpers.c"]
            apps = ["a"]
            skip = ["b"]
            compdb = true

            [libbpf]
            archive = "libbpf/libbpf.a"
            include = "libbpf/include"

            [app.a]
            sources = ["extra.c"]
            bpf-sources = ["more.bpf.c"]
            cflags = ["-DA"]
            bpf-cflags = ["-DBA"]
            ldflags = ["-Wl,-z,now"]
            libs = ["m"]
            """, file: "swbpf.toml")
        #expect(config.output == "build" && config.binaryDirectory == "bin" && config.arch == "arm64")
        #expect(config.includeDirectories == ["include", "vmlinux/{arch}"])
        #expect(config.sharedSources == ["trace_helpers.c"] && config.onlyApps == ["a"] && config.skipApps == ["b"])
        #expect(config.compileCommands && config.libbpfArchive == "libbpf/libbpf.a" && config.libbpfInclude == "libbpf/include")
        let app = try #require(config.apps["a"])
        #expect(app.sources == ["extra.c"] && app.bpfSources == ["more.bpf.c"] && app.libs == ["m"] && app.ldflags == ["-Wl,-z,now"])
        #expect(config.appLines["a"] == 19)
    }

    @Test func unknownKeyNamesFileLineAndKey() {
        #expect(throws: ConfigError.unknownKey(file: "swbpf.toml", line: 3, key: "app.a.cflag",
                                                     known: ProjectConfig.appKeys)) {
            try ProjectConfig.parse("[app.a]\nsources = []\ncflag = [\"-O2\"]\n", file: "swbpf.toml")
        }
        #expect(throws: ConfigError.unknownKey(file: "swbpf.toml", line: 2, key: "ouput", known: ProjectConfig.topLevelKeys)) {
            try ProjectConfig.parse("# comment\nouput = \"x\"\n", file: "swbpf.toml")
        }
    }

    @Test func wrongTypeSaysWhatIsExpected() {
        #expect(throws: ConfigError.wrongType(file: "swbpf.toml", line: 2, key: "cflags", expected: "a list of strings")) {
            try ProjectConfig.parse("output = \"o\"\ncflags = \"-O2\"\n", file: "swbpf.toml")
        }
        #expect(throws: ConfigError.wrongType(file: "swbpf.toml", line: 1, key: "compdb", expected: "true or false")) {
            try ProjectConfig.parse("compdb = 1\n", file: "swbpf.toml")
        }
        let error = ConfigError.wrongType(file: "swbpf.toml", line: 2, key: "cflags", expected: "a list of strings")
        #expect(error.description == "error: swbpf.toml:2: key 'cflags' must be a list of strings\nhelp: for example: cflags = [\"...\"]")
    }

    @Test func syntaxErrorHasAPosition() {
        do {
            _ = try ProjectConfig.parse("output = \"a\"\ncflags = [\n", file: "swbpf.toml")
            Issue.record("expected a syntax error")
        } catch let ConfigError.syntax(file, line, _, _) {
            #expect(file == "swbpf.toml" && line >= 2)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

@Suite struct IncludeScannerTests {
    @Test func findsQuotedIncludesOnly() {
        let source = "#include <stdio.h>\n#  include \"helpers.h\"\n// #include \"no.h\" is a comment line\n#include\t\"b.h\" // trailing\n"
        // A comment line starting with // is not a directive.
        #expect(IncludeScanner.quotedIncludes(in: Array(source.utf8)) == ["helpers.h", "b.h"])
    }
}

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

@Suite struct DigestTests {
    @Test func hexRoundTrip() throws {
        let digest = Digest(high: 0x0123_4567_89ab_cdef, low: 0xf)
        #expect(digest.description == "0123456789abcdef000000000000000f")
        #expect(Digest(hex: Array(digest.description.utf8)) == digest)
        #expect(Digest(hex: Array("xyz".utf8)) == nil)
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

@Suite struct ScaffoldingTests {
    @Test func namesMustBeCIdentifiers() throws {
        try Scaffolder.validate(name: "mytool")
        try Scaffolder.validate(name: "tcp_trace2")
        for bad in ["", "2fast", "my-tool", "a/b", "..", "int", "struct", "__x", "_Foo", "vmlinux", "main", "na me", "perf"] {
            #expect(throws: ScaffoldError.self, "\(bad) should be refused") { try Scaffolder.validate(name: bad) }
        }
    }

    @Test func everyTemplateRenamesEveryIdentifier() throws {
        #expect(Template.all.count >= 1)
        for template in Template.all {
            #expect(!template.description.isEmpty && !template.feature.isEmpty, "\(template.id) lacks metadata")
            let files = Scaffolder.projectFiles(template: template, name: "mytool")
            let paths = files.map(\.path)
            #expect(paths.contains("mytool.bpf.c") && paths.contains("mytool.c") && paths.contains("README.md"))
            #expect(paths.contains("swbpf.toml") && paths.contains(".gitignore"))
            for (path, contents) in files {
                #expect(!path.contains("@") && !contents.contains("@name@") && !contents.contains("@NAME@"), "\(template.id)/\(path)")
            }
            let user = try #require(files.first { $0.path == "mytool.c" }?.contents)
            #expect(user.contains("mytool.skel.h") && user.contains("mytool_bpf__"), "\(template.id) does not use its skeleton")
        }
    }
}

@Suite struct SHA256Tests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }

    @Test func knownVectors() {
        #expect(hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var million = SHA256()
        // A million 'a's in uneven pieces, across block boundaries.
        var left = 1_000_000, piece = 1
        while left > 0 {
            let count = min(piece, left)
            million.update([UInt8](repeating: 0x61, count: count))
            left -= count
            piece = piece % 97 + 13
        }
        #expect(hex(million.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Every length around the padding boundaries agrees with the system's sha256sum.
    @Test func agreesWithSha256sum() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-sha-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SplitMix(seed: 7)
        var paths: [String] = []
        var expected: [String: String] = [:]
        for length in [1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 200_003] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let path = directory.appendingPathComponent("f\(length)").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            paths.append(path)
            expected[path] = hex(SHA256.hash(bytes))
        }
        let result = try runProcess("/usr/bin/sha256sum", paths)
        for line in result.stdout.lines {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            let path = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: " *"))
            #expect(expected[path] == parts[0], "\(path)")
        }
        #expect(result.stdout.lines.count == paths.count)
    }
}
