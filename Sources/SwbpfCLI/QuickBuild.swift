import Dispatch
import FoundationEssentials
import SwbpfCore
#if canImport(Glibc)
import Glibc
#endif

/// The command line of a plain build (`swbpf`, `swbpf build -j 2 app`), read without
/// swift-argument-parser.
///
/// Every no-op build pays for start-up, and argument-parser's reflection over the whole command
/// tree costs about 4 ms, as much as make's entire no-op. This accepts only the common build flags,
/// in their simplest spellings; anything else (help, other commands, other options, a malformed
/// value) returns nil and goes to argument-parser, which gives the full behaviour and errors.
/// A test checks that both readers agree on every argv this one accepts.
public enum QuickBuild {
    public static func request(_ arguments: [String], environment: [String: String]) -> BuildRequest? {
        var words = arguments[...]
        let explicitBuild = words.first == "build"
        if explicitBuild { words = words.dropFirst() }
        var request = BuildRequest(directory: ".", jobs: 0, environment: environment)
        var jobs: Int?
        while let word = words.popFirst() {
            switch word {
            case "-C":
                guard let value = words.popFirst(), !value.hasPrefix("-") else { return nil }
                request.directory = value
            case "-j", "--jobs":
                guard let value = words.popFirst(), let count = Int(value) else { return nil }
                jobs = count
            case "-k": request.keepGoing = true
            case "-n", "--dry-run": request.dryRun = true
            case "-v", "--verbose": request.verbose = true
            case "--explain": request.explain = true
            case "--no-cache": request.noCache = true
            default:
                if word.hasPrefix("-j"), let count = Int(word.dropFirst(2)) { jobs = count; continue }
                // An app name. Anything that looks like an option is not ours, nor, without an
                // explicit `build`, a word argument-parser could take for a command.
                guard !word.hasPrefix("-"), explicitBuild || !subcommands.contains(word) else { return nil }
                request.apps.append(word)
            }
        }
        request.jobs = jobs ?? defaultJobs()
        return request
    }

    /// Words argument-parser would take as a subcommand when they come first.
    static let subcommands: Set<String> = ["build", "explain", "compdb", "clean", "new", "add", "templates", "help"]
}

/// The CLI entry point: a plain build takes the quick path (and, when nothing is out of date,
/// finishes before the concurrency runtime starts); everything else goes to argument-parser.
public enum CLI {
    public static func start() -> Never {
        // Before anything else, so that no SIGINT, SIGTERM or SIGHUP is lost.
        Interrupts.installEarly()
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let request = QuickBuild.request(arguments, environment: currentEnvironment()) {
            let (prepared, begin) = prepareBuild(request, json: false)
            runAsync { await finishBuild(prepared, since: begin) }
        }
        runAsync { await SwbpfCommand.main() }
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
