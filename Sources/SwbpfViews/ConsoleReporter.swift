import FoundationEssentials
import SwbpfBasics
import SwbpfBuild
import SwbpfModel

/// The human view of a build: one short line per step that runs (`  BPF      .output/x.tmp.bpf.o`),
/// or with `verbose` the exact, pasteable command. On a terminal it adds a [k/N] counter and
/// colour. Tool diagnostics pass through whole, after the step's line; a failed step's command is
/// always shown.
public final class ConsoleReporter: BuildReporter {
    public struct Options {
        public var verbose = false
        public var explain = false
        /// Only errors and the final failure summary (`-q`, as make -s and cargo -q).
        public var quiet = false
        /// Counter and colour; on by default only on a terminal.
        public var decorated: Bool
        public init(verbose: Bool = false, explain: Bool = false, quiet: Bool = false, decorated: Bool) {
            self.verbose = verbose
            self.explain = explain
            self.quiet = quiet
            self.decorated = decorated
        }
    }

    package let options: Options
    package let out: TextOutput
    package let diagnostics: TextOutput
    package var total = 0
    package var count = 0
    package var expected = Set<Int>()
    package var dryRun = false
    /// The directories a printed `mkdir -p` has made, so each is made once per build.
    package var printedDirectories = Set<String>()

    public init(options: Options, out: TextOutput = .standardOutput, diagnostics: TextOutput = .standardError) {
        self.options = options
        self.out = out
        self.diagnostics = diagnostics
    }

    package func paint(_ text: String, _ colour: String) -> String {
        options.decorated ? colour + text + ANSI.reset : text
    }

    public func handle(_ event: BuildEvent) {
        switch event {
        case .planned(_, let toRun, let dryRun):
            total = toRun.count
            expected = Set(toRun)
            self.dryRun = dryRun
        case .started(let step, _, let reason, _):
            count += 1
            if options.explain {
                diagnostics.write(paint("explain: ", ANSI.dim) + "\(step.kind.label) \(step.primaryOutput): \(reason)".escapedForDisplay() + "\n")
            }
            let counter = options.decorated ? paint("[\(count)/\(max(total, count))] ", ANSI.dim) : ""
            if options.quiet && !dryRun { return }
            if options.verbose || dryRun {
                // Verbose lines stay pure commands, so they can be pasted into a shell, from a
                // clean tree too: the directories the tools write into are made first.
                out.write(pasteableCommand(step))
            } else {
                let label = step.kind.label.padded(to: 8)
                out.write("  " + counter + paint(label, colour(for: step.kind)) + " " + step.primaryOutput.escapedForDisplay() + "\n")
            }
        case .restored(let step, _, let source, let key, let reason, _, _):
            count += 1
            if options.explain {
                diagnostics.write(paint("explain: ", ANSI.dim)
                                  + "\(step.kind.label) \(step.primaryOutput): \(reason); restored from the \(source) cache (entry \(key))".escapedForDisplay() + "\n")
            }
            let counter = options.decorated ? paint("[\(count)/\(max(total, count))] ", ANSI.dim) : ""
            if options.quiet { return }
            if options.verbose {
                // Still the command: pasted into a shell it makes the same bytes.
                out.write(pasteableCommand(step))
            } else {
                out.write("  " + counter + paint("CACHED".padded(to: 8), ANSI.dim) + " " + step.primaryOutput.escapedForDisplay() + "\n")
            }
        case .upToDate(let step):
            // A step expected to run whose inputs came out unchanged no longer counts towards N.
            if expected.remove(step.id) != nil { total -= 1 }
        case .finished(let step, _, let result, let output, _, _):
            guard case .failed(let failure) = result else {
                if !options.quiet, options.verbose || !step.kind.printsProgress { writeToolOutput(output) }
                return
            }
            if !options.verbose { diagnostics.write(step.shellCommand + "\n") }
            writeToolOutput(output)
            diagnostics.write(paint("error: ", ANSI.red + ANSI.bold)
                              + "\(step.kind.label) \(step.primaryOutput) failed (\(failure.describe(tool: step.tool)))".escapedForDisplay() + "\n")
            if let hint = Hints.hint(for: output, step: step) { diagnostics.write("help: \(hint)".escapedForDisplay() + "\n") }
        case .skipped:
            break
        case .note(let text):
            if options.quiet { return }
            diagnostics.write(text.escapedForDisplay(multiline: true) + "\n")
        case .diagnostic(let diagnostic):
            if options.quiet && diagnostic.severity != .error { return }
            let severity = diagnostic.severity.rawValue + ":"
            let colour = diagnostic.severity == .error ? ANSI.red + ANSI.bold : diagnostic.severity == .warning ? ANSI.magenta + ANSI.bold : ANSI.bold
            diagnostics.write(paint(severity, colour) + diagnostic.rendered.dropFirst(severity.count).escapedForDisplay(multiline: true) + "\n")
        case .buildFinished(let summary):
            finish(summary)
        }
    }

