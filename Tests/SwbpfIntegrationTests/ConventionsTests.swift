import Foundation
import Testing
import SwbpfTestSupport
@testable import SwbpfCLI
@testable import SwbpfKernel

/// `--version` and "did you mean", as a user meets them.
@Suite struct ConventionsTests {
    @Test func editDistanceCountsInsertionsDeletionsAndSubstitutions() {
        #expect(Conventions.editDistance("biuld", "build") == 2)
        #expect(Conventions.editDistance("buld", "build") == 1)
        #expect(Conventions.editDistance("", "run") == 3)
        #expect(Conventions.editDistance("run", "run") == 0)
    }

    /// A misspelled command is refused with the command it meant, unless an app has that name.
    @Test func aMisspelledCommandIsNamedUnlessItIsAnApp() throws {
        let scratch = try TemporaryProject("didyoumean")
        let refused = try Swbpf.run(["biuld"], in: scratch.path)
        #expect(refused.status == 64 && refused.stderr.contains("did you mean 'swbpf build'?"), "\(refused.output)")
        let viaC = try Swbpf.run(["-C", scratch.path, "verfiy"], in: "/")
        #expect(viaC.status == 64 && viaC.stderr.contains("did you mean 'swbpf verify'?"), "\(viaC.output)")

        // "hello" is two edits from "help": an app of that name is built, not refused.
        #expect(Conventions.misspelledCommand(["-C", scratch.path, "hello"])?.command == "help")
        try scratch.write("hello.bpf.c", "")
        #expect(Conventions.misspelledCommand(["-C", scratch.path, "hello"]) == nil)
        #expect(Conventions.misspelledCommand(["-C", scratch.path, "buld"])?.command == "build")
        #expect(Conventions.misspelledCommand(["-C", scratch.path, "biuld2"]) == nil, "three edits from build")
        #expect(Conventions.misspelledCommand(["-C", scratch.path, "V=1"]) == nil)
    }

    /// `--version` and `-V`: the commit this checkout is at (the build embeds it), and the tools.
    @Test func versionNamesTheCommitAndTheTools() throws {
        let head = try runProcess("/usr/bin/git", ["-C", repositoryRoot, "rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for spelling in ["--version", "-V"] {
            let result = try Swbpf.run([spelling], in: repositoryRoot)
            #expect(result.status == 0, "\(result.output)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "swbpf \(Conventions.version) (commit \(head))", "\(result.output)")
            #expect(lines.contains { $0.hasPrefix("clang ") } && lines.contains { $0.hasPrefix("bpftool ") }
                    && lines.contains { $0.hasPrefix("libbpf ") }, "\(result.output)")
        }
    }

    static let generateManual = URL(fileURLWithPath: Swbpf.path).deletingLastPathComponent().appendingPathComponent("generate-manual").path

