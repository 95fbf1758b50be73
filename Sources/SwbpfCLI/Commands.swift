import ArgumentParser
import FoundationEssentials
import SwbpfBasics
import SwbpfBuild
import SwbpfDriver
import SwbpfModel
import SwbpfScaffolding
import SwbpfViews
#if canImport(Glibc)
import Glibc
#endif

/// Options every command that opens a project shares. `swbpf` itself declares them too, so that
/// they may come before the command (`swbpf -C DIR build`, as with make and git): argument-parser
/// gives a value to every command in the chain that declares the option, so the command reads it
/// as if it came after its name.
struct ProjectOptions: ParsableArguments {
    @Option(name: .customShort("C"), help: ArgumentHelp("Run in DIR (the project directory).", valueName: "DIR"))
    var directory: String = "."
}

struct BuildOptions: ParsableArguments {
    // Unconditional, so that `-j -1` is refused as a count below 1 rather than as a missing value.
    @Option(name: [.customShort("j", allowingJoined: true), .long], parsing: .unconditional,
            help: "Run up to N steps at once (default: the number of cores; at most \(BuildWords.maximumJobs)).")
    var jobs: Int?

    @Flag(name: .customShort("k"), help: "Keep going after a failure: build every app that does not depend on it.")
    var keepGoing = false

    @Flag(name: [.customShort("n"), .customLong("dry-run")], help: "Print the commands that would run, and run nothing.")
    var dryRun = false

    @Flag(name: .shortAndLong, help: "Print each step's exact command (as V=1 does).")
    var verbose = false

    @Flag(help: "Say why each step runs.")
    var explain = false

    @Flag(name: .shortAndLong, help: "Print only errors and the final failure summary (as make -s, cargo -q).")
    var quiet = false

    @Flag(name: [.customShort("B"), .customLong("always-make")],
          help: "Run every step, as if every input changed (as make -B); the shared cache is not looked up.")
    var alwaysMake = false

    @Option(help: "Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never.")
    var color: ColorChoice = .auto

    @Option(help: "Give up waiting for another build of the project after SECONDS.")
    var lockTimeout = 600

    @Flag(help: "Print per-step times at the end and write an HTML timings report to the output directory.")
    var timings = false

    @Option(help: ArgumentHelp("Write a Chrome trace of the build (open it in Perfetto).", valueName: "FILE"))
    var trace: String?

    @Option(help: "Output format: 'human', or 'json' for one JSON event per line on stdout (human output goes to stderr).")
    var format: OutputFormat = .human

    @Flag(help: "Also write compile_commands.json.")
    var compdb = false

    @Flag(help: "Do not use the shared build cache (neither look up nor store).")
    var noCache = false

    @Option(help: ArgumentHelp("Build for this machine (as ARCH=...): \(TargetArch.all.map(\.name).joined(separator: ", ")), or Debian's names (aarch64, riscv64, x86_64, s390x, ppc64le, loongarch64, armhf).",
                               valueName: "ARCH"))
    var arch: String?

    @Flag(name: .customLong("static"), help: "Link fully static binaries (as static = true in swbpf.toml).")
    var staticLink = false

    func validate() throws {
        if let jobs, jobs < 1 {
            throw ValidationError("-j \(jobs): swbpf needs to run at least 1 step at a time; give -j 1 or more, or leave -j out for one per core")
        }
        if quiet && verbose { throw ValidationError("-q and -v contradict each other: give one of them") }
    }
}

/// `--arch` and `--static` for the commands that show a plan without building it (explain, compdb).
struct TargetArguments: ParsableArguments {
    @Option(help: ArgumentHelp("The target machine, as for build (as ARCH=...).", valueName: "ARCH"))
    var arch: String?

    @Flag(name: .customLong("static"), help: "Plan fully static binaries, as build --static does.")
    var staticLink = false

    var options: TargetOptions { TargetOptions(arch: arch, staticLink: staticLink) }
}

enum OutputFormat: String, ExpressibleByArgument {
    case human, json
}

public struct SwbpfCommand: AsyncParsableCommand, Sendable {
    public init() {}