    package func finish(_ summary: BuildSummary) {
        let elapsed = Self.format(seconds: summary.ended.timeIntervalSince(summary.started))
        if summary.interrupted {
            diagnostics.write("swbpf: interrupted; partial outputs removed, finished steps kept\n")
        } else if !summary.failed.isEmpty {
            let names = summary.failed.map { "\($0.kind.label) \($0.primaryOutput)" }.joined(separator: ", ").escapedForDisplay()
            var line = "swbpf: \(summary.failed.count) step\(summary.failed.count == 1 ? "" : "s") failed: \(names)"
            if summary.skipped > 0 { line += "; \(summary.skipped) step\(summary.skipped == 1 ? "" : "s") not run because of it" }
            let independent = summary.appsLeftUnbuilt.count
            if !summary.keptGoing, independent > 0 {
                line += "; -k builds the \(independent == 1 ? "app" : "\(independent) apps") that do\(independent == 1 ? "es" : "") not depend on it"
            }
            // Which binaries are there, by app, before the headline that stays the last line.
            if let apps = summary.apps { diagnostics.write("swbpf: \(apps.summaryLine)".escapedForDisplay() + "\n") }
            diagnostics.write(paint(line, ANSI.red) + "\n")
        } else if options.quiet {
            return
        } else if summary.dryRun {
            if summary.ran == 0 { out.write("swbpf: nothing to do, all \(summary.upToDate) steps are up to date\n") }
        } else if summary.ran == 0 && summary.restored == 0 {
            out.write("swbpf: nothing to do, all \(summary.upToDate) steps are up to date (\(elapsed))\n")
        } else if options.decorated {
            let restored = summary.restored > 0 ? " and restored \(summary.restored) from the cache" : ""
            out.write(paint("swbpf: ran \(summary.ran) step\(summary.ran == 1 ? "" : "s")\(restored) in \(elapsed)", ANSI.green) + "\n")
        }
    }

    /// `step`'s command, after a `mkdir -p` for each directory it writes into that no printed
    /// command has made yet in this build.
    package func pasteableCommand(_ step: Step) -> String {
        let directories = step.products.map { FileSystem.split($0).directory }
            .filter { !$0.isEmpty && $0 != "." && printedDirectories.insert($0).inserted }
        return directories.map { "mkdir -p \(Shell.quote($0))\n" }.joined() + step.shellCommand + "\n"
    }

    /// What a tool printed, passed through whole, but with control characters made visible (a
    /// file name in a message cannot drive the terminal).
    package func writeToolOutput(_ output: [UInt8]) {
        guard !output.isEmpty else { return }
        diagnostics.write(String(decoding: output, as: UTF8.self).escapedForDisplay(multiline: true))
    }

    package func colour(for kind: StepKind) -> String {
        switch kind {
        case .vmlinux, .libbpf, .bpftool: return ANSI.magenta
        case .precompiledHeader, .bpfCompile, .bpfLink: return ANSI.yellow
        case .skeleton, .swiftSupport: return ANSI.cyan
        case .compile, .swiftCompile: return ANSI.blue
        case .link, .alias, .swiftLink: return ANSI.green
        case .kernelLoader: return ANSI.dim
        case .minCoreBTF: return ANSI.magenta
        }
    }

    package static func format(seconds: Double) -> String {
        seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : Decimal.string(seconds, places: 2) + " s"
    }
}
