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

/// The kinds of change an incremental build must follow. Each case builds its own copy of the
/// three-app project cold, then applies one or more rounds of a change; after every round it checks
/// the exact set of steps that ran, that `--explain` gave one reason per step, and that a second
/// build runs nothing.
enum Change: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case touchWithoutEditing
    case editUserSource
    case editKernelSource
    case editSharedHeader
    case editTransitiveHeader
    case headerDisappears
    case cflags
    case linker
    case arch
    case clangVersion
    case deleteOneOutput
    case deleteState
    case corruptState
    case truncatedState

    var testDescription: String { rawValue }
}

/// One change and what must follow from it.
struct Round {
    var name: String
    var change: (TemporaryProject) throws -> Void = { _ in }
    var environment: [String: String] = [:]
    /// Extra arguments; with `-v` the steps are read from the explain lines and the commands.
    var arguments: [String] = []
    var expected: Set<StepID>
    /// Exact reasons for some of the steps.
    var reasons: [StepID: String] = [:]
    /// A reason every step must give.
    var everyReason: String?
    /// Text the one warning line must contain; nil means no warning at all.
    var warning: String?
    /// Extra checks on the outputs (run the binaries, look inside them).
    var verify: (TemporaryProject, ObservedBuild) throws -> Void = { _, _ in }
}

/// The first word after "clang version" in what `clang --version` prints.
func systemClangVersion() throws -> String {
    let banner = try runProcess("/usr/bin/clang", ["--version"]).stdout
    let words = banner.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    guard let index = words.firstIndex(of: "version"), index + 1 < words.count else { return "unknown" }
    return words[index + 1]
}

/// Runs an app binary of the project and returns what it printed.
func runApp(_ project: TemporaryProject, _ app: String) -> String {
    do {
        let result = try runProcess(project.url(app).path, [], in: project.path)
        #expect(result.status == 0, "\(app) exited with \(result.status): \(result.output)")
        return result.stdout
    } catch {
        Issue.record("could not run \(app): \(error)")
        return ""
    }
}

func fileContains(_ project: TemporaryProject, _ name: String, _ text: String) -> Bool {
    guard let data = project.data(name) else { return false }
    return data.range(of: Data(text.utf8)) != nil
}

@Suite struct IncrementalTests {
    static let apps = ThreeApps.apps

    /// A cold build that must run every step.
    static func coldBuild(_ project: TemporaryProject) throws {
        let build = try project.build(["-j", "2"])
        try #require(build.status == 0, "cold build failed: \(build)")
        try #require(Set(build.steps) == StepID.everything(apps), "cold build ran \(describe(build.steps))")
    }

