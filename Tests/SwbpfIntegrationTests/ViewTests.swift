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

// Tests of the "views" of a build: explain, dry run, --format json, --trace, --timings (with the
// HTML report rendered in headless Chromium), compdb and clean. Every test runs the real swbpf
// binary on its own scratch copy of a project, and checks each view against an independent
// source: the real build's commands, the plan's argv, the files on disk.

// MARK: - Helpers (all private to this file)

/// One word or operator of a POSIX sh command line.
private struct ShellToken: Equatable, CustomStringConvertible {
    var text: String
    var isOperator: Bool
    static func word(_ text: String) -> ShellToken { ShellToken(text: text, isOperator: false) }
    static func op(_ text: String) -> ShellToken { ShellToken(text: text, isOperator: true) }
    var description: String { isOperator ? "<\(text)>" : "[\(text)]" }
}

private struct ShellSplitError: Error, CustomStringConvertible {
    var description: String
}

private enum ViewKit {
    // MARK: Shell words

    /// Splits a command line the way sh does for what swbpf prints: blanks separate words, single
    /// quotes keep everything literally, double quotes and backslashes work as in POSIX sh, and an
    /// unquoted `>` or `>>` is a redirect operator. Any unquoted character that sh would expand
    /// (`$`, backquote, glob characters, a leading `~` or `#`) or another operator is an error: a
    /// printed command containing one would not run as printed.
    static func splitShell(_ line: String) throws -> [ShellToken] {
        let chars = Array(line)
        var tokens: [ShellToken] = []
        var current = ""
        var inWord = false
        var index = 0
        func flush() {
            if inWord { tokens.append(.word(current)) }
            current = ""
            inWord = false
        }
        while index < chars.count {
            let c = chars[index]
            switch c {
            case " ", "\t":
                flush()
                index += 1
            case "'":
                inWord = true
                guard let end = chars[(index + 1)...].firstIndex(of: "'") else {
                    throw ShellSplitError(description: "unterminated single quote in: \(line)")
                }
                current += String(chars[(index + 1)..<end])
                index = end + 1
            case "\"":
                inWord = true
                index += 1
                while true {
                    guard index < chars.count else { throw ShellSplitError(description: "unterminated double quote in: \(line)") }
                    let d = chars[index]
                    if d == "\"" { index += 1; break }
                    if d == "\\", index + 1 < chars.count, "$`\"\\".contains(chars[index + 1]) {
                        current.append(chars[index + 1])
                        index += 2
                    } else if d == "$" || d == "`" {
                        throw ShellSplitError(description: "expansion inside double quotes in: \(line)")
                    } else {
                        current.append(d)
                        index += 1
                    }
                }
            case "\\":
                guard index + 1 < chars.count else { throw ShellSplitError(description: "trailing backslash in: \(line)") }
                inWord = true
                current.append(chars[index + 1])
                index += 2
            case ">":
                flush()
                if index + 1 < chars.count, chars[index + 1] == ">" {
                    tokens.append(.op(">>"))
                    index += 2
                } else {
                    tokens.append(.op(">"))
                    index += 1
                }
            case "<", "|", "&", ";", "(", ")", "$", "`", "*", "?", "[":
                throw ShellSplitError(description: "unquoted shell metacharacter \(c) in: \(line)")
            case "~" where !inWord, "#" where !inWord:
                throw ShellSplitError(description: "unquoted \(c) at the start of a word in: \(line)")
            default:
                inWord = true
                current.append(c)
                index += 1
            }
        }
        flush()
        return tokens
    }

    // MARK: Projects

