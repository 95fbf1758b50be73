import Foundation
import Testing
import SwbpfTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The Swift twins of the templates (templates/T/@name@.swift), through the real swbpf, clang,
/// bpftool, swiftc and kernel: each is created with `swbpf new --lang swift`, built, loaded with
/// --load-only, and run by its C twin's recipe from TemplateTests, so it must print what the C
/// twin's test asserts. The C twin is added to the same project and built with it, and both are
/// given the same command lines (help, refusals, load): their outputs and exit statuses must be
/// the same, apart from the app's name.
///
/// Helpers are in TemplateTestSupport.swift.
@Suite(.timeLimit(.minutes(20)), .enabled(if: Kernel.isRoot, "needs root (CAP_BPF) to load BPF programs"))
struct SwiftTemplateTests {
    /// The templates with a Swift twin. Their apps are named sw_ID, unlike the C suite's t_ID.
    static let templates: [TemplateTests.Spec] = [
        ("minimal", 1), ("tracepoint", 1), ("uprobe", 2), ("ringbuf", 2), ("xdp", 1), ("tc", 1), ("iter", 1), ("usdt", 1),
    ].map { TemplateTests.Spec(id: $0.0, programs: $0.1, name: "sw_\($0.0)") }

    /// Command lines both twins must answer alike: help, getopt's refusals, bad values, stray
    /// operands, long options shortened or given '=', a value strtol(3) reads past its leading
    /// blank, and a load.
    static func commandLines(_ id: String) -> [[String]] {
        var lines = [["-h"], ["--help"], ["-z"], ["--bogus"], ["-d"], ["--duration"], ["-d", "0"], ["--dur=x"],
                     ["--verbose=1"], ["--", "--load-only"], ["--load"], ["-vz"], ["-d", " 1", "--load-only"]]
        switch id {
        case "tracepoint": lines += [["-p", "abc"], ["-p0"], ["--load-only", "extra"]]
        case "ringbuf": lines += [["-D", "-1"], ["--min-duration"], ["--load-only", "extra"]]
        case "xdp": lines += [[], ["swbpf-no-such-if0"], ["--load-only", "lo", "extra"], ["--sk", "--load-only"]]
        case "tc": lines += [[], ["swbpf-no-such-if0"], ["--load-only", "lo", "extra"]]
        case "iter": lines += [["-t", "--load-only"], ["--load-only", "extra"]]
        case "usdt": lines += [["-i", "0"], ["--interval"], ["--load-only", "extra"]]
        default: lines += [["--load-only", "extra"]]
        }
        return lines
    }

    @Test(arguments: SwiftTemplateTests.templates)
    func swiftTwin(_ spec: TemplateTests.Spec) async throws {
        let scratch = try TemporaryProject("swift-template-\(spec.id)")
        let dir = scratch.path, name = spec.name, app = dir + "/" + spec.name

        // swbpf new --lang swift: the template's files, with NAME.swift instead of NAME.c.
        let new = try await TemplateHarness.swbpf(["new", dir, "--lang", "swift", "--template", spec.id, "--name", name], in: dir)
        try #require(new.status == 0, "swbpf new --lang swift --template \(spec.id): \(new.output)")
        var expected = try TemplateTests.expectedFiles(spec.id, name: name, swift: true)
        #expect(expected.keys.contains("\(name).swift") && !expected.keys.contains("\(name).c"))
        let created = TemplateHarness.matches(new.stdout, "  CREATE   " + TemplateHarness.literal(dir) + "/(.+)").map { $0[1] }
        #expect(Set(created) == Set(expected.keys).union(["swbpf.toml", ".gitignore"]) && created.count == expected.count + 2,
                "swbpf new printed: \(new.stdout)")
        expected[".gitignore"] = "# Build products of swbpf\n/.output/\n/\(name)\n"
        for (file, contents) in expected {
            let written = try scratch.read(file)
            #expect(written == contents, "\(file) differs from templates/\(spec.id) with @name@ = \(name)")
            #expect(!written.contains("@name@") && !written.contains("@NAME@"), "\(file) has an unsubstituted placeholder")
        }
        #expect(!scratch.exists("\(name).c"))
        #expect(try !scratch.read("README.md").contains("`\(name).c`"), "the README of a Swift project names the C file")