    /// scripts/install-manuals, as scripts/install runs it: a man page per command, named as
    /// `man swbpf-build` finds it, and the three completion scripts.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: generateManual),
                   "argument-parser's generate-manual is not built beside swbpf (swift build --product generate-manual)"))
    func manualsAndCompletionsAreInstalled() throws {
        let prefix = try TemporaryProject("prefix")
        let result = try runProcess(repositoryRoot + "/scripts/install-manuals", [Swbpf.path, Self.generateManual, prefix.path])
        #expect(result.status == 0, "\(result.output)")
        for command in ["", "-build", "-verify", "-run", "-doctor", "-new"] {
            let page = try prefix.read("share/man/man1/swbpf\(command).1")
            #expect(page.contains(".Nm"), "swbpf\(command).1 is not a man page")
        }
        #expect(try prefix.read("share/man/man1/swbpf-build.1").contains("Fl -dry-run"), "build's page lists its options")
        #expect(try prefix.read("share/bash-completion/completions/swbpf").contains("verify"))
        #expect(prefix.exists("share/zsh/site-functions/_swbpf") && prefix.exists("share/fish/vendor_completions.d/swbpf.fish"))
    }

    /// `swbpf run` with no app runs a one-app project's app (its minimal program refuses a bad
    /// option, so nothing needs to attach); with two apps it asks which, naming them.
    @Test(.enabled(if: Kernel.isRoot, "needs root (CAP_BPF) to load BPF programs"))
    func runWithoutAnAppRunsTheOnlyOne() async throws {
        let scratch = try await KernelCommandTests.project("run-only", apps: [("only", "minimal")])
        let direct = try await TemplateHarness.run(Swbpf.path, ["run", "only", "--", "--no-such-option"], in: scratch.path, timeout: 300)
        let implied = try await TemplateHarness.run(Swbpf.path, ["run", "--", "--no-such-option"], in: scratch.path, timeout: 300)
        #expect(direct.status != 0 && implied.status == direct.status && implied.stderr.contains("only"), "\(direct)\n\(implied)")

        let add = try await TemplateHarness.swbpf(["add", "second", "--template", "minimal"], in: scratch.path)
        try #require(add.status == 0, "\(add.output)")
        let ambiguous = try await TemplateHarness.swbpf(["run"], in: scratch.path)
        #expect(ambiguous.status == 1 && ambiguous.stderr.contains("2 apps (only, second): which one should run?"), "\(ambiguous.output)")
    }

    /// -q prints nothing on success and only the error and summary on failure; -B runs every step
    /// again without asking the cache; --color always colours a pipe, never does not.
    @Test func quietAlwaysMakeAndColor() throws {
        let project = try TemporaryProject(copying: "examples/minimal")
        let cache = try TemporaryProject("conventions-cache")
        let environment = ["SWBPF_CACHE_DIR": cache.path]
        let quiet = try project.swbpf("build", "-q", environment: environment)
        #expect(quiet.status == 0 && quiet.stdout.isEmpty && quiet.stderr.isEmpty, "\(quiet.output)")

        // Cleaned, a build would restore every step from the cache; -B runs every tool instead.
        #expect(try project.swbpf("clean").status == 0)
        let always = try project.swbpf("build", "-B", "-v", "--explain", environment: environment)
        let commands = always.stdout.split(separator: "\n").filter { !$0.hasPrefix("mkdir -p ") }
        #expect(always.status == 0 && commands.count == 7 && !always.stdout.contains("CACHED"), "\(always.output)")
        #expect(always.stderr.components(separatedBy: "-B (--always-make): every step runs").count - 1 == 7, "\(always.stderr)")
        let again = try project.swbpf("build", "--always-make", environment: environment)
        #expect(again.status == 0 && again.stdout.split(separator: "\n").filter { $0.hasPrefix("  ") }.count == 7, "a second -B runs everything again: \(again.output)")

        let coloured = try project.swbpf("build", "-B", "--color", "always", environment: environment)
        #expect(coloured.status == 0 && coloured.stdout.contains("\u{1B}["), "\(coloured.output)")
        let plain = try project.swbpf("build", "-B", "--color=never", environment: environment.merging(["TERM": "xterm"]) { $1 })
        #expect(plain.status == 0 && !plain.output.contains("\u{1B}"), "\(plain.output)")

        try project.append("minimal.c", "\nint broken = ;\n")
        let failed = try project.swbpf("build", "-q", environment: environment)
        #expect(failed.status == 1 && failed.stdout.isEmpty, "\(failed.output)")
        #expect(failed.stderr.contains("minimal.c:") && failed.stderr.contains("error: CC .output/minimal.o failed")
                && failed.stderr.contains("swbpf: 1 step failed: CC .output/minimal.o"), "\(failed.stderr)")
    }

    /// argument-parser's usage errors come out as swbpf's own: error:, then help: with the usage.
    @Test func argumentErrorsAreInSwbpfsStyle() throws {
        let scratch = try TemporaryProject("argument-errors")
        for (arguments, message, usage) in [(["build", "--colr", "x"], "error: Unknown option '--colr'", "help: usage: swbpf build "),
                                            (["-q", "-v"], "error: -q and -v contradict each other", "help: usage: swbpf build "),
                                            (["new"], "error: Missing expected argument '<directory>'", "help: usage: swbpf new ")] {
            let result = try Swbpf.run(arguments, in: scratch.path)
            #expect(result.status == 64 && result.stderr.hasPrefix(message) && result.stderr.contains(usage), "\(arguments): \(result.output)")
            #expect(!result.stderr.contains("Error:") && !result.stderr.contains("Usage:"), "\(arguments): \(result.output)")
        }
    }

    /// Completion of app names asks the project the command line names; templates are listed in
    /// the scripts themselves.
    @Test func completionOffersTheProjectsAppsAndTheTemplates() throws {
        let scratch = try TemporaryProject("completion")
        try scratch.write("alpha.bpf.c", "")
        try scratch.write("alpha.c", "")
        try scratch.write("beta.bpf.c", "")
        try scratch.write("beta.c", "")
        let here = try Swbpf.run(["---completion", "run", "--", "positional@0", "2", "0", "swbpf", "run", ""], in: scratch.path)
        #expect(here.status == 0 && here.stdout.split(separator: "\n") == ["alpha", "beta"], "\(here.output)")
        let elsewhere = try Swbpf.run(["---completion", "build", "--", "positional@0", "4", "1", "swbpf", "-C", scratch.path, "build", "b"], in: "/")
        #expect(elsewhere.status == 0 && elsewhere.stdout.split(separator: "\n") == ["beta"], "\(elsewhere.output)")
        let bash = try Swbpf.run(["--generate-completion-script", "bash"], in: scratch.path)
        #expect(bash.stdout.contains("'minimal'$'\\n''tracepoint'") && bash.stdout.contains("---completion run -- positional@0"), "\(bash.stdout.prefix(400))")
    }
}
