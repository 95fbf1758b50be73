import FoundationEssentials
import SwbpfBasics
import SwbpfDriver
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

    static func refuseMisspelledCommand(_ arguments: [String]) {
        guard let (word, command) = misspelledCommand(arguments) else { return }
        printDiagnostic(Diagnostic(.error, "'\(word)' is not a swbpf command, nor an app of this project",
                                   help: "did you mean 'swbpf \(command)'? ('swbpf help' lists the commands)"))
        exit(64)
    }
}
