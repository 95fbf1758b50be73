import ArgumentParser
import FoundationEssentials
import SwbpfBasics
import SwbpfDriver

/// `swbpf install [--prefix DIR] [APP...]`: builds, then installs the binaries and their aliases
/// into `$DESTDIR$PREFIX/bin`, as libbpf-tools' `make install` does.
struct Install: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Build, then install the apps' binaries and aliases into $DESTDIR<prefix>/bin.",
        discussion: "DESTDIR (from the environment or a DESTDIR=DIR argument) is prepended to the prefix, as with make install; aliases are installed as symbolic links.")

    @OptionGroup var project: ProjectOptions
    @OptionGroup var options: BuildOptions

    @Option(help: ArgumentHelp("Install under DIR (default: PREFIX or prefix from the environment, else /usr/local).", valueName: "DIR"))
    var prefix: String?

    @ArgumentParser.Argument(help: ArgumentHelp("Apps to install (default: every app the build builds), and make-style knobs NAME=VALUE.",
                                                valueName: "app-or-knob"))
    var apps: [String] = []

    func run() async throws {
        let invocation = options.invocation(directory: project.directory, words: apps, environment: currentEnvironment())
        invocation.printNotes()
        let request = invocation.request
        let environment = request.environment
        let prefix = self.prefix ?? environment["PREFIX"] ?? environment["prefix"] ?? "/usr/local"
        let build = settled(request)
        await runReportingErrors {
            let (status, built) = await BuildSession.build(build, console: consoleReporter(for: build, json: false))
            guard status == 0, let built else { return status }
            for file in try Installer.install(built, prefix: prefix, destdir: environment["DESTDIR"]) {
                TextOutput.standardOutput.write("  " + file.label.padded(to: 8) + " " + file.path + "\n")
            }
            return 0
        }
    }
}