        // Its C twin, added beside it, to compare the two on the same command lines.
        let twin = "c_\(spec.id)", twinApp = dir + "/" + twin
        let add = try await TemplateHarness.swbpf(["add", twin, "--template", spec.id], in: dir)
        try #require(add.status == 0, "swbpf add \(twin) --template \(spec.id): \(add.output)")

        // One build of both: the Swift app through SWIFTC, the C one through CC.
        let build = try await TemplateHarness.swbpf(["build"], in: dir)
        try #require(build.status == 0, "swbpf build of the Swift \(spec.id) template: \(build.output)")
        for line in ["  SWIFTC   \\S+/\(name)\\.swift\\.o", "  BINARY   \(name)", "  CC       \\.output/\(twin)\\.o", "  BINARY   \(twin)"] {
            #expect(!TemplateHarness.matches(build.stdout, line).isEmpty, "no line '\(line)' in:\n\(build.stdout)")
        }
        #expect(!build.stdout.contains("  CC       .output/\(name).o"), "\(build.stdout)")
        try #require(FileManager.default.isExecutableFile(atPath: app), "no binary \(name) after the build")

        // The same answers as the C twin, the name aside (and where it is the path, the path).
        for arguments in Self.commandLines(spec.id) {
            let swift = try await TemplateHarness.run(app, arguments, in: dir)
            let c = try await TemplateHarness.run(twinApp, arguments, in: dir)
            let renamed = { (text: String) in text.replacing(twinApp, with: app).replacing(twin, with: name) }
            #expect(swift.status == c.status && swift.signaled == c.signaled, "\(arguments): Swift \(swift)\nC \(c)")
            #expect(swift.stdout == renamed(c.stdout), "stdout of \(arguments): Swift \(swift)\nC \(c)")
            #expect(swift.stderr == renamed(c.stderr), "stderr of \(arguments): Swift \(swift)\nC \(c)")
        }

        // What the C suite asserts of every template: -h, the verifier, --load-only and -v.
        try await TemplateTests.EveryTemplate.expectHelpNamesTheCommonOptions(app: app, name: name, in: dir)
        let verifier = try await TemplateHarness.offThread { try Kernel.verifierCheck(dir + "/.output/\(name).bpf.o") }
        let load = try await TemplateHarness.run(app, ["--load-only"], in: dir)
        let verbose = try await TemplateHarness.run(app, ["-v", "--load-only"], in: dir)
        TemplateTests.EveryTemplate.expectAccepted(spec, name: name, verifier: verifier, load: load, verbose: verbose)

        // And the run, by the C twin's recipe.
        if let skip = try await TemplateTests.EveryTemplate.run(spec, app: app, in: dir) {
            print("skipped: \(skip)")
            try Test.cancel(Comment(rawValue: skip))
        }
    }

    /// Ctrl-C and SIGTERM take the clean exit path (status 0, the C twin's) in a loop that waits in
    /// ring_buffer__poll() (ringbuf) and in one that sleeps (uprobe): the handler that only stores
    /// a flag interrupts the wait. Without it the default action would kill the app.
    @Test(arguments: [("ringbuf", "TIME     EVENT COMM.*"), ("uprobe", "sw_sig_uprobe: probing .*")])
    func swiftTwinStopsCleanlyOnSIGINTAndSIGTERM(_ id: String, _ readyLine: String) async throws {
        let scratch = try TemporaryProject("swift-template-signal-\(id)")
        let dir = scratch.path, name = "sw_sig_\(id)"
        let new = try await TemplateHarness.swbpf(["new", dir, "--lang", "swift", "--template", id, "--name", name], in: dir)
        try #require(new.status == 0, "\(new.output)")
        let build = try await TemplateHarness.swbpf(["build"], in: dir)
        try #require(build.status == 0, "\(build.output)")
        for signal in [SIGINT, SIGTERM] {
            let child = try TemplateChild(dir + "/" + name, [], in: dir)
            guard await child.waitForLine(readyLine, timeout: 30) != nil else {
                Issue.record("\(name) did not start: \(await child.finish())")
                return
            }
            kill(child.pid, signal)
            let run = await child.finish(timeout: 10)
            #expect(run.exitedWith0 && run.stderr.isEmpty, "\(name) after signal \(signal): \(run)")
        }
    }
}
