import ArgumentParser
import SwbpfCore
#if canImport(Glibc)
import Glibc
#endif

/// Options every command that opens a project shares.
struct ProjectOptions: ParsableArguments {
    @Option(name: .customShort("C"), help: ArgumentHelp("Run in DIR (the project directory).", valueName: "DIR"))
    var directory: String = "."
}

struct BuildOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Run up to N steps at once (default: the number of cores).")
    var jobs: Int?

    @Flag(name: .customShort("k"), help: "Keep going after a failure: build every app that does not depend on it.")
    var keepGoing = false

    @Flag(name: [.customShort("n"), .customLong("dry-run")], help: "Print the commands that would run, and run nothing.")
    var dryRun = false

    @Flag(name: .shortAndLong, help: "Print each step's exact command (as V=1 does).")
    var verbose = false

    @Flag(help: "Say why each step runs.")
    var explain = false

    @Option(help: "Give up waiting for another build of the project after SECONDS.")
    var lockTimeout = 600
}

@main
struct Swbpf: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swbpf",
        abstract: "Build eBPF programs written with libbpf and CO-RE.",
        discussion: "A project is a directory of apps: each NAME.bpf.c (kernel part) with a NAME.c (user part) beside it.",
        subcommands: [Build.self],
        defaultSubcommand: Build.self
    )
}

struct Build: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Build apps: vmlinux.h, BPF objects, skeletons, binaries.")

    @OptionGroup var project: ProjectOptions
    @OptionGroup var options: BuildOptions

    @Argument(help: "Apps to build (default: every app in the project).")
    var apps: [String] = []

    func run() async throws {
        let environment = currentEnvironment()
        var request = BuildRequest(directory: project.directory, jobs: options.jobs ?? defaultJobs(), environment: environment)
        request.apps = apps
        request.keepGoing = options.keepGoing
        request.dryRun = options.dryRun
        request.verbose = options.verbose || environment["V"] == "1"
        request.explain = options.explain
        request.lockTimeoutSeconds = options.lockTimeout
        let reporter = ConsoleReporter(options: .init(verbose: request.verbose, explain: request.explain,
                                                      decorated: TextOutput.standardOutput.supportsColor))
        try await runReportingErrors(request, reporter: reporter)
    }
}

func runReportingErrors(_ request: BuildRequest, reporter: BuildReporter) async throws {
    let (result, signal) = await Interrupts.run { () -> Result<Int32, Error> in
        do { return .success(try await BuildSession.run(request, reporter: reporter)) } catch { return .failure(error) }
    }
    if let signal { exit(Interrupts.exitStatus(for: signal)) }
    switch result {
    case .success(let status): if status != 0 { exit(status) }
    case .failure(let error as SwbpfError):
        TextOutput.standardError.write(error.description + "\n")
        exit(1)
    case .failure(let error):
        TextOutput.standardError.write("error: \(error)\n")
        exit(1)
    }
}

func currentEnvironment() -> [String: String] {
    var environment: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let equals = text.firstIndex(of: "=") {
            environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        pointer += 1
    }
    return environment
}

func defaultJobs() -> Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