    @OptionGroup var project: ProjectOptions

    public static let configuration = CommandConfiguration(
        commandName: "swbpf",
        abstract: "Build eBPF programs written with libbpf and CO-RE.",
        discussion: "A project is a directory of apps: each NAME.bpf.c (kernel part) with a NAME.c (user part) beside it. 'swbpf --version' (or -V) prints swbpf's version and commit, and the clang, bpftool and libbpf a build here would use.",
        subcommands: [Build.self, Install.self, Explain.self, Compdb.self, Clean.self, New.self, Init.self, Add.self, Templates.self,
                      Verify.self, BTFGen.self, Run.self, Doctor.self, Cache.self],
        defaultSubcommand: Build.self
    )
}

struct Build: AsyncParsableCommand {
    init() {}

    static let configuration = CommandConfiguration(commandName: "build", abstract: "Build apps: vmlinux.h, BPF objects, skeletons, binaries.")

    @OptionGroup var project: ProjectOptions
    @OptionGroup var options: BuildOptions

    @ArgumentParser.Argument(help: ArgumentHelp(
        "Apps to build (default: every app in the project), and make-style knobs NAME=VALUE, which override the environment for this build (V=1, CFLAGS=-O1).",
        valueName: "app-or-knob"), completion: .custom(Conventions.appNames))
    var apps: [String] = []

    @Flag(help: "Build again whenever a source, header or swbpf.toml changes (Ctrl-C to stop).")
    var watch = false

    func run() async throws {
        let invocation = invocation(environment: currentEnvironment())
        invocation.printNotes()
        if watch { return await runWatchedBuild(invocation.request, json: invocation.json) }
        await runBuild(invocation.request, json: invocation.json)
    }

    /// What the parsed arguments ask for; `QuickBuild` must produce the same for the argv it accepts.
    func invocation(environment: [String: String]) -> BuildInvocation {
        options.invocation(directory: project.directory, words: apps, environment: environment)
    }
}

/// Runs a build request from argument-parser's `Build`.
func runBuild(_ request: BuildRequest, json: Bool) async {
    await finishBuild(startBuild(request, json: json))
}

/// Starts a build from either parser. A build that ends in start (nothing needed a process, or
/// it could not start) exits here, before the concurrency runtime starts.
func startBuild(_ request: BuildRequest, json: Bool) -> PreparedBuild {
    let request = settled(request)
    switch BuildSession.start(request, console: consoleReporter(for: request, json: json)) {
    case .ended(let status, _): exit(Interrupts.received?.exitStatus ?? status)
    case .goesOn(let build): return build
    }
}

/// The rest of a started build, which Ctrl-C and SIGTERM cancel.
func finishBuild(_ build: PreparedBuild) async {
    await runReportingErrors { await BuildSession.finish(build) }
}

/// The request with the paths relative to the invocation directory made absolute, once.
func settled(_ request: BuildRequest) -> BuildRequest {
    var request = request
    request.traceFile = request.traceFile.map { FileSystem.absolute($0, base: FileSystem.currentDirectory()) }
    return request
}

struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Take an app's build commands apart: every flag, what it does and why it is there.")

    @OptionGroup var project: ProjectOptions

    @ArgumentParser.Argument(help: "The app to explain (default: every app).", completion: .custom(Conventions.appNames))
    var app: String?

    @Option(help: "Output format: 'human' or 'json'.")
    var format: OutputFormat = .human

    @OptionGroup var target: TargetArguments

    func run() async throws {
        await runReportingErrors {
            let opened = try await OpenedProject.open(directory: project.directory, apps: app.map { [$0] } ?? [],
                                                      environment: currentEnvironment(), target: target.options, diagnostics: printDiagnostic)
            let explainer = Explainer(toolchain: opened.toolchain, root: opened.project.root)
            let explanations = opened.selectedSteps.map(explainer.explain)
            switch format {
            case .human: TextOutput.standardOutput.write(explainer.render(explanations))
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                TextOutput.standardOutput.write(Array(try encoder.encode(explanations)) + [0x0A])
            }
            return 0
        }
    }
}

