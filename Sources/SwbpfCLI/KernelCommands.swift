import ArgumentParser
import FoundationEssentials
import SwbpfBasics
import SwbpfBuild
import SwbpfDriver
import SwbpfViews
#if canImport(Glibc)
import Glibc
#endif

/// The build options the kernel commands pass on to the build they start.
struct KernelBuildOptions: ParsableArguments {
    @Option(name: [.customShort("j", allowingJoined: true), .long], help: "Run up to N steps at once (default: the number of cores).")
    var jobs: Int?

    @Flag(name: .shortAndLong, help: "Print each build step's exact command.")
    var verbose = false

    @Flag(help: "Say why each build step runs.")
    var explain = false

    func request(directory: String, apps: [String]) -> BuildRequest {
        var request = BuildRequest(directory: directory, jobs: jobs ?? defaultJobs(), environment: currentEnvironment())
        request.apps = apps
        request.verbose = verbose
        request.explain = explain
        return request
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Build, then load every program of each app into the kernel verifier (nothing is attached) and report its verdict.",
        discussion: """
            Each program is loaded alone, through swbpf's loader linked against the project's libbpf, with its maps \
            created in a throwaway bpffs directory and freed afterwards. A refusal is reported with the source line the \
            verifier stopped at and a hint. Needs root (CAP_BPF). Exit status 1 when any program was not accepted.
            """)

    @OptionGroup var project: ProjectOptions
    @OptionGroup var build: KernelBuildOptions

    @Option(help: "Output format: 'human' (a table), or 'json' for one JSON object per program on stdout (build output goes to stderr).")
    var format: OutputFormat = .human

    @Option(help: ArgumentHelp("Write every program's whole verifier log to FILE.", valueName: "FILE"))
    var log: String?

    @Flag(help: "Verify again whenever a source, header or swbpf.toml changes (Ctrl-C to stop).")
    var watch = false

    @Option(name: .customLong("kernel"), help: ArgumentHelp(
        "Check against another kernel instead of this one (repeatable): a Debian version (6.1, 6.12, 6.1.192-3), fetched with apt-get download, or a .deb, vmlinuz, vmlinux or BTF file. Offline this checks CO-RE types and fields only; add --vm for the kernel's own verifier. Default: swbpf.toml's [verify] kernels.",
        valueName: "VERSION|FILE"))
    var kernels: [String] = []

    @Flag(help: "Boot each --kernel with qemu (KVM when it works, else TCG) and load every program with that kernel's verifier; up to -j kernels at once.")
    var vm = false

    @ArgumentParser.Argument(help: "Apps to verify (default: every app in the project).", completion: .custom(Conventions.appNames))
    var apps: [String] = []

    func run() async throws {
        var verify = VerifyRequest(build: build.request(directory: project.directory, apps: apps))
        verify.json = format == .json
        verify.logFile = log
        verify.kernels = kernels
        verify.vm = vm
        let request = verify, watch = watch
        let makeConsole: @Sendable () -> BuildReporter = {
            consoleReporter(for: request.build, human: request.json ? .standardError : .standardOutput)
        }
        await runReportingErrors {
            if watch {
                return await WatchSession.run(directory: request.build.directory, console: makeConsole) { console in
                    await VerifySession.run(request, console: console)
                }
            }
            return await VerifySession.run(request, console: makeConsole()).status
        }
    }
}

/// `swbpf build --watch`.
func runWatchedBuild(_ request: BuildRequest, json: Bool) async {
    let rounds = settled(request)
    await runReportingErrors {
        await WatchSession.run(directory: rounds.directory, console: { consoleReporter(for: rounds, json: json) }) { console in
            await BuildSession.build(rounds, console: console)
        }
    }
}

