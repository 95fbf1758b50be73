import Dispatch
import FoundationEssentials
import SwbpfBasics
import SwbpfDriver
#if canImport(Glibc)
import Glibc
#endif

/// What a build command line asks for. Both readers produce it: argument-parser's `Build`, the one
/// definition of the command line, and `QuickBuild`, which a test checks against it.
public struct BuildInvocation {
    public var request: BuildRequest
    public var json = false
    /// Notes on the command line itself (a -j too large), printed before the build starts.
    public var notes: [String] = []

    func printNotes() {
        for note in notes { TextOutput.standardError.write(note + "\n") }
    }
}

/// The rules for the words of a build command line that both readers apply the same way.
enum BuildWords {
    /// More steps at once than this gains nothing and risks exhausting memory or processes.
    static let maximumJobs = 1024

    /// The number of steps to run at once for `-j requested`, and a note when it was clamped.
    /// Counts below 1 are refused before this (`BuildOptions.validate`).
    static func jobs(_ requested: Int?) -> (count: Int, note: String?) {
        guard let requested else { return (min(defaultJobs(), maximumJobs), nil) }
        if requested <= maximumJobs { return (requested, nil) }
        return (maximumJobs, "note: -j \(requested) is more than swbpf runs at once; running \(maximumJobs) steps at once")
    }

    /// A make-style `NAME=VALUE` word: a knob that overrides the environment's value for this
    /// build (`V=1`, `CFLAGS=-O1`). NAME is a shell variable name, so an app name (a C identifier,
    /// no `=`) is never one.
    static func knob(_ word: String) -> (name: String, value: String)? {
        guard let equals = word.firstIndex(of: "=") else { return nil }
        let name = word[..<equals]
        guard let first = name.utf8.first, !(48...57).contains(first),
              name.utf8.allSatisfy({ $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) })
        else { return nil }
        return (String(name), String(word[word.index(after: equals)...]))
    }
}

/// The command line of a plain build (`swbpf`, `swbpf -C dir build -j 2 app V=1`), read without
/// swift-argument-parser.
///
/// Every no-op build pays for start-up, and argument-parser's reflection over the command tree
/// costs about 2.5 ms of a static release build's no-op (measured: 3.5 ms with this reader, 6 ms
/// without), as much as make's entire no-op. This accepts only the common build options,
/// in their common spellings; anything else (help, other commands, other options, a malformed or
/// refused value) returns nil and goes to argument-parser, which gives the full behaviour and the
/// errors. QuickBuildTests walks argument-parser's description of `Build` and checks, for every
/// option in every spelling, that this either agrees with it exactly or declines.
public enum QuickBuild {
    public static func invocation(_ arguments: [String], environment: [String: String]) -> BuildInvocation? {
        var words = arguments[...]
        var request = BuildRequest(directory: ".", jobs: 0, environment: environment)
        // A -C before the command counts as one after it; the last one wins.
        while words.first == "-C" {
            words = words.dropFirst()
            guard let value = words.popFirst(), !value.hasPrefix("-") else { return nil }
            request.directory = value
        }
        let explicitBuild = words.first == "build"
        if explicitBuild { words = words.dropFirst() }
        var jobs: Int?
        while let word = words.popFirst() {
            switch word {
            case "-C":
                guard let value = words.popFirst(), !value.hasPrefix("-") else { return nil }
                request.directory = value
            case "-j", "--jobs":
                guard let value = words.popFirst(), let count = Int(value), count >= 1 else { return nil }
                jobs = count
            case "-k": request.keepGoing = true
            case "-n", "--dry-run": request.dryRun = true
            case "-v", "--verbose": request.verbose = true
            case "--explain": request.explain = true
            case "--no-cache": request.noCache = true
            case "-q", "--quiet": request.quiet = true
            case "-B", "--always-make": request.alwaysRun = true
            case "--color":
                guard let value = words.popFirst(), let choice = ColorChoice(rawValue: value) else { return nil }
                request.color = choice
            default:
                if word.hasPrefix("--color=") {
                    guard let choice = ColorChoice(rawValue: String(word.dropFirst(8))) else { return nil }
                    request.color = choice
                    continue
                }
                if word.hasPrefix("-j") || word.hasPrefix("--jobs=") {
                    guard let count = Int(word.dropFirst(word.hasPrefix("-j") ? 2 : 7)), count >= 1 else { return nil }
                    jobs = count
                    continue
                }
                // An app name or a knob. Anything that looks like an option is not ours, nor,
                // without an explicit `build`, a word argument-parser could take for a command.
                guard !word.hasPrefix("-"), explicitBuild || !subcommands.contains(word) else { return nil }
                if let knob = BuildWords.knob(word) {
                    request.environment[knob.name] = knob.value
                } else {
                    request.apps.append(word)
                }
            }
        }
        // Refused by argument-parser (`BuildOptions.validate`), which says why.
        if request.quiet && request.verbose { return nil }
        let resolved = BuildWords.jobs(jobs)
        request.jobs = resolved.count
        return BuildInvocation(request: request, notes: resolved.note.map { [$0] } ?? [])
    }

    /// Words argument-parser would take as a subcommand when they come first: swbpf's commands
    /// (from their definitions) and its own `help`.
    static let subcommands = Set(SwbpfCommand.configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"])
}

/// The CLI entry point: a plain build takes the quick path (and, when nothing is out of date,
/// finishes before the concurrency runtime starts); everything else goes to argument-parser.
public enum CLI {
    public static func start() -> Never {
        // Before anything else, so that no SIGINT, SIGTERM or SIGHUP is lost.
        Interrupts.installEarly()
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments == ["--version"] || arguments == ["-V"] { runAsync { exit(await Conventions.printVersion()) } }
        Conventions.refuseMisspelledCommand(arguments)
        if var invocation = QuickBuild.invocation(arguments, environment: currentEnvironment()) {
            invocation.printNotes()
            invocation.request.noopKey = NoopFastPath.key(arguments: arguments, workingDirectory: FileSystem.currentDirectory())
            if NoopFastPath.finish(invocation.request, console: consoleReporter(for: invocation.request, json: false), since: Date()) {
                exit(0)
            }
            let build = startBuild(invocation.request, json: false)
            runAsync { await finishBuild(build) }
        }
        runAsync { await Conventions.main(arguments) }
    }

    /// Runs `body` on the concurrency runtime and exits when it returns.
    static func runAsync(_ body: @escaping @Sendable () async -> Void) -> Never {
        Task {
            await body()
            exit(0)
        }
        dispatchMain()
    }
}
