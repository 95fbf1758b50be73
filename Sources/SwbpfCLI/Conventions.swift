import ArgumentParser
import FoundationEssentials
import SwbpfBasics
import SwbpfDriver
import SwbpfModel
#if canImport(Glibc)
import Glibc
#endif

/// What every command-line tool answers before it looks at a project: `--version`, and a
/// misspelled command.
enum Conventions {
    /// swbpf's release; the commit comes from the build (`BuildCommit`, nil from a tarball).
    static let version = "0.1.0"

    /// `swbpf --version` / `-V`: swbpf's version and commit, then the clang, bpftool and libbpf a
    /// build here would use (the project's choices in a project), each as doctor finds it.
    static func printVersion() async -> Int32 {
        let commit = BuildCommit.hash.map { "commit \($0)" } ?? "built without git metadata (from a tarball)"
        var text = "swbpf \(version) (\(commit))\n"
        let tools = await SwbpfDriver.Doctor.buildTools(directory: ".", environment: currentEnvironment())
        for tool in tools {
            text += tool.ok ? tool.detail + "\n" : "\(tool.name): \(tool.detail)" + (tool.fix.map { "; fix: \($0)" } ?? "") + "\n"
        }
        TextOutput.standardOutput.write(text.escapedForDisplay(multiline: true))
        return 0
    }

    /// The command `word` most likely meant, when it is not one: within two edits of a command's
    /// name, and not the name of an app here (`swbpf biuld` must not build an app called biuld).
    static func misspelledCommand(_ arguments: [String]) -> (word: String, command: String)? {
        var words = arguments[...]
        var directory = "."
        while words.first == "-C", words.count >= 2 { directory = words[words.startIndex + 1]; words = words.dropFirst(2) }
        guard let word = words.first, !word.hasPrefix("-"), BuildWords.knob(word) == nil,
              !QuickBuild.subcommands.contains(word) else { return nil }
        let close = QuickBuild.subcommands.sorted().map { ($0, editDistance(word, $0)) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }
        guard let command = close?.0 else { return nil }
        // An app is a NAME.bpf.c in the project directory: then the word is the app's name.
        if FileSystem.exists(FileSystem.join(directory, word + ".bpf.c")) { return nil }
        return (word, command)
    }

    /// Levenshtein distance over characters: the fewest insertions, deletions and substitutions.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let b = Array(b)
        var row = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var diagonal = row[0]
            row[0] = i + 1
            for (j, y) in b.enumerated() {
                let above = row[j + 1]
                row[j + 1] = min(above + 1, row[j] + 1, diagonal + (x == y ? 0 : 1))
                diagonal = above
            }
        }
        return row[b.count]
    }

    /// The app `swbpf run` runs when none is named: the project's only one, as cargo run picks
    /// the only binary; with several, an error that lists them.
    static func onlyApp(directory: String) throws -> String {
        let apps = try OpenedProject.load(directory, environment: currentEnvironment()).apps.map(\.name)
        if apps.count == 1 { return apps[0] }
        throw AppChoiceError(apps: apps)
    }

    struct AppChoiceError: DiagnosticError {
        var apps: [String]
        var diagnostic: Diagnostic {
            Diagnostic(.error, "this project has \(apps.count) apps (\(apps.joined(separator: ", "))): which one should run?",
                       help: "name it: swbpf run APP [-- ARGS]")
        }
    }

    /// argument-parser's whole path (parse, run, its own exits for help and completions), with its
    /// usage errors in swbpf's style: `error:` then `help:` with the usage, still exit status 64.
    static func main(_ arguments: [String]) async {
        do {
            var command = try SwbpfCommand.parseAsRoot(arguments)
            if var asynchronous = command as? AsyncParsableCommand { try await asynchronous.run() } else { try command.run() }
        } catch {
            if SwbpfCommand.exitCode(for: error) == .validationFailure, let diagnostic = usageDiagnostic(for: error) {
                printDiagnostic(diagnostic)
                exit(ExitCode.validationFailure.rawValue)
            }
            SwbpfCommand.exit(withError: error)
        }
    }

    /// A usage error as a diagnostic: argument-parser's message, its note on the argument, its
    /// usage line and where the command's help is (from its `Error: ... Usage: ... See '...' for more information.`).
    static func usageDiagnostic(for error: Error) -> Diagnostic? {
        let message = SwbpfCommand.message(for: error).trimmed()
        guard !message.isEmpty else { return nil }
        let lines = SwbpfCommand.fullMessage(for: error).split(separator: "\n").map { $0.trimmed() }
        let argumentHelp = lines.first { $0.hasPrefix("Help:") }.map { $0.dropFirst("Help:".count).trimmed() }
        var usage = lines.drop { !$0.hasPrefix("Usage: ") }.prefix { !$0.hasPrefix("See '") }.joined(separator: " ")
        usage = usage.isEmpty ? "" : "usage: " + usage.dropFirst("Usage: ".count)
        let see = lines.first { $0.hasPrefix("See '") && $0.hasSuffix("' for more information.") }
            .map { "'" + $0.dropFirst(5).dropLast("' for more information.".count) + "' describes every option" }
        let help = [usage.isEmpty ? nil : usage, see].compactMap { $0 }.joined(separator: "; ")
        return Diagnostic(.error, message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message,
                          notes: argumentHelp.map { [$0] } ?? [], help: help.isEmpty ? nil : help)
    }

    /// Shell completion of app names: the apps of the project the command line names with -C, or
    /// of the one here (argument-parser's custom completion, asked at each Tab).
    @Sendable static func appNames(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        var directory = "."
        for (position, word) in words.enumerated() where word == "-C" && position + 1 < words.count && position + 1 != index {
            directory = words[position + 1]
        }
        let project = try? ProjectLoader.load(directory: FileSystem.absolute(directory, base: FileSystem.currentDirectory()))
        return (project?.apps.map(\.name) ?? []).filter { $0.hasPrefix(prefix) }
    }

    static func refuseMisspelledCommand(_ arguments: [String]) {
        guard let (word, command) = misspelledCommand(arguments) else { return }
        printDiagnostic(Diagnostic(.error, "'\(word)' is not a swbpf command, nor an app of this project",
                                   help: "did you mean 'swbpf \(command)'? ('swbpf help' lists the commands)"))
        exit(64)
    }
}
