import ArgumentParser
import FoundationEssentials
import SwbpfCore

/// `swbpf install [--prefix DIR] [APP...]`: builds, then installs the binaries and their aliases
/// into `$DESTDIR$PREFIX/bin`.
struct Install: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Build, then install the apps' binaries and aliases into $DESTDIR<prefix>/bin.",
        discussion: "DESTDIR (in the environment) is prepended to the prefix, as with make install; aliases are installed as symbolic links.")

    @OptionGroup var project: ProjectOptions
    @OptionGroup var options: BuildOptions

    @Option(help: ArgumentHelp("Install under DIR (default: $PREFIX, else /usr/local).", valueName: "DIR"))
    var prefix: String?

    @ArgumentParser.Argument(help: "Apps to install (default: every app the build builds).")
    var apps: [String] = []

    func run() async throws {
        let environment = currentEnvironment()
        var request = BuildRequest(directory: project.directory, jobs: options.jobs ?? defaultJobs(), environment: environment)
        request.apps = apps
        request.keepGoing = options.keepGoing
        request.verbose = options.verbose
        request.explain = options.explain
        request.lockTimeoutSeconds = options.lockTimeout
        let console = consoleReporter(for: request, json: false)
        let prefix = self.prefix ?? environment["PREFIX"] ?? environment["prefix"] ?? "/usr/local"
        await runReportingErrors {
            let begin = Date()
            let prepared = try BuildSession.prepare(request, console: console)
            var status = BuildSession.finishWithoutRunning(prepared, since: begin)
            if status == nil { status = await BuildSession.run(prepared, since: begin) }
            guard status == 0 else { return status ?? 1 }
            for file in try Installer.install(prepared, prefix: prefix, destdir: environment["DESTDIR"]) {
                TextOutput.standardOutput.write("  " + file.label.padded(to: 8) + " " + file.path + "\n")
            }
            return 0
        }
    }
}
