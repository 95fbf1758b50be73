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
}