struct Compdb: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compdb",
        abstract: "Write compile_commands.json for the BPF and user-space sources (for clangd and other editors).")

    @OptionGroup var project: ProjectOptions
    @OptionGroup var target: TargetArguments

    func run() async throws {
        await runReportingErrors {
            let opened = try await OpenedProject.open(directory: project.directory, apps: [], environment: currentEnvironment(),
                                                      target: target.options, diagnostics: printDiagnostic)
            let path = try CompilationDatabase.write(opened)
            let count = CompilationDatabase.entries(for: opened.compileDatabaseSteps, root: opened.project.root).count
            TextOutput.standardOutput.write("swbpf: wrote \(path.escapedForDisplay()) (\(count) entries)\n")
            return 0
        }
    }
}

struct Clean: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean",
        abstract: "Remove what swbpf built: the named apps' outputs, or everything it produced.",
        discussion: "Files swbpf did not create are never removed, even in the output directory.")

    @OptionGroup var project: ProjectOptions

    @ArgumentParser.Argument(help: "Apps to clean (default: all, with vmlinux.h and swbpf's state).", completion: .custom(Conventions.appNames))
    var apps: [String] = []

    func run() async throws {
        await runReportingErrors {
            let loaded = try OpenedProject.load(project.directory, environment: currentEnvironment())
            _ = try loaded.selectApps(apps)
            let plan = try OpenedProject.outputsOnlyPlan(project: loaded, environment: currentEnvironment())
            let outcome = try await Cleaner.clean(project: loaded, plan: plan, apps: apps, lockTimeoutSeconds: 600,
                                                  onWait: { TextOutput.standardError.write($0 + "\n") })
            for path in outcome.removed { TextOutput.standardOutput.write("  CLEAN    \(path.escapedForDisplay())\n") }
            for path in outcome.kept {
                printDiagnostic(Diagnostic(.note, "kept \(path): it was changed after swbpf built it"))
            }
            if let reason = outcome.noState {
                TextOutput.standardOutput.write("swbpf: nothing to clean: \(reason), so no file is known to be swbpf's\n")
            } else if outcome.removed.isEmpty {
                TextOutput.standardOutput.write("swbpf: nothing to clean\n")
            }
            return 0
        }
    }
}

struct New: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new", abstract: "Create a project, ready to build, from a template.")

    @ParentCommand var root: SwbpfCommand

    @ArgumentParser.Argument(help: "The directory to create (it must not exist, or be empty).")
    var directory: String

    @Option(name: .shortAndLong, help: "The template ('swbpf templates' lists them).", completion: .list(Template.all.map(\.id)))
    var template = "minimal"

    @Option(help: "The app name (default: the directory's name). It must be a C identifier.")
    var name: String?

    @Option(help: "The language of the user-space part: c or swift ('swbpf templates' says which templates have which).")
    var lang: SourceLanguage = .c

    func validate() throws { try refuseProjectDirectory(root, command: "new", instead: "give the new directory's path: swbpf new DIR") }

    func run() async throws {
        await runReportingErrors {
            let appName = name ?? FileSystem.split(FileSystem.normalize(directory)).base
            let files = try Scaffolder.newProject(directory: directory, template: try Template.named(template), name: appName, language: lang)
            for file in files { TextOutput.standardOutput.write("  CREATE   \(FileSystem.join(directory, file).escapedForDisplay())\n") }
            TextOutput.standardOutput.write("\nNext: cd \(Shell.quote(directory).escapedForDisplay()) && swbpf build && sudo ./\(appName)\n")
            return 0
        }
    }
}

struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write the swbpf.toml that builds what the project's Makefile builds.",
        discussion: "Runs make once (make -pnR -f FILE [NAME=VALUE...], no recipe), reads its database, and writes swbpf.toml with each setting's Makefile line. The Makefile's $(shell ...) calls run, as they do for make -n.")

    @OptionGroup var project: ProjectOptions

    @Option(help: ArgumentHelp("The Makefile to learn from (default: GNUmakefile, makefile or Makefile, as make looks).", valueName: "FILE"))
    var fromMakefile: String?

    @ArgumentParser.Argument(help: ArgumentHelp("Variables for make, as you give them to make (CARGO= USE_BLAZESYM=0).", valueName: "NAME=VALUE"))
    var variables: [String] = []

    func run() async throws {
        await runReportingErrors {
            let outcome = try await MakefileInit.run(directory: project.directory, makefile: fromMakefile, variables: variables, environment: currentEnvironment())
            let output = TextOutput.standardOutput
            output.write("swbpf init: asked make: \(outcome.command.escapedForDisplay())\n")
            output.write("learned:\n")
            for line in outcome.learned.learned { output.write("  \(line.escapedForDisplay())\n") }
            if !outcome.learned.notUnderstood.isEmpty {
                output.write("not understood (left out of swbpf.toml):\n")
                for line in outcome.learned.notUnderstood { output.write("  \(line.escapedForDisplay())\n") }
            }
            output.write("  CREATE   \(FileSystem.join(project.directory, ProjectConfig.fileName).escapedForDisplay()) (\(outcome.learned.settings.count) settings)\n")
            output.write("\nNext: swbpf build   (builds \(outcome.learned.products.joined(separator: " ")))\n")
            return 0
        }
    }
}

struct Add: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add an app to an existing project from a template.")

    @OptionGroup var project: ProjectOptions

    @ArgumentParser.Argument(help: "The new app's name (a C identifier).")
    var name: String

    @Option(name: .shortAndLong, help: "The template ('swbpf templates' lists them).", completion: .list(Template.all.map(\.id)))
    var template = "minimal"

    @Flag(help: "Overwrite existing files.")
    var force = false

    @Option(help: "The language of the user-space part: c or swift.")
    var lang: SourceLanguage = .c

    func run() async throws {
        await runReportingErrors {
            let added = try Scaffolder.addApp(directory: project.directory, template: try Template.named(template), name: name, force: force,
                                              language: lang)
            for file in added.written { TextOutput.standardOutput.write("  CREATE   \(FileSystem.join(project.directory, file).escapedForDisplay())\n") }
            for file in added.keptHelpers {
                let path = FileSystem.join(project.directory, file).escapedForDisplay()
                TextOutput.standardOutput.write("note: kept \(path), which differs from this swbpf's copy; \(name) is built with yours (for swbpf's, move it aside and run this swbpf add again with --force)\n")
            }
            return 0
        }
    }
}

struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Show the shared build cache (where, how big, hit rate), or trim or clear it.",
        discussion: "SWBPF_CACHE_DIR moves it (default: $XDG_CACHE_HOME/swbpf, else ~/.cache/swbpf); SWBPF_CACHE_MAX_SIZE bounds it.")

    enum Action: String, ExpressibleByArgument, CaseIterable {
        case show, trim, clear
    }

    @OptionGroup var project: ProjectOptions

    @ArgumentParser.Argument(help: "show (default), trim (to the size limit, least recently used first) or clear (remove everything).")
    var action: Action = .show

    func run() throws {
        do {
            let target = try CacheReport.target(environment: currentEnvironment(), projectDirectory: project.directory)
            switch action {
            case .show:
                TextOutput.standardOutput.write(CacheReport.summary(target))
            case .trim, .clear:
                let store = try LocalCacheStore.open(target.directory, create: false)
                let removed = (action == .trim ? store?.trim(to: target.sizeLimit / 10 * 9) : store?.clear()) ?? LocalCacheStore.Removal()
                if let note = removed.foreignNote { printDiagnostic(Diagnostic(.note, note)) }
                TextOutput.standardOutput.write("swbpf: removed \(removed.files) files (\(CacheReport.format(bytes: removed.bytes))) from \(target.directory)\n".escapedForDisplay(multiline: true))
            }
        } catch {
            printDiagnostic(Diagnostic(of: error))
            throw ExitCode(1)
        }
    }
}