    func rounds(for change: Change, tools: TemporaryProject) throws -> [Round] {
        let apps = Self.apps
        switch change {
        case .touchWithoutEditing:
            // A new mtime with the same bytes: the content hash says nothing changed.
            return [
                Round(name: "touch a.c", change: { touch($0.url("a.c").path) }, expected: []),
                Round(name: "touch every source and header", change: { project in
                    for name in ["a.c", "b.c", "c.c", "a.bpf.c", "b.bpf.c", "c.bpf.c", "shared.h", "outer.h", "inner.h", "extra.h"] {
                        touch(project.url(name).path)
                    }
                }, expected: []),
                // Rewritten with the same bytes (a new inode as well as a new mtime).
                Round(name: "rewrite b.bpf.c unchanged", change: { try $0.write("b.bpf.c", ThreeApps.kernelSource("b")) },
                      expected: []),
            ]
        case .editUserSource:
            return [Round(name: "edit a.c", change: { try $0.write("a.c", ThreeApps.userSource("a", marker: "v2")) },
                          expected: Set(StepID.userSide(of: "a")),
                          reasons: [StepID("CC", ".output/a.o"): "input a.c changed"],
                          verify: { project, _ in #expect(runApp(project, "a").contains("a-user-v2")) })]
        case .editKernelSource:
            // A real change to the program (its printk format string): the BPF object changes, so
            // the linked object and the skeleton, which embeds the object's bytes, change too; the
            // skeleton is a header of a.c, so a.o changes, and the binary is relinked. Nothing of
            // b or c, and not vmlinux.h.
            return [Round(name: "edit a.bpf.c", change: { try $0.write("a.bpf.c", ThreeApps.kernelSource("a", marker: "v2")) },
                          expected: Set(StepID.all(of: "a")),
                          reasons: [StepID("BPF", ".output/a.tmp.bpf.o"): "input a.bpf.c changed"],
                          verify: { project, _ in
                              #expect(fileContains(project, "a", "a-kernel-v2"), "binary a does not embed the new BPF object")
                              #expect(runApp(project, "a").contains("a-user-v1"))
                          })]
        case .editSharedHeader:
            // shared.h is read by both halves of a and b: their whole chains, nothing of c.
            return [Round(name: "edit shared.h", change: { try $0.write("shared.h", ThreeApps.sharedHeader(tag: 2)) },
                          expected: Set(StepID.all(of: "a") + StepID.all(of: "b")),
                          reasons: [StepID("BPF", ".output/a.tmp.bpf.o"): "header shared.h changed",
                                    StepID("BPF", ".output/b.tmp.bpf.o"): "header shared.h changed"],
                          verify: { project, _ in
                              #expect(runApp(project, "a").contains("tag=2"))
                              #expect(runApp(project, "b").contains("tag=2"))
                          })]
        case .editTransitiveHeader:
            // inner.h reaches c.c only through outer.h; the depfile names it all the same.
            return [Round(name: "edit inner.h", change: { try $0.write("inner.h", ThreeApps.innerHeader(tag: 7)) },
                          expected: Set(StepID.userSide(of: "c")),
                          reasons: [StepID("CC", ".output/c.o"): "header inner.h changed"],
                          verify: { project, _ in #expect(runApp(project, "c").contains("tag=7 extra=5")) })]
        case .headerDisappears:
            // c.c includes extra.h only when it exists (__has_include), so removing it is a
            // legitimate change that a depfile-driven build must notice.
            return [Round(name: "remove extra.h", change: { try FileManager.default.removeItem(atPath: $0.url("extra.h").path) },
                          expected: Set(StepID.userSide(of: "c")),
                          reasons: [StepID("CC", ".output/c.o"): "header extra.h disappeared"],
                          verify: { project, _ in #expect(runApp(project, "c").contains("extra=0")) })]
        case .cflags:
            // CFLAGS replaces -g -Wall on the user-space compile and link: every CC and BINARY,
            // nothing on the kernel side.
            let userSteps = Set(apps.flatMap(StepID.userSide(of:)))
            return [
                Round(name: "CFLAGS=-g -Wall -O1", environment: ["CFLAGS": "-g -Wall -O1"], expected: userSteps,
                      reasons: Dictionary(uniqueKeysWithValues: userSteps.map { ($0, "command changed: added -O1") })),
                Round(name: "CFLAGS back to the default", expected: userSteps,
                      reasons: Dictionary(uniqueKeysWithValues: userSteps.map { ($0, "command changed: removed -O1") })),
            ]
        case .linker:
            // LDFLAGS=-fuse-ld=gold (binutils' gold, installed with gcc) relinks every app and runs
            // nothing else; the binaries carry gold's version note and run. Unset, GNU ld relinks them.
            let links = Set(apps.map { StepID("BINARY", $0) })
            return [
                Round(name: "LDFLAGS=-fuse-ld=gold", environment: ["LDFLAGS": "-fuse-ld=gold"], expected: links,
                      reasons: Dictionary(uniqueKeysWithValues: links.map { ($0, "command changed: added -fuse-ld=gold") }),
                      verify: { project, _ in
                          for app in apps { #expect(fileContains(project, app, "gold 1."), "\(app) was not linked by gold") }
                          #expect(runApp(project, "a").contains("a-user-v1"))
                      }),
                Round(name: "LDFLAGS unset", expected: links,
                      reasons: Dictionary(uniqueKeysWithValues: links.map { ($0, "command changed: removed -fuse-ld=gold") }),
                      verify: { project, _ in #expect(!fileContains(project, "a", "gold 1."), "a is still gold's") }),
            ]
        case .arch:
            // The host's architecture named either way (the kernel's name, uname -m's) is the host
            // build: the same commands, so nothing runs. Another target builds into directories
            // of its own (CrossBuildTests), so it cannot disturb these outputs either.
            let machine = Arch.hostMachine()
            return [
                Round(name: "ARCH=\(machine)", environment: ["ARCH": machine], arguments: ["-v"], expected: [],
                      verify: { project, _ in
                          #expect(!FileManager.default.fileExists(atPath: project.url(".output/\(hostTargetArch)").path))
                      }),
                Round(name: "ARCH=\(hostTargetArch)", environment: ["ARCH": hostTargetArch], expected: []),
                Round(name: "ARCH unset again", expected: []),
            ]
        case .clangVersion:
            // A clang that says it is another version reruns every BPF compile. The wrapper runs the
            // same compiler, so the objects are identical and nothing downstream runs.
            let real = try systemClangVersion()
            try tools.write("clang", """
            #!/bin/sh
            for arg in "$@"; do
              case "$arg" in
                -v|--version)
                  /usr/bin/clang "$@" 2>&1 | sed 's/clang version [0-9][0-9.]*/clang version 99.1.0/' >&2
                  exit 0 ;;
              esac
            done
            exec /usr/bin/clang "$@"

            """)
            chmod(tools.url("clang").path, 0o755)
            let bpf = Set(apps.map { StepID("BPF", ".output/\($0).tmp.bpf.o") } + [StepID.pch])
            return [
                Round(name: "CLANG=wrapper", environment: ["CLANG": tools.url("clang").path], expected: bpf,
                      reasons: Dictionary(uniqueKeysWithValues: bpf.map { ($0, "clang changed: \(real) → 99.1.0") })),
                Round(name: "back to clang", expected: bpf,
                      reasons: Dictionary(uniqueKeysWithValues: bpf.map { ($0, "clang changed: 99.1.0 → \(real)") })),
            ]
        case .deleteOneOutput:
            // Each deleted output is rebuilt; it comes out identical, so no step after it runs.
            let targets: [(path: String, step: StepID)] = [
                (".output/a.o", StepID("CC", ".output/a.o")),
                (".output/b.skel.h", StepID("GEN-SKEL", ".output/b.skel.h")),
                ("c", StepID("BINARY", "c")),
                (".output/a.tmp.bpf.o", StepID("BPF", ".output/a.tmp.bpf.o")),
                (".output/b.bpf.o", StepID("GEN-OBJ", ".output/b.bpf.o")),
                (".output/vmlinux.h", StepID.vmlinux),
            ]
            return targets.map { target in
                Round(name: "delete \(target.path)", change: { try FileManager.default.removeItem(atPath: $0.url(target.path).path) },
                      expected: [target.step], reasons: [target.step: "output \(target.path) missing"])
            }
        case .deleteState:
            return [Round(name: "delete the state file", change: { try FileManager.default.removeItem(atPath: $0.statePath) },
                          expected: StepID.everything(apps), everyReason: "no previous build state")]
        case .corruptState:
            func replaceState(_ bytes: @escaping (Data) -> Data) -> (TemporaryProject) throws -> Void {
                { project in
                    let old = try Data(contentsOf: URL(fileURLWithPath: project.statePath))
                    try bytes(old).write(to: URL(fileURLWithPath: project.statePath))
                }
            }
            let everything = StepID.everything(apps)
            return [
                Round(name: "garbage", change: replaceState { _ in Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }) },
                      expected: everything, warning: "ignoring build state"),
                Round(name: "future version", change: replaceState { old in
                    var text = String(decoding: old, as: UTF8.self)
                    text = "swbpf-state 99" + text.drop(while: { $0 != "\n" })
                    return Data(text.utf8)
                }, expected: everything, warning: "ignoring build state"),
                Round(name: "malformed line in the middle", change: replaceState { old in
                    var lines = String(decoding: old, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                    lines.insert("S\tbroken", at: min(3, lines.count))
                    return Data(lines.joined(separator: "\n").utf8)
                }, expected: everything, warning: "ignoring build state"),
                Round(name: "empty", change: replaceState { _ in Data() }, expected: everything, warning: "ignoring build state"),
            ].map { round in
                var round = round
                let check = round.verify
                round.verify = { project, build in
                    try check(project, build)
                    #expect(build.warnings.first?.contains(project.statePath) == true, "the warning names the state file: \(build)")
                    #expect(build.warnings.first?.hasSuffix("rebuilding everything") == true, "\(build)")
                }
                return round
            }
        case .truncatedState:
            // A build killed while appending leaves a last line without its newline. swbpf drops
            // that line by design (no warning): only the step recorded on it runs again. The
            // record must then be usable, so the following build runs nothing.
            return [Round(name: "last line cut short", change: { project in
                let old = try Data(contentsOf: URL(fileURLWithPath: project.statePath))
                try old.prefix(old.count - 10).write(to: URL(fileURLWithPath: project.statePath))
            }, expected: [], verify: { _, _ in })]
        }
    }

    @Test(arguments: Change.allCases)
    func incrementalMatrix(_ change: Change) throws {
        let project = try ThreeApps.make("matrix-\(change.rawValue)")
        let tools = try TemporaryProject("tools")
        try Self.coldBuild(project)
        var rounds = try rounds(for: change, tools: tools)
        if change == .truncatedState {
            // The step to expect is the one whose record is the last line of the state.
            let state = StateLines(try String(contentsOfFile: project.statePath, encoding: .utf8))
            let last = state.lines.last(where: { $0 != [""] }) ?? []
            let subject = try #require(state.subject(last), "the state does not end with a record: \(last)")
            try #require(subject.kind == "S", "the state does not end with a step record: \(last)")
            let step = try #require(StepID.everything(Self.apps).first { $0.path == subject.path }, "unknown step \(subject.path)")
            rounds[0].expected = [step]
            rounds[0].reasons = [step: "no record of a previous build"]
        }
        for round in rounds { try check(round, in: project, change: change) }
    }

    func check(_ round: Round, in project: TemporaryProject, change: Change) throws {
        try round.change(project)
        let context = "\(change.rawValue) / \(round.name)"
        let build = try project.build(["-j", "2", "--explain"] + round.arguments, environment: round.environment)
        #expect(build.status == 0, "\(context): \(build)")

        let verbose = round.arguments.contains("-v")
        let explained = build.explained
        let ran = verbose ? explained.map(\.step) : build.steps
        #expect(Set(ran) == round.expected,
                "\(context): ran \(describe(ran)); expected \(describe(round.expected))\n\(build)")
        #expect(ran.count == Set(ran).count, "\(context): a step ran twice\n\(build)")
        // --explain gives exactly one reason for every step that runs.
        if verbose {
            let commands = build.result.stdout.split(separator: "\n").filter { !$0.hasPrefix("swbpf:") && !$0.hasPrefix("mkdir -p ") }
            #expect(commands.count == explained.count, "\(context): \(commands.count) commands, \(explained.count) explain lines\n\(build)")
        } else {
            #expect(explained.map(\.step).sorted() == build.steps.sorted(), "\(context): explain lines do not match the steps\n\(build)")
        }
        #expect(explained.allSatisfy { !$0.reason.isEmpty }, "\(context): a step has no reason\n\(build)")
        if let reason = round.everyReason {
            let others = explained.filter { $0.reason != reason }
            #expect(others.isEmpty, "\(context): every step should say '\(reason)'; these do not: \(others)")
        }
        for (step, reason) in round.reasons.sorted(by: { $0.key < $1.key }) {
            let given = explained.first { $0.step == step }?.reason
            #expect(given == reason, "\(context): \(step) explained as \(given ?? "nothing"), expected \(reason)")
        }
        if let warning = round.warning {
            #expect(build.warnings.count == 1 && build.warnings[0].contains(warning), "\(context): \(build)")
        } else {
            #expect(build.warnings.isEmpty, "\(context): unexpected warning\n\(build)")
        }
        if round.expected.isEmpty { #expect(build.isNoOp, "\(context): \(build)") }
        try round.verify(project, build)

        let again = try project.build(["-j", "2", "--explain"], environment: round.environment)
        #expect(again.status == 0 && again.isNoOp && again.explained.isEmpty && again.warnings.isEmpty,
                "\(context): the build after it was not a no-op\n\(again)")
    }

    /// Two clean builds at the same path give byte-identical products: BPF objects, skeletons,
    /// and (with gcc and GNU ld here) the user-space objects and binaries too. The kill test
    /// relies on the latter.
    @Test func cleanBuildsAreByteIdentical() throws {
        let project = try ThreeApps.make("deterministic")
        try Self.coldBuild(project)
        let first = project.products(apps: Self.apps)
        try project.clean(apps: Self.apps)
        try Self.coldBuild(project)
        let second = project.products(apps: Self.apps)
        let kernelSide = first.keys.filter { $0.hasSuffix(".bpf.o") || $0.hasSuffix(".skel.h") || $0.hasSuffix("vmlinux.h") }
        #expect(kernelSide.count == 10, "\(first.keys.sorted())")
        #expect(differences(first.filter { kernelSide.contains($0.key) }, second.filter { kernelSide.contains($0.key) }) == [])
        #expect(differences(first, second) == [], "user-space objects or binaries differ between clean builds")
    }

    /// The fast path: a no-op build decides from stat data alone, writes nothing, and hashes nothing.
    @Test func noOpBuildsNeitherRewriteTheStateNorHash() throws {
        let project = try ThreeApps.make("fastpath")
        try Self.coldBuild(project)
        let stateBefore = try Data(contentsOf: URL(fileURLWithPath: project.statePath))
        let statBefore = try #require(fileStat(project.statePath))

        let noOp = try project.build()
        #expect(noOp.isNoOp, "\(noOp)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: project.statePath)) == stateBefore, "a no-op build changed the state")
        #expect(fileStat(project.statePath) == statBefore, "a no-op build wrote the state file")

        // A touched file is hashed once; its new stat data is appended, and nothing else.
        touch(project.url("b.c").path)
        let touched = try project.build()
        #expect(touched.isNoOp, "\(touched)")
        let stateAfterTouch = try Data(contentsOf: URL(fileURLWithPath: project.statePath))
        #expect(stateAfterTouch.starts(with: stateBefore), "the state was rewritten rather than appended to")
        let appended = String(decoding: stateAfterTouch.dropFirst(stateBefore.count), as: UTF8.self)
        let view = StateLines(String(decoding: stateAfterTouch, as: UTF8.self))
        let records = StateLines(appended).lines.filter { $0 != [""] && $0.first != "P" }.map { view.subject($0) }
        #expect(records.count == 1 && records.first??.kind == "F" && records.first??.path == "b.c",
                "a touch of b.c should append one file record for b.c and nothing else; appended: \(appended)")
        let statAfterTouch = try #require(fileStat(project.statePath))

        let second = try project.build()
        #expect(second.isNoOp, "\(second)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: project.statePath)) == stateAfterTouch)
        #expect(fileStat(project.statePath) == statAfterTouch, "a no-op build after a touch wrote the state file")

        // Change a.c's bytes in place (same size, same inode) and put its mtime back: the stat data
        // is what was recorded, so a build that hashes nothing on the fast path sees nothing. (This
        // is the blind spot every stat-based build tool accepts; it is here only to prove that no
        // content was read.)
        let source = project.url("a.c").path
        let original = try #require(fileStat(source))
        var times = [timespec(), timespec()]
        var info = Glibc.stat()
        try #require(lstat(source, &info) == 0)
        times[0] = info.st_atim
        times[1] = info.st_mtim
        let edited = ThreeApps.userSource("a", marker: "v9")
        try #require(edited.utf8.count == ThreeApps.userSource("a").utf8.count)
        let handle = try FileHandle(forWritingTo: project.url("a.c"))
        try handle.write(contentsOf: Data(edited.utf8))
        try handle.close()
        try #require(utimensat(AT_FDCWD, source, &times, 0) == 0)
        try #require(fileStat(source) == original, "could not restore a.c's stat data")
        let blind = try project.build()
        #expect(blind.isNoOp, "the fast path read a file whose stat data had not changed: \(blind)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: project.statePath)) == stateAfterTouch)

        // Once the mtime moves, the new content is seen and a is rebuilt.
        touch(source)
        let rebuilt = try project.build(["--explain"])
        #expect(Set(rebuilt.steps) == Set(StepID.userSide(of: "a")), "\(rebuilt)")
        #expect(rebuilt.explained.first { $0.step == StepID("CC", ".output/a.o") }?.reason == "input a.c changed", "\(rebuilt)")
        #expect(runApp(project, "a").contains("a-user-v9"))
    }
}