/// The human view of a build on `human`, for commands whose standard output carries something else.
func consoleReporter(for request: BuildRequest, human: TextOutput) -> BuildReporter {
    ConsoleReporter(options: .init(verbose: request.verbose || request.environment["V"] == "1", explain: request.explain,
                                   quiet: request.quiet, decorated: human.usesColor(request.color)), out: human)
}

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the toolchain and ask the kernel which program kinds it loads and attaches.",
        discussion: """
            One line per check, with ✓ or ✗ and, for ✗, the fix. In a project, names the apps whose programs this \
            kernel cannot load or attach. Exit status 1 when something the project needs is missing.
            """)

    @OptionGroup var project: ProjectOptions

    @Option(help: "Output format: 'human', or 'json'.")
    var format: OutputFormat = .human

    @Option(help: ArgumentHelp("Also check the cross toolchain for this target (as ARCH=...; swbpf.toml's arch is checked too).", valueName: "ARCH"))
    var arch: String?

    func run() async throws {
        await runReportingErrors {
            let report = await SwbpfDriver.Doctor.run(directory: project.directory, environment: currentEnvironment(), arch: arch)
            switch format {
            case .human: TextOutput.standardOutput.write(SwbpfDriver.Doctor.render(report))
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                TextOutput.standardOutput.write(Array(try encoder.encode(report)) + [0x0A])
            }
            return report.ok ? 0 : 1
        }
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Build an app, then run it with its bpf_printk() output streamed beside its own.",
        discussion: """
            bpffs and tracefs are mounted where missing. bpf_printk() lines are read from a tracefs instance of \
            swbpf's own (removed afterwards), so other readers of trace_pipe neither take them nor lose theirs. \
            Ctrl-C is passed to the app as SIGINT; swbpf waits for it and exits with its status. Needs root.
            """)

    @OptionGroup var project: ProjectOptions
    @OptionGroup var build: KernelBuildOptions

    @ArgumentParser.Argument(help: "The app to run (default: the project's only app; ./NAME for a name that starts with '-').",
                             completion: .custom(Conventions.appNames))
    var app: String?

    @ArgumentParser.Argument(parsing: .postTerminator, help: "Arguments for the app, after '--'.")
    var arguments: [String] = []

    /// `./-Xo` names the app `-Xo`, as a shell runs it: a name that starts with '-' would be read as an option.
    static func appName(_ word: String) -> String { word.hasPrefix("./") ? String(word.dropFirst(2)) : word }

    func run() async throws {
        let name: String
        do { name = try app.map(Self.appName) ?? Conventions.onlyApp(directory: project.directory) } catch {
            printDiagnostic(Diagnostic(of: error))
            Glibc.exit(1)
        }
        let request = build.request(directory: project.directory, apps: [name])
        // Ctrl-C during the build stops the build; once the app runs, it goes to the app.
        let outcome = await Interrupts.run {
            await RunSession.build(request, app: name, console: consoleReporter(for: request, human: .standardOutput))
        }
        guard case .success(let (built, status)) = outcome else {
            if case .failure(let interruption) = outcome { Glibc.exit(interruption.exitStatus) }
            Glibc.exit(1)
        }
        guard let built else { Glibc.exit(status) }
        let exitStatus: Int32
        do {
            exitStatus = try RunSession.runApp(built, arguments: arguments, note: { TextOutput.standardError.write($0 + "\n") })
        } catch {
            printDiagnostic(Diagnostic(of: error))
            Glibc.exit(1)
        }
        // A failure (not a signal) may be the kernel's refusal, which the app's own error seldom names.
        if exitStatus != 0 && exitStatus < 128 { await Self.explainFailure(of: name, directory: project.directory) }
        Glibc.exit(exitStatus)
    }

    /// After an app failed: what doctor knows this kernel refuses of its programs.
    static func explainFailure(of app: String, directory: String) async {
        for problem in await SwbpfDriver.Doctor.problems(of: app, directory: directory, environment: currentEnvironment()) {
            printDiagnostic(Diagnostic(.note, "\(app) exited with an error, and this kernel cannot run all its programs: \(problem)",
                                       help: "'swbpf doctor' lists what this kernel allows"))
        }
    }
}

struct BTFGen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "btfgen",
        abstract: "Build, then list the small BTF each app carries for kernels without BTF of their own (bpftool gen min_core_btf).",
        discussion: """
            The kernels are each app's btf-for in swbpf.toml, and --kernel for this run; each is read as 'verify --kernel' \
            reads it. Each app gets .output/btf/APP/RELEASE.btf, named by the kernel's release (uname -r), as a step of \
            every build; 'swbpf install' puts them in PREFIX/lib/APP/btf/, where the templates' user part looks when \
            /sys/kernel/btf/vmlinux is absent (docs/kernels.md).
            """)

    @OptionGroup var project: ProjectOptions
    @OptionGroup var build: KernelBuildOptions

    @Option(name: .customLong("kernel"), help: ArgumentHelp(
        "Also make a BTF for this kernel, in this run only (repeatable): a Debian version (6.1, 6.12.118-1~deb12u1), fetched with apt-get download, or a .deb, vmlinuz, vmlinux or BTF file (BTFHub's RELEASE.btf).",
        valueName: "VERSION|FILE"))
    var kernels: [String] = []

    @ArgumentParser.Argument(help: "Apps to make BTF for (default: every app in the project).", completion: .custom(Conventions.appNames))
    var apps: [String] = []

    func run() async throws {
        var request = build.request(directory: project.directory, apps: apps)
        request.btfKernels = kernels
        let settledRequest = settled(request)
        await runReportingErrors {
            let selected = try OpenedProject.load(settledRequest.directory, environment: settledRequest.environment).selectApps(apps)
            if settledRequest.btfKernels.isEmpty, selected.allSatisfy({ $0.btfFor.isEmpty }) {
                throw BTFKernelError.noKernels(apps: selected.map(\.name))
            }
            let (status, built) = await BuildSession.build(settledRequest, console: consoleReporter(for: settledRequest, json: false))
            guard status == 0, let opened = built?.plannedProject else { return status }
            for step in opened.selectedSteps where step.kind == .minCoreBTF {
                let size = FileSystem.stat(FileSystem.absolute(step.primaryOutput, base: opened.project.root))?.size ?? 0
                TextOutput.standardOutput.write("  BTF      \(step.primaryOutput.escapedForDisplay()) (\(size) bytes)\n")
            }
            return 0
        }
    }
}