struct Templates: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates", abstract: "List the project templates.")

    @ParentCommand var root: SwbpfCommand

    func validate() throws { try refuseProjectDirectory(root, command: "templates", instead: "leave -C out: the templates are built into swbpf") }

    func run() throws {
        let templates = Template.all
        let width = (templates.map(\.id.count).max() ?? 0) + 2
        for template in templates {
            TextOutput.standardOutput.write(template.id.padded(to: width) + template.description + "\n")
            TextOutput.standardOutput.write(String(repeating: " ", count: width) + "needs: " + template.feature + "\n")
            let languages = SourceLanguage.allCases.filter(template.has).map { $0 == .c ? "C" : "Swift (--lang swift)" }
            TextOutput.standardOutput.write(String(repeating: " ", count: width) + "user space in: " + languages.joined(separator: ", ") + "\n")
        }
    }
}

extension SourceLanguage: ExpressibleByArgument {}
extension ColorChoice: ExpressibleByArgument {}

/// A `-C` before a command that opens no project would be silently ignored: refuse it instead.
func refuseProjectDirectory(_ root: SwbpfCommand, command: String, instead: String) throws {
    if root.project.directory != "." {
        throw ValidationError("-C \(root.project.directory): 'swbpf \(command)' does not open a project; \(instead)")
    }
}

/// The human view of a build (on stderr in JSON mode, beside the JSON events on stdout).
func consoleReporter(for request: BuildRequest, json: Bool) -> BuildReporter {
    let console = consoleReporter(for: request, human: json ? .standardError : .standardOutput)
    return json ? ReporterGroup([console, JSONReporter()]) : console
}

/// Runs a command body that Ctrl-C, SIGTERM and SIGHUP cancel; an error becomes a diagnostic on
/// standard error and exit status 1, a signal its conventional status.
func runReportingErrors(_ body: @escaping @Sendable () async throws -> Int32) async {
    let interruptible = await Interrupts.run { () -> Result<Int32, Error> in
        do { return .success(try await body()) } catch { return .failure(error) }
    }
    let result: Result<Int32, Error>
    switch interruptible {
    case .failure(let interruption): exit(interruption.exitStatus)
    case .success(let finished): result = finished
    }
    switch result {
    case .success(let status): if status != 0 { exit(status) }
    case .failure(let error):
        printDiagnostic(Diagnostic(of: error))
        exit(1)
    }
}

/// A diagnostic on standard error, for commands that have no build reporter.
func printDiagnostic(_ diagnostic: Diagnostic) {
    TextOutput.standardError.write(diagnostic.rendered.escapedForDisplay(multiline: true) + "\n")
}

func currentEnvironment() -> [String: String] {
    var count = 0
    while environ[count] != nil { count += 1 }
    // Sized once and split at the first `=` byte: every build, a no-op too, starts here.
    var environment: [String: String] = Dictionary(minimumCapacity: count)
    for entry in UnsafeBufferPointer(start: environ, count: count) {
        guard let entry, let equals = strchr(entry, 0x3D) else { continue }
        let name = UnsafeRawBufferPointer(start: entry, count: equals - entry)
        environment[String(decoding: name, as: UTF8.self)] = String(cString: equals + 1)
    }
    return environment
}

func defaultJobs() -> Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

extension BuildOptions {
    /// The request these options make, with `words` (app names and make-style `NAME=VALUE` knobs):
    /// shared by `build` and `install`.
    func invocation(directory: String, words: [String], environment: [String: String]) -> BuildInvocation {
        let bounded = BuildWords.jobs(jobs)
        var request = BuildRequest(directory: directory, jobs: bounded.count, environment: environment)
        for word in words {
            if let knob = BuildWords.knob(word) { request.environment[knob.name] = knob.value } else { request.apps.append(word) }
        }
        request.keepGoing = keepGoing
        request.dryRun = dryRun
        request.verbose = verbose
        request.explain = explain
        request.quiet = quiet
        request.alwaysRun = alwaysMake
        request.color = color
        request.lockTimeoutSeconds = lockTimeout
        request.timings = timings
        request.traceFile = trace
        request.compileCommands = compdb
        request.noCache = noCache
        request.target = TargetOptions(arch: arch, staticLink: staticLink)
        return BuildInvocation(request: request, json: format == .json, notes: bounded.note.map { [$0] } ?? [])
    }
}