    /// A project with two apps, kprobe and minimal, from the repository's examples.
    static func twoAppProject(_ label: String) throws -> TemporaryProject {
        let project = try TemporaryProject(label)
        for example in ["kprobe", "minimal"] {
            let directory = repositoryRoot + "/examples/" + example
            for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".c") {
                try FileManager.default.copyItem(atPath: directory + "/" + name, toPath: project.path + "/" + name)
            }
        }
        return project
    }

    static let configToml = #"""
    # Every kind of user-supplied word, so explain has to account for each one.
    include = ["include"]
    cflags = ["-DFOO", "-DGREETING=\"hello world\"", "-DQUOTED='q'"]
    bpf-cflags = ["-DBPF_FOO=1"]
    ldflags = ["-Wl,-z,noexecstack"]
    libs = ["m"]
    sources = ["common.c"]

    [app.minimal]
    sources = ["minimal_extra.c"]
    cflags = ["-DAPP_FLAG=2"]
    bpf-cflags = ["-DAPP_BPF=3"]
    ldflags = ["-Wl,--no-undefined"]
    libs = ["rt"]
    """#

    /// examples/minimal plus a swbpf.toml with project-wide and per-app flags, an include
    /// directory, a per-app extra source and a shared source. It builds.
    static func configProject() throws -> TemporaryProject {
        let project = try TemporaryProject(copying: "examples/minimal")
        try project.write("swbpf.toml", configToml)
        try project.write("include/extra.h", """
            #ifndef EXTRA_H
            #define EXTRA_H
            int minimal_extra_value(void);
            int common_value(void);
            #endif

            """)
        try project.write("minimal_extra.c", """
            #include "extra.h"
            int minimal_extra_value(void) { return 1 + common_value(); }

            """)
        try project.write("common.c", """
            #include "extra.h"
            int common_value(void) { return 41; }

            """)
        return project
    }

    /// The knobs the config project is explained and built with.
    static let knobs = ["CFLAGS": "-g -O1 -Wall -fno-omit-frame-pointer", "LDFLAGS": "-Wl,-z,relro", "EXTRA_LDFLAGS": "-Wl,-z,now"]

    // MARK: Output parsing

    static let labels = Set(StepKind.allCases.map(\.label))

    /// The human step lines (`  BPF      .output/x.tmp.bpf.o`) as "LABEL output".
    static func stepLines(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  ") else { return nil }
            let parts = line.split(separator: " ")
            guard parts.count == 2, labels.contains(String(parts[0])) else { return nil }
            return "\(parts[0]) \(parts[1])"
        }
    }

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    static func object(_ text: some StringProtocol) -> [String: Any]? {
        guard let data = text.data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    static func strings(_ value: Any?) -> [String]? { value as? [String] }

    /// Collapses runs of blanks and newlines, so wrapped text can be searched for phrases.
    static func flatten(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ")
    }

    // MARK: The file tree

    /// Every file and directory under `root` (the root included) with its type, size, mtime and
    /// inode: any write, creation or removal shows up as a difference.
    static func snapshot(_ root: String) -> [String: String] {
        var result: [String: String] = [:]
        func visit(_ relative: String) {
            let full = relative.isEmpty ? root : root + "/" + relative
            var info = stat()
            guard lstat(full, &info) == 0 else { return }
            let format = info.st_mode & S_IFMT
            let type = format == S_IFDIR ? "dir" : format == S_IFLNK ? "link" : "file"
            result[relative.isEmpty ? "." : relative] =
                "\(type) size=\(info.st_size) mtime=\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) inode=\(info.st_ino)"
            if format == S_IFDIR, let names = try? FileManager.default.contentsOfDirectory(atPath: full) {
                for name in names { visit(relative.isEmpty ? name : relative + "/" + name) }
            }
        }
        visit("")
        return result
    }

    static func changes(_ before: [String: String], _ after: [String: String]) -> [String] {
        Set(before.keys).union(after.keys).sorted().compactMap { key in
            before[key] == after[key] ? nil : "\(key): \(before[key] ?? "absent") -> \(after[key] ?? "absent")"
        }
    }

    /// Paths of regular files (and directories, with a trailing /) under root, relative to it.
    static func tree(_ root: String) -> Set<String> {
        Set(snapshot(root).compactMap { key, value in
            key == "." ? nil : value.hasPrefix("dir") ? key + "/" : key
        })
    }

    // MARK: Chromium

    /// Runs headless Chromium (as root it needs --no-sandbox) with its own profile directory, under
    /// a timeout, with console messages (script errors included) logged to stderr.
    static func chromium(_ arguments: [String]) throws -> RunResult {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-tests/chromium-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: profile) }
        return try runProcess("/usr/bin/env", ["timeout", "120", "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                               "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=\(profile)",
                                               "--enable-logging=stderr", "--v=0"] + arguments)
    }
}

// MARK: - explain --format json, decoded with this file's own types

private struct ExplainedItem: Decodable {
    var words: [String]
    var meaning: String
}

private struct ExplainedGroup: Decodable {
    var title: String
    var role: String
    var origin: String
    var summary: String
    var items: [ExplainedItem]
}

private struct ExplainedStep: Decodable {
    var label: String
    var output: String
    var app: String?
    var purpose: String
    var command: String
    var tool: ExplainedItem
    var groups: [ExplainedGroup]
    var notes: [String]

    /// The tool's words and every group's words, as shell tokens: the redirect's `>` is an operator.
    var tokens: [ShellToken] {
        tool.words.map(ShellToken.word) + groups.flatMap { group in
            group.items.flatMap { item in
                item.words.enumerated().map { index, word in
                    group.role == "redirect" && index == 0 ? ShellToken.op(word) : ShellToken.word(word)
                }
            }
        }
    }

    /// The argv words (everything but the redirect).
    var argv: [String] {
        tool.words + groups.filter { $0.role != "redirect" }.flatMap { $0.items.flatMap(\.words) }
    }
}

/// A user-supplied word, where it must appear, and the origin its meaning must name.
private struct UserWord: CustomTestStringConvertible {
    var word: String
    var origin: String
    var labels: Set<String>
    var testDescription: String { "\(word) from \(origin)" }

    /// Whether a meaning names this origin (LDFLAGS must not be satisfied by EXTRA_LDFLAGS alone).
    func named(in meaning: String) -> Bool {
        let text = origin == "LDFLAGS" ? meaning.replacingOccurrences(of: "EXTRA_LDFLAGS", with: "") : meaning
        return text.contains(origin)
    }
}

// MARK: - Tests

@Suite struct ViewTests {

    // MARK: The test's own shell splitter

    @Test func shellSplitterReadsWhatSwbpfPrints() throws {
        #expect(try ViewKit.splitShell("cc -g  -Wall -c a.c") == ["cc", "-g", "-Wall", "-c", "a.c"].map(ShellToken.word))
        #expect(try ViewKit.splitShell(#"cc '-DGREETING="hello world"' '-DQ='\''q'\''' ''"#)
                == ["cc", #"-DGREETING="hello world""#, "-DQ='q'", ""].map(ShellToken.word))
        #expect(try ViewKit.splitShell(#"a "b \"c\" d" e\ f"#) == ["a", #"b "c" d"#, "e f"].map(ShellToken.word))
        #expect(try ViewKit.splitShell("bpftool gen skeleton x.o > .output/x.skel.h")
                == [.word("bpftool"), .word("gen"), .word("skeleton"), .word("x.o"), .op(">"), .word(".output/x.skel.h")])
        #expect(try ViewKit.splitShell("a '>' b") == ["a", ">", "b"].map(ShellToken.word))
        for bad in ["a $HOME", "a *.c", "a 'open", "a | b", "a `b`", "~/x", "a; b"] {
            #expect(throws: ShellSplitError.self, "\(bad)") { try ViewKit.splitShell(bad) }
        }
    }

    // MARK: 1. explain

    /// Checks that explain accounts for every word of every step, and returns the explained steps.
    @discardableResult
    private func checkExplainCoversEveryWord(_ project: TemporaryProject, environment: [String: String]) throws -> [ExplainedStep] {
        let explained = try Swbpf.run(["explain", "--format", "json"], in: project.path, environment: environment)
        #expect(explained.status == 0, "\(explained.stderr)")
        let steps = try JSONDecoder().decode([ExplainedStep].self, from: Data(explained.stdout.utf8))

        // The argv of every step, from the plan event of a real build with the same knobs.
        let build = try Swbpf.run(["build", "--format", "json"], in: project.path, environment: environment)
        #expect(build.status == 0, "\(build.stderr)")
        let plan = try #require(ViewKit.lines(build.stdout).compactMap(ViewKit.object).first { $0["event"] as? String == "plan" })
        let planSteps = try #require(plan["steps"] as? [[String: Any]])
        #expect(steps.count == planSteps.count, "explain covers \(steps.count) steps, the plan has \(planSteps.count)")
        #expect(!steps.isEmpty)

        for planned in planSteps {
            let output = planned["output"] as? String ?? "?"
            guard let step = steps.first(where: { $0.output == output }) else {
                Issue.record("explain has no step for \(output)")
                continue
            }
            // 1. The words explained are exactly the words printed, in order.
            let printed = try ViewKit.splitShell(step.command)
            #expect(step.tokens == printed, "\(step.label) \(output): explained words differ from the printed command")
            #expect(step.command == planned["command"] as? String, "\(output): explain shows another command than the build")
            #expect(step.argv == ViewKit.strings(planned["argv"]), "\(output): explained argv differs from the build's argv")
            // 2. Every word has a meaning; every step and group says what it is for.
            #expect(!step.purpose.isEmpty && !step.tool.meaning.isEmpty, "\(output)")
            for group in step.groups {
                #expect(!group.summary.isEmpty && !group.title.isEmpty, "\(output): group \(group.role)")
                #expect(!group.items.isEmpty, "\(output): empty group \(group.title)")
                for item in group.items {
                    #expect(!item.words.isEmpty, "\(output): an item with no words in \(group.title)")
                    #expect(!item.meaning.trimmingCharacters(in: .whitespaces).isEmpty,
                            "\(output): \(item.words) has no meaning")
                    #expect(item.meaning != "passed to the tool as is", "\(output): \(item.words) has only a generic meaning")
                    // 3. A word that comes from somewhere else than swbpf says where.
                    if group.origin != "swbpf" {
                        #expect(item.meaning.contains(group.origin),
                                "\(output): \(item.words) from \(group.origin) does not name its origin: \(item.meaning)")
                    }
                }
            }
        }
        return steps
    }

    @Test func explainCoversEveryWordOfTheKprobeExample() throws {
        let project = try TemporaryProject(copying: "examples/kprobe")
        let steps = try checkExplainCoversEveryWord(project, environment: [:])
        #expect(steps.map(\.label) == ["VMLINUX", "PCH", "BPF", "GEN-OBJ", "GEN-SKEL", "CC", "BINARY"])
    }

    @Test func explainCoversEveryUserFlagAndNamesItsOrigin() throws {
        let project = try ViewKit.configProject()
        let steps = try checkExplainCoversEveryWord(project, environment: ViewKit.knobs)

        // The shared source and the per-app source are compiled and linked.
        #expect(steps.contains { $0.label == "CC" && $0.output == ".output/common.o" && $0.app == nil })
        #expect(steps.contains { $0.label == "CC" && $0.output == ".output/minimal.minimal_extra.o" })
        let link = try #require(steps.first { $0.label == "BINARY" })
        #expect(link.argv.contains(".output/common.o") && link.argv.contains(".output/minimal.minimal_extra.o"), "\(link.command)")

        let userWords = [
            UserWord(word: "-DFOO", origin: "swbpf.toml cflags", labels: ["CC"]),
            UserWord(word: #"-DGREETING="hello world""#, origin: "swbpf.toml cflags", labels: ["CC"]),
            UserWord(word: "-DQUOTED='q'", origin: "swbpf.toml cflags", labels: ["CC"]),
            UserWord(word: "-DBPF_FOO=1", origin: "swbpf.toml bpf-cflags", labels: ["BPF", "PCH"]),
            UserWord(word: "-DAPP_FLAG=2", origin: "swbpf.toml [app.minimal] cflags", labels: ["CC"]),
            UserWord(word: "-DAPP_BPF=3", origin: "swbpf.toml [app.minimal] bpf-cflags", labels: ["BPF", "PCH"]),
            UserWord(word: "-Wl,-z,noexecstack", origin: "swbpf.toml ldflags", labels: ["BINARY"]),
            UserWord(word: "-Wl,--no-undefined", origin: "swbpf.toml [app.minimal] ldflags", labels: ["BINARY"]),
            UserWord(word: "-lm", origin: "swbpf.toml libs", labels: ["BINARY"]),
            UserWord(word: "-lrt", origin: "swbpf.toml [app.minimal] libs", labels: ["BINARY"]),
            UserWord(word: "-Iinclude", origin: "swbpf.toml", labels: ["BPF", "CC", "PCH"]),
            UserWord(word: "-O1", origin: "CFLAGS", labels: ["CC", "BINARY"]),
            UserWord(word: "-fno-omit-frame-pointer", origin: "CFLAGS", labels: ["CC", "BINARY"]),
            UserWord(word: "-Wl,-z,relro", origin: "LDFLAGS", labels: ["BINARY"]),
            UserWord(word: "-Wl,-z,now", origin: "EXTRA_LDFLAGS", labels: ["BINARY"]),
        ]
        for user in userWords {
            var seenIn = Set<String>()
            for step in steps {
                for group in step.groups {
                    for item in group.items where item.words.contains(user.word) {
                        seenIn.insert(step.label)
                        #expect(user.named(in: item.meaning), "\(step.label) \(step.output): \(user.word) means '\(item.meaning)', which does not name \(user.origin)")
                    }
                }
            }
            #expect(seenIn == user.labels, "\(user.word) appears in \(seenIn.sorted()), expected \(user.labels.sorted())")
        }
        // CFLAGS replaced the defaults: -g and -Wall of user-space steps come from CFLAGS, not the defaults.
        for step in steps where step.label == "CC" || step.label == "BINARY" {
            for item in step.groups.flatMap(\.items) where item.words == ["-g"] || item.words == ["-Wall"] {
                #expect(item.meaning.contains("CFLAGS") && !item.meaning.contains("default CFLAGS"),
                        "\(step.output): \(item.words) means '\(item.meaning)' with CFLAGS set")
            }
        }
        // The -DFOO from swbpf.toml, explicitly: its meaning says swbpf.toml.
        let foo = steps.flatMap { $0.groups.flatMap(\.items) }.filter { $0.words == ["-DFOO"] }
        #expect(!foo.isEmpty && foo.allSatisfy { $0.meaning.contains("swbpf.toml") }, "\(foo.map(\.meaning))")
    }

    @Test func humanExplainOfKprobeGivesTheReasons() throws {
        let project = try TemporaryProject(copying: "examples/kprobe")
        // Built first, so the skeleton exists and explain can name its programs.
        let build = try project.swbpf("build")
        #expect(build.status == 0, "\(build.output)")
        let result = try project.swbpf("explain", "kprobe")
        #expect(result.status == 0, "\(result.stderr)")
        let text = ViewKit.flatten(result.stdout)
        #expect(result.stdout.hasPrefix("[1/7] VMLINUX .output/vmlinux.h\n"), "\(result.stdout.prefix(200))")
        #expect(text.contains("[2/7] PCH .output/vmlinux.h.pch") && text.contains("-include-pch .output/vmlinux.h.pch"), "\(text)")
        // Why -idirafter and not -I.
        #expect(text.contains("system include paths (-idirafter)"))
        #expect(text.contains("multiarch directory (/usr/include/<triple>, where asm/types.h lives)"), "\(text)")
        #expect(text.contains("-idirafter adds these directories after every -I directory"))
        #expect(text.contains("with -I, host headers would be searched first"))
        // The .bpf.o is not on the link line.
        #expect(text.contains("note: The .bpf.o is not on this line: the skeleton embeds it in kprobe.o"))
        // The skeleton's functions, and what this skeleton contains.
        for function in ["kprobe_bpf__open()", "__open_and_load()", "__load()", "__attach()", "__detach()", "__destroy()",
                         "kprobe_bpf__elf_bytes()"] {
            #expect(text.contains(function), "explain does not mention \(function)")
        }
        #expect(text.contains("skel->progs.do_unlinkat / skel->links.do_unlinkat"), "\(text)")
        #expect(text.contains("skel->progs.do_unlinkat_exit / skel->links.do_unlinkat_exit"))
        // The command shown is the one -v runs.
        let dry = try project.swbpf("build", "-n")
        #expect(dry.stdout.contains("nothing to do"))
        let linkLine = "$ cc -g -Wall .output/kprobe.o "
        #expect(result.stdout.contains(linkLine), "\(result.stdout)")
    }

    // MARK: 2. dry run

    @Test func dryRunRunsNothingAndPrintsWhatTheBuildRuns() throws {
        let project = try TemporaryProject(copying: "examples/kprobe")
        let before = ViewKit.snapshot(project.path)
        let dry = try project.swbpf("build", "-n")
        #expect(dry.status == 0, "\(dry.output)")
        #expect(ViewKit.changes(before, ViewKit.snapshot(project.path)) == [], "a dry run changed the project")
        #expect(!project.exists(".output"))

        let real = try project.swbpf("build", "-v")
        #expect(real.status == 0, "\(real.output)")
        let planned = ViewKit.lines(dry.stdout), ran = ViewKit.lines(real.stdout)
        #expect(planned.count == 8 && planned.first == "mkdir -p .output", "\(dry.stdout)")
        #expect(planned == ran, "dry run:\n\(dry.stdout)\nreal build:\n\(real.stdout)")

        // After a real edit, -n prints exactly what the next -v build runs, and still writes nothing.
        try project.append("kprobe.c", "\nint swbpf_view_marker(void) { return 42; }\n")
        let edited = ViewKit.snapshot(project.path)
        let dry2 = try project.swbpf("build", "-n")
        #expect(dry2.status == 0, "\(dry2.output)")
        #expect(ViewKit.changes(edited, ViewKit.snapshot(project.path)) == [], "a dry run changed the project")
        let real2 = try project.swbpf("build", "-v")
        #expect(real2.status == 0, "\(real2.output)")
        let planned2 = ViewKit.lines(dry2.stdout), ran2 = ViewKit.lines(real2.stdout)
        #expect(!planned2.isEmpty && planned2.count < planned.count, "\(dry2.stdout)")
        #expect(planned2.contains { $0.contains(" -c kprobe.c ") }, "\(dry2.stdout)")
        #expect(planned2 == ran2, "dry run:\n\(dry2.stdout)\nreal build:\n\(real2.stdout)")
    }

    // MARK: 3. --format json

    @Test func jsonEventsDescribeTheBuild() throws {
        let project = try ViewKit.twoAppProject("json")
        let dry = try project.swbpf("build", "-n")
        let expectedSteps = ViewKit.lines(dry.stdout).filter { !$0.hasPrefix("mkdir -p ") }
        let result = try project.swbpf("build", "--format", "json", "-j", "2")
        #expect(result.status == 0, "\(result.stderr)")

        let lines = ViewKit.lines(result.stdout)
        let events = lines.compactMap(ViewKit.object)
        #expect(events.count == lines.count, "stdout has lines that are not JSON objects:\n\(lines.filter { ViewKit.object($0) == nil })")
        try #require(!events.isEmpty)

        let plan = events[0]
        #expect(plan["event"] as? String == "plan")
        let steps = plan["steps"] as? [[String: Any]] ?? []
        #expect(steps.count == expectedSteps.count, "plan has \(steps.count) steps; the dry run printed \(expectedSteps.count)")
        #expect(ViewKit.number(plan["toRun"]) == Double(expectedSteps.count))
        #expect(steps.compactMap { $0["command"] as? String } == expectedSteps)
        let argvByID = Dictionary(steps.map { (ViewKit.number($0["id"]) ?? -1, ViewKit.strings($0["argv"]) ?? []) },
                                  uniquingKeysWith: { first, _ in first })
        #expect(argvByID.count == steps.count, "step ids are not unique")

        var startedAt: [Double: Int] = [:]
        var finishedIDs: [Double] = []
        for (index, event) in events.enumerated() {
            let id = ViewKit.number(event["id"]) ?? -1
            switch event["event"] as? String {
            case "started":
                #expect(startedAt[id] == nil, "step \(id) started twice")
                startedAt[id] = index
                #expect(ViewKit.strings(event["argv"]) == argvByID[id], "started argv of step \(id)")
            case "finished":
                #expect(startedAt[id].map { $0 < index } == true, "step \(id) finished without having started")
                finishedIDs.append(id)
                #expect((ViewKit.number(event["durationMs"]) ?? -1) >= 0, "finished without durationMs: \(event)")
                #expect(ViewKit.number(event["exitStatus"]) == 0 && event["status"] as? String == "succeeded", "\(event)")
                #expect(ViewKit.strings(event["argv"]) == argvByID[id], "finished argv of step \(id)")
            default:
                break
            }
        }
        #expect(Set(startedAt.keys) == Set(finishedIDs) && finishedIDs.count == startedAt.count,
                "started \(startedAt.keys.sorted()), finished \(finishedIDs.sorted())")
        // As many finished steps as the human view prints (on stderr), as the plan expected to run.
        let human = ViewKit.stepLines(result.stderr)
        #expect(finishedIDs.count == human.count && human.count == expectedSteps.count,
                "\(finishedIDs.count) finished, \(human.count) human lines, \(expectedSteps.count) planned\n\(result.stderr)")
        #expect(human.contains("BPF .output/kprobe.tmp.bpf.o") && human.contains("BINARY minimal"), "\(result.stderr)")

        let done = try #require(events.last)
        #expect(done["event"] as? String == "done", "last event: \(done)")
        #expect(done["success"] as? Bool == true)
        #expect(ViewKit.number(done["ran"]) == Double(finishedIDs.count))

        // A no-op build: every step cached, none started.
        let again = try project.swbpf("build", "--format", "json")
        #expect(again.status == 0)
        let noop = ViewKit.lines(again.stdout).compactMap(ViewKit.object)
        #expect(noop.first?["event"] as? String == "plan" && ViewKit.number(noop.first?["toRun"]) == 0)
        #expect(noop.filter { $0["event"] as? String == "upToDate" }.count == expectedSteps.count)
        #expect(!noop.contains { $0["event"] as? String == "started" || $0["event"] as? String == "finished" })
        #expect(noop.last?["event"] as? String == "done" && noop.last?["success"] as? Bool == true)
        #expect(again.stderr.contains("nothing to do"), "\(again.stderr)")
    }

    /// A consumer reads events until `done`; the reports' notes must come before it.
    @Test func jsonDoneIsTheLastEventAlsoWithTimingsAndTrace() throws {
        let project = try TemporaryProject(copying: "examples/kprobe")
        let result = try project.swbpf("build", "--format", "json", "--timings", "--trace", "trace.json")
        #expect(result.status == 0, "\(result.stderr)")
        let events = ViewKit.lines(result.stdout).compactMap(ViewKit.object)
        #expect(events.count == ViewKit.lines(result.stdout).count)
        #expect(events.filter { $0["event"] as? String == "done" }.count == 1)
        #expect(events.last?["event"] as? String == "done",
                "events after done: \(events.drop { $0["event"] as? String != "done" }.dropFirst().map { $0["event"] as? String ?? "?" })")
    }

    // MARK: 4. --trace

    @Test func traceHasOneCompleteEventPerExecutedStep() throws {
        let project = try ViewKit.twoAppProject("trace")
        let commands = ViewKit.lines(try project.swbpf("build", "-n").stdout).filter { !$0.hasPrefix("mkdir -p ") }
        let result = try project.swbpf("build", "-j", "2", "--trace", "cold.json")
        #expect(result.status == 0, "\(result.output)")
        let executed = ViewKit.stepLines(result.stdout)
        #expect(executed.count == commands.count && !executed.isEmpty)

        let trace = try #require(project.data("cold.json").flatMap { try? JSONSerialization.jsonObject(with: $0) } as? [String: Any],
                                 "the trace is not a JSON object")
        let events = try #require(trace["traceEvents"] as? [[String: Any]])
        let complete = events.filter { $0["ph"] as? String == "X" }
        let build = try #require(complete.first { $0["name"] as? String == "build" })
        let steps = complete.filter { $0["name"] as? String != "build" }
        #expect(steps.count == executed.count, "\(steps.count) step events for \(executed.count) executed steps")
        #expect(Set(steps.compactMap { $0["name"] as? String }) == Set(executed))
        let start = try #require(ViewKit.number(build["ts"])), span = try #require(ViewKit.number(build["dur"]))
        var traced: [String] = []
        for event in steps {
            let name = event["name"] as? String ?? "?"
            let args = event["args"] as? [String: Any] ?? [:]
            let command = args["command"] as? String ?? ""
            traced.append(command)
            #expect(commands.contains(command), "\(name): command \(command) is not one the build runs")
            #expect(ViewKit.strings(args["inputs"]).map { !$0.isEmpty } == true, "\(name): inputs \(String(describing: args["inputs"]))")
            let output = String(name.split(separator: " ").last ?? "")
            #expect(ViewKit.strings(args["outputs"])?.contains(output) == true, "\(name): outputs \(String(describing: args["outputs"]))")
            #expect(ViewKit.number(args["exitStatus"]) == 0, "\(name): exitStatus \(String(describing: args["exitStatus"]))")
            let ts = try #require(ViewKit.number(event["ts"])), dur = try #require(ViewKit.number(event["dur"]))
            #expect(ts >= start - 1000 && ts + dur <= start + span + 1000,
                    "\(name) [\(ts), \(ts + dur)] is outside the build [\(start), \(start + span)] µs")
            #expect(dur > 0)
            #expect([1.0, 2.0].contains(ViewKit.number(event["tid"]) ?? 0), "\(name): lane \(String(describing: event["tid"])) with -j 2")
        }
        #expect(traced.sorted() == commands.sorted())

        // A no-op build: an instant event per cached step, no step events.
        let again = try project.swbpf("build", "--trace", "noop.json")
        #expect(again.status == 0)
        let noop = try #require(project.data("noop.json").flatMap { try? JSONSerialization.jsonObject(with: $0) } as? [String: Any])
        let noopEvents = try #require(noop["traceEvents"] as? [[String: Any]])
        #expect(noopEvents.filter { $0["ph"] as? String == "X" }.compactMap { $0["name"] as? String } == ["build"])
        let instants = noopEvents.filter { $0["ph"] as? String == "i" }.compactMap { $0["name"] as? String }
        #expect(instants.count == commands.count, "\(instants)")
        for step in executed {
            #expect(instants.contains { $0.hasPrefix(step + " ") }, "no instant event for \(step): \(instants)")
        }
    }

    // MARK: 5. --timings

    @Test func timingsTableAndHTMLReportShowEveryExecutedStep() throws {
        let project = try ViewKit.twoAppProject("timings")
        let result = try project.swbpf("build", "--timings", "-j", "2")
        #expect(result.status == 0, "\(result.output)")
        let executed = ViewKit.stepLines(result.stdout)
        // Two apps: vmlinux.h, one PCH (minimal.bpf.c includes linux/bpf.h first), 5 steps each.
        #expect(executed.count == 12, "\(result.stdout)")

        // The table (stderr): one row per executed step, then the critical path.
        let stderr = ViewKit.lines(result.stderr)
        #expect(stderr.contains { $0.hasPrefix("swbpf timings: \(executed.count) steps run, 0 up to date") }, "\(result.stderr)")
        let rows = stderr.compactMap { line -> String? in
            let parts = line.split(separator: " ")
            guard parts.count == 4, Double(parts[0]) != nil, parts[1] == "ms", ViewKit.labels.contains(String(parts[2])) else { return nil }
            return "\(parts[2]) \(parts[3])"
        }
        #expect(rows.sorted() == executed.sorted(), "table rows \(rows) for steps \(executed)")
        let pathLine = try #require(stderr.first { $0.hasPrefix("critical path (") }, "no critical path in \(result.stderr)")
        let chain = pathLine.components(separatedBy: "): ").dropFirst().joined(separator: "): ").components(separatedBy: " → ")
        #expect(chain.allSatisfy(executed.contains), "\(chain)")
        #expect(chain.map { String($0.split(separator: " ")[0]) }.filter { $0 != "PCH" } == ["VMLINUX", "BPF", "GEN-OBJ", "GEN-SKEL", "CC", "BINARY"], "\(chain)")
        if let app = chain.last?.split(separator: " ").last {
            #expect(chain.dropFirst().dropLast().filter { !$0.hasPrefix("PCH ") }.allSatisfy { $0.contains(".output/\(app).") },
                    "the chain mixes apps: \(chain)")
        }

        // The HTML report, rendered by a real browser.
        let report = project.path + "/.output/swbpf-timings.html"
        #expect(FileManager.default.fileExists(atPath: report))
        // The legend names the stages this build had, each once.
        let legend = try String(contentsOfFile: report, encoding: .utf8).components(separatedBy: "<span class=\"key\">").dropFirst()
            .map { $0.components(separatedBy: "</span>")[1] }
        #expect(legend == ["VMLINUX", "PCH", "BPF", "GEN-OBJ", "GEN-SKEL", "CC", "BINARY"], "\(legend)")
        #expect(result.stderr.contains("timings report written to .output/swbpf-timings.html"))
        let browser = try ViewKit.chromium(["--dump-dom", "file://" + report])
        #expect(browser.status == 0, "chromium failed (is it installed? scripts/system-packages installs it): \(browser.stderr.suffix(2000))")
        let dom = browser.stdout
        #expect(dom.contains("</svg>") && dom.contains("swbpf build timings"), "\(dom.prefix(500))")
        #expect(dom.components(separatedBy: "<rect class=\"bar\"").count - 1 == executed.count,
                "\(dom.components(separatedBy: "<rect class=\"bar\"").count - 1) bars for \(executed.count) steps")
        #expect(!browser.stderr.contains("Uncaught"), "script errors: \(browser.stderr)")
        #expect(!dom.contains("<script"), "the report is meant to have no script")
    }

    @Test func chromiumReportsScriptErrorsOnStderr() throws {
        // Guards the check above: with these flags a page's uncaught error does reach stderr.
        let project = try TemporaryProject("chromium")
        try project.write("broken.html", "<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction()</script></body></html>\n")
        let browser = try ViewKit.chromium(["--dump-dom", "file://" + project.path + "/broken.html"])
        #expect(browser.status == 0, "\(browser.stderr.suffix(2000))")
        #expect(browser.stderr.contains("Uncaught ReferenceError"), "\(browser.stderr.suffix(2000))")
    }

    // MARK: 6. compdb

    @Test func compdbEntriesReproduceTheBuiltObjects() throws {
        let project = try ViewKit.configProject()
        let build = try project.swbpf("build", "--format", "json")
        #expect(build.status == 0, "\(build.stderr)")
        let plan = try #require(ViewKit.lines(build.stdout).compactMap(ViewKit.object).first { $0["event"] as? String == "plan" })
        let compiles = (plan["steps"] as? [[String: Any]] ?? []).filter { ["bpfCompile", "compile"].contains($0["kind"] as? String) }
        #expect(compiles.count == 4, "one BPF compile and three user-space compiles (app, extra source, shared source)")

        let compdb = try project.swbpf("compdb")
        #expect(compdb.status == 0, "\(compdb.output)")
        let data = try #require(project.data("compile_commands.json"))
        let entries = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(entries.count == compiles.count, "\(entries.count) entries for \(compiles.count) compiles")
        #expect(Set(entries.compactMap { $0["output"] as? String }) == Set(compiles.compactMap { $0["output"] as? String }))

        for entry in entries {
            let output = try #require(entry["output"] as? String)
            let arguments = try #require(ViewKit.strings(entry["arguments"]))
            let directory = try #require(entry["directory"] as? String)
            let planned = compiles.first { $0["output"] as? String == output }
            // The build's command without swbpf's PCH: the object must come out the same without it.
            var argv = ViewKit.strings(planned?["argv"]) ?? []
            if let pch = argv.firstIndex(of: "-include-pch") { argv.removeSubrange(pch...(pch + 1)) }
            #expect(arguments == argv, "\(output): the entry is not the build's command")
            #expect(entry["file"] as? String == ViewKit.strings(planned?["inputs"])?.first)
            #expect(directory == project.path)

            let path = directory + "/" + output
            let built = try Data(contentsOf: URL(fileURLWithPath: path))
            try FileManager.default.removeItem(atPath: path)
            let rerun = try runProcess("/usr/bin/env", arguments, in: directory)
            #expect(rerun.status == 0, "\(output): \(rerun.output)")
            let again = try? Data(contentsOf: URL(fileURLWithPath: path))
            #expect(again == built, "\(output): the compdb command gives \(again?.count ?? 0) bytes, the build gave \(built.count), not the same")
        }
    }

    // MARK: 7. clean

    @Test func cleanRemovesOnlyWhatSwbpfMade() throws {
        let project = try ViewKit.twoAppProject("clean")
        let sources: Set<String> = ["kprobe.bpf.c", "kprobe.c", "minimal.bpf.c", "minimal.c"]
        let build = try project.swbpf("build", "--timings")
        #expect(build.status == 0, "\(build.output)")
        try project.write(".output/notes.txt", "my notes\n")
        try project.write("keep.txt", "keep me\n")
        let built = ViewKit.tree(project.path)
        let kprobeOutputs: Set<String> = [".output/kprobe.tmp.bpf.o", ".output/kprobe.bpf.o", ".output/kprobe.skel.h", ".output/kprobe.o", "kprobe"]
        #expect(kprobeOutputs.isSubset(of: built), "\(built.sorted())")
        let minimalOutputs = built.filter { $0.hasPrefix(".output/minimal.") || $0 == "minimal" }
        #expect(minimalOutputs.count == 5, "\(minimalOutputs.sorted())")
        let minimalBytes = Dictionary(uniqueKeysWithValues: minimalOutputs.map { ($0, project.data($0)) })

        // Per-app clean: exactly kprobe's outputs go.
        let one = try project.swbpf("clean", "kprobe")
        #expect(one.status == 0, "\(one.output)")
        let afterOne = ViewKit.tree(project.path)
        #expect(afterOne == built.subtracting(kprobeOutputs), "removed \(built.subtracting(afterOne).sorted()), added \(afterOne.subtracting(built).sorted())")
        #expect(project.exists(".output/vmlinux.h") && project.exists(".output/.swbpf/state"))
        for (path, bytes) in minimalBytes { #expect(project.data(path) == bytes, "\(path) changed") }
        // The state still knows minimal: the next build redoes kprobe only.
        let rebuild = try project.swbpf("build")
        #expect(rebuild.status == 0, "\(rebuild.output)")
        #expect(ViewKit.stepLines(rebuild.stdout) == ["BPF .output/kprobe.tmp.bpf.o", "GEN-OBJ .output/kprobe.bpf.o",
                                                     "GEN-SKEL .output/kprobe.skel.h", "CC .output/kprobe.o", "BINARY kprobe"],
                "\(rebuild.stdout)")

        // Full clean: every output and the state go; the user's files (and so .output, with the empty
        // .swbpf that keeps it swbpf's output directory) stay.
        let all = try project.swbpf("clean")
        #expect(all.status == 0, "\(all.output)")
        let left = ViewKit.tree(project.path)
        #expect(left == sources.union(["keep.txt", ".output/", ".output/.swbpf/", ".output/notes.txt"]), "left after clean: \(left.sorted())")
        #expect(try project.read(".output/notes.txt") == "my notes\n" && project.read("keep.txt") == "keep me\n")
        #expect(all.stdout.contains("CLEAN    .output/vmlinux.h") && !all.stdout.contains("notes.txt"), "\(all.stdout)")

        // And a build works from there.
        let fresh = try project.swbpf("build")
        #expect(fresh.status == 0, "\(fresh.output)")
        #expect(ViewKit.stepLines(fresh.stdout).count == 12, "\(fresh.stdout)")
        #expect(project.exists("kprobe") && project.exists("minimal") && project.exists(".output/notes.txt"))
    }
}

// MARK: - JSON events against docs/events.schema.json

/// A JSON value as JSONDecoder reads it: booleans and numbers stay apart (decoding is strict).
indirect enum JSONValue: Decodable, Equatable {
    case null, bool(Bool), integer(Int), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    static func parse(_ text: some StringProtocol) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }
}

/// The part of JSON Schema the events schema uses (type, const, enum, properties, required,
/// additionalProperties: false, items, oneOf, $ref to #/$defs): each problem as "path: what".
struct SchemaValidator {
    let root: JSONValue

    func problems(_ value: JSONValue, _ schema: JSONValue, at path: String = "$") -> [String] {
        guard case .object(let rule) = schema else { return ["\(path): the schema is not an object"] }
        if case .string(let reference)? = rule["$ref"] {
            guard reference.hasPrefix("#/$defs/"), case .object(let top) = root, case .object(let defs)? = top["$defs"],
                  let target = defs[String(reference.dropFirst("#/$defs/".count))] else { return ["\(path): unknown $ref \(reference)"] }
            return problems(value, target, at: path)
        }
        var found: [String] = []
        if case .array(let choices)? = rule["oneOf"] {
            let matching = choices.filter { problems(value, $0, at: path).isEmpty }.count
            if matching != 1 {
                let why = choices.map { problems(value, $0, at: path) }.min { $0.count < $1.count } ?? []
                found.append("\(path): matches \(matching) of oneOf's schemas, not 1 (nearest: \(why.joined(separator: "; ")))")
            }
        }
        if let constant = rule["const"], constant != value { found.append("\(path): is not \(constant)") }
        if case .array(let allowed)? = rule["enum"], !allowed.contains(value) { found.append("\(path): \(value) is not one of \(allowed)") }
        if case .string(let type)? = rule["type"] {
            let matches: Bool
            switch (type, value) {
            case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("integer", .integer), ("null", .null),
                 ("number", .integer), ("number", .number): matches = true
            default: matches = false
            }
            if !matches { return found + ["\(path): \(value) is not of type \(type)"] }
        }
        if case .object(let members) = value {
            let properties: [String: JSONValue]
            if case .object(let declared)? = rule["properties"] { properties = declared } else { properties = [:] }
            if case .array(let required)? = rule["required"] {
                for case .string(let name) in required where members[name] == nil { found.append("\(path): has no \(name)") }
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let property = properties[name] {
                    found += problems(member, property, at: "\(path).\(name)")
                } else if rule["additionalProperties"] == .bool(false) {
                    found.append("\(path): \(name) is not a property the schema allows")
                }
            }
        }
        if case .array(let elements) = value, let items = rule["items"] {
            for (index, element) in elements.enumerated() { found += problems(element, items, at: "\(path)[\(index)]") }
        }
        return found
    }
}

@Suite struct EventSchemaTests {
    static func schema() throws -> SchemaValidator {
        SchemaValidator(root: try JSONValue.parse(String(contentsOfFile: repositoryRoot + "/docs/events.schema.json", encoding: .utf8)))
    }

    /// The validator is strict where the schema is: a wrong type, a missing field, an unknown field
    /// or event are refused (so the test below cannot pass by accepting anything).
    @Test func validatorRefusesWhatTheSchemaForbids() throws {
        let validator = try Self.schema()
        let good = #"{"event":"note","message":"hi"}"#
        #expect(validator.problems(try JSONValue.parse(good), validator.root).isEmpty)
        for bad in [#"{"event":"note","message":3}"#, #"{"event":"note"}"#, #"{"event":"note","message":"hi","extra":1}"#,
                    #"{"event":"cached","id":1,"label":"BPF","output":"x"}"#, #"{"event":"done","success":1,"ran":0,"upToDate":0,"restored":0,"skipped":0,"failed":[],"interrupted":false,"dryRun":false,"durationMs":1}"#,
                    #"{"event":"skipped","id":1.5,"label":"BPF","output":"x","because":0}"#] {
            #expect(!validator.problems(try JSONValue.parse(bad), validator.root).isEmpty, "accepted \(bad)")
        }
    }

    /// Every event of a real build — a compile failure, the success after the fix, a cached
    /// rebuild, the same from the shared cache after a clean — is one the schema describes.
    @Test func everyEventOfARealBuildMatchesTheSchema() throws {
        let validator = try Self.schema()
        let project = try TemporaryProject(copying: "examples/minimal")
        let cache = try TemporaryProject("events-cache")
        let environment = ["SWBPF_CACHE_DIR": cache.path]
        let source = try project.read("minimal.bpf.c")
        try project.write("minimal.bpf.c", source + "\n#include \"missing.h\"\nint broken = ;\n")
        var seen: Set<String> = []
        var compilerMessages: [JSONValue] = []
        for round in ["failure", "success", "up to date", "restored"] {
            switch round {
            case "success": try project.write("minimal.bpf.c", source)
            case "restored": #expect(try project.swbpf("clean").status == 0)
            default: break
            }
            let build = try project.swbpf("build", "--format", "json", environment: environment)
            #expect((build.status == 0) == (round != "failure"), "\(round): \(build.output)")
            for line in ViewKit.lines(build.stdout) {
                let event = try JSONValue.parse(line)
                let problems = validator.problems(event, validator.root)
                #expect(problems.isEmpty, "\(round): \(line)\n\(problems.joined(separator: "\n"))")
                if case .object(let members) = event, case .string(let name)? = members["event"] {
                    seen.insert(name)
                    if case .array(let messages)? = members["messages"] { compilerMessages += messages }
                }
            }
        }
        #expect(seen.isSuperset(of: ["plan", "started", "finished", "skipped", "upToDate", "restored", "done"]), "\(seen.sorted())")
        // clang's fatal error, parsed: file, line, column and message, beside the raw text.
        let missing = compilerMessages.first { $0 == .object(["severity": .string("error"), "message": .string("'missing.h' file not found"),
                                                               "file": .string("minimal.bpf.c"), "line": .integer(source.split(separator: "\n", omittingEmptySubsequences: false).count + 1),
                                                               "column": .integer(10)]) }
        #expect(missing != nil, "\(compilerMessages)")
    }

    @Test func compilerMessagesOfClangAndGCC() {
        let clang = """
            In file included from app.bpf.c:3:
            In file included from ./inc/a.h:2:
            ./inc/b.h:7:5: warning: unused variable 'x' [-Wunused-variable]
                int x;
                    ^
            app.bpf.c:12:9: error: use of undeclared identifier 'y'
            ./inc/b.h:1:1: note: previous definition is here
            clang: error: unable to execute command
            2 errors generated.
            """
        let parsed = CompilerMessage.parse(clang)
        #expect(parsed.count == 3, "\(parsed)")
        #expect(parsed.first == CompilerMessage(severity: "warning", message: "unused variable 'x'", file: "./inc/b.h", line: 7, column: 5,
                                                 option: "-Wunused-variable",
                                                 includedFrom: [.init(file: "./inc/a.h", line: 2), .init(file: "app.bpf.c", line: 3)]))
        #expect(parsed.dropFirst().first?.notes == [CompilerMessage(severity: "note", message: "previous definition is here", file: "./inc/b.h", line: 1, column: 1)])
        #expect(parsed.last == CompilerMessage(severity: "error", message: "unable to execute command"))

        let gcc = """
            In file included from main.c:2,
                             from other.c:5:
            util.h: In function 'helper':
            util.h:4:12: fatal error: nothere.h: No such file or directory
            """
        #expect(CompilerMessage.parse(gcc) == [CompilerMessage(severity: "error", message: "nothere.h: No such file or directory", file: "util.h", line: 4,
                                                               column: 12, includedFrom: [.init(file: "main.c", line: 2), .init(file: "other.c", line: 5)])])
    }
}
