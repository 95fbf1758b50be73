import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfBuild
@testable import SwbpfKernel
@testable import SwbpfViews
@testable import SwbpfScaffolding
@testable import SwbpfDriver
import SwbpfTestSupport
@testable import SwbpfCLI

/// argument-parser is the one definition of the command line. The quick reader of plain build
/// command lines is checked against it: for every option and flag argument-parser describes, in
/// every spelling, with values that matter, the quick reader produces exactly what argument-parser
/// produces, or declines and leaves the line to it.
// Serialized: argument-parser is not safe to call from several threads at once (parallel cases of
// these tests crashed in its validators, parsing in-process).
@Suite(.serialized) struct QuickBuildTests {
    static let environment = ["PATH": "/usr/bin", "CFLAGS": "-O2 -g"]

    /// What argument-parser makes of `arguments`: the build it asks for, or the error it prints.
    static func parsedByArgumentParser(_ arguments: [String]) -> Result<BuildInvocation, ParseFailure> {
        do {
            let command = try SwbpfCommand.parseAsRoot(arguments)
            guard let build = command as? Build else { return .failure(ParseFailure(message: "not a build: \(type(of: command))")) }
            return .success(build.invocation(environment: environment))
        } catch {
            return .failure(ParseFailure(message: SwbpfCommand.message(for: error)))
        }
    }

    struct ParseFailure: Error { var message: String }

    /// The fields in which two invocations differ, as "field: quick's value ≠ argument-parser's".
    static func differences(_ quick: BuildInvocation, _ full: BuildInvocation) -> [String] {
        let (a, b) = (fields(quick), fields(full))
        return Set(a.keys).union(b.keys).sorted().filter { a[$0] != b[$0] }.map { "\($0): \(a[$0] ?? "-") ≠ \(b[$0] ?? "-")" }
    }

    /// Every field of an invocation, the request's included, as text; dictionaries sorted. Read by
    /// reflection, so that a field added to either type is compared too.
    static func fields(_ value: Any, prefix: String = "") -> [String: String] {
        var fields: [String: String] = [:]
        for child in Mirror(reflecting: value).children {
            let name = prefix + (child.label ?? "?")
            if let dictionary = child.value as? [String: String] {
                fields[name] = String(reflecting: dictionary.sorted { $0.key < $1.key })
            } else if child.value is BuildRequest {
                fields.merge(Self.fields(child.value, prefix: name + ".")) { first, _ in first }
            } else {
                fields[name] = String(reflecting: child.value)
            }
        }
        return fields
    }

    // MARK: - argument-parser's own description of the command line

    /// The parts of `swbpf --experimental-dump-help` (argument-parser's description of every
    /// command, option and argument) that this test reads.
    struct Description: Decodable {
        struct Command: Decodable {
            var commandName: String
            var arguments: [Argument]?
            var subcommands: [Command]?
        }
        struct Argument: Decodable {
            struct Name: Decodable { var kind: String; var name: String }
            var kind: String
            var names: [Name]?
            var valueName: String?
            /// Its spellings, as the table of known options keys them: "-j --jobs" (short ones first).
            var spellings: String {
                (names ?? []).map { ($0.kind == "long" ? "--" : "-") + $0.name }
                    .sorted { ($0.hasPrefix("--") ? 1 : 0, $0) < ($1.hasPrefix("--") ? 1 : 0, $1) }.joined(separator: " ")
            }
        }
        var command: Command
    }

    static func describedCommands() throws -> (root: Description.Command, build: Description.Command) {
        let dump: String
        do {
            _ = try SwbpfCommand.parseAsRoot(["--experimental-dump-help"])
            throw ParseFailure(message: "--experimental-dump-help printed nothing")
        } catch {
            dump = SwbpfCommand.fullMessage(for: error)
        }
        let root = try JSONDecoder().decode(Description.self, from: Data(dump.utf8)).command
        let build = try #require(root.subcommands?.first { $0.commandName == "build" }, "no build command in \(dump)")
        return (root, build)
    }

    /// Every option and flag of `swbpf` (before the command) and of `swbpf build`, by its
    /// spellings, with the values to try (none for a flag). One that argument-parser describes and
    /// this table does not fails `everyOptionIsKnown`: add it here, with values that exercise it.
    static let buildOptions: [String: [String]] = [
        "-C": ["examples/kprobe", "/abs/project", "a dir", ".", "-v", ""],
        "-j --jobs": ["1", "3", "1024", "1025", "0", "-1", "99999999999", "9223372036854775807", "99999999999999999999", "many", "4x", "+2", " 2"],
        "-k": [], "-n --dry-run": [], "-v --verbose": [], "--explain": [], "--timings": [], "--compdb": [], "--watch": [], "--no-cache": [],
        "-q --quiet": [], "-B --always-make": [], "--color": ["auto", "always", "never", "sometimes", ""],
        "--lock-timeout": ["5", "-1", "x"],
        "--trace": ["t.json"],
        "--arch": ["arm64", "aarch64", "bogus", ""], "--static": [],
        "--format": ["human", "json", "xml"],
        "-h --help": [],
    ]
    static let rootOptions: Set<String> = ["-C", "-h --help"]
    /// Words to try where a positional argument goes: app names, knobs, and words that are neither.
    static let positionals = ["kprobe", "a_b", "build", "templates", "V=1", "CFLAGS=-O1 -g", "X=", "=x", "2X=y", "a-b=c", "help"]

    @Test func everyOptionIsKnown() throws {
        let (root, build) = try Self.describedCommands()
        let described = Set((build.arguments ?? []).filter { $0.kind != "positional" }.map(\.spellings))
        #expect(described.subtracting(Self.buildOptions.keys).isEmpty,
                "build options this test has not seen: \(described.subtracting(Self.buildOptions.keys).sorted()); add them to buildOptions, with values to try")
        #expect(Set(Self.buildOptions.keys).subtracting(described).isEmpty,
                "buildOptions names options build no longer has: \(Set(Self.buildOptions.keys).subtracting(described).sorted())")
        let rootDescribed = Set((root.arguments ?? []).filter { $0.kind != "positional" }.map(\.spellings))
        #expect(rootDescribed == Self.rootOptions, "options before the command: argument-parser has \(rootDescribed.sorted()), rootOptions \(Self.rootOptions.sorted())")
        #expect((build.arguments ?? []).filter { $0.kind == "positional" }.map(\.valueName) == ["app-or-knob"])
        // A first word that names a command is that command's, not an app to build.
        let commands = Set((root.subcommands ?? []).map(\.commandName) + ["help"])
        #expect(QuickBuild.subcommands == commands, "QuickBuild.subcommands must be swbpf's commands: \(commands.sorted())")
    }

    /// The argvs to try: every spelling of every option with each of its values (`-j 4`, `-j4`,
    /// `--jobs 4`, `--jobs=4`, and the value missing), alone and beside an app name, a knob or a
    /// command word, with and without `build` and a `-C` before it; combined short flags; every
    /// pair of options; every pair of positional words. (Each line argument-parser reads costs it
    /// about 15 ms in a debug build, so the contexts rotate rather than multiply.)
    static func argumentLists() throws -> [[String]] {
        let (root, build) = try describedCommands()
        func uses(of argument: Description.Argument) -> [[String]] {
            let values = buildOptions[argument.spellings] ?? []
            var uses: [[String]] = []
            for name in argument.spellings.split(separator: " ").map(String.init) {
                uses.append([name])
                for value in values {
                    uses.append([name, value])
                    uses.append([name.hasPrefix("--") ? name + "=" + value : name + value])
                }
            }
            return uses
        }
        let options = (build.arguments ?? []).filter { $0.kind != "positional" }
        let rootUses = (root.arguments ?? []).filter { $0.kind != "positional" }.flatMap(uses)
        let shortFlags = options.filter { $0.kind == "flag" }.flatMap { $0.names ?? [] }.filter { $0.kind == "short" }.map(\.name)
        let positionals = Self.positionals + (root.subcommands ?? []).map(\.commandName)
        var lists: [[String]] = [[]]
        for (index, use) in options.flatMap(uses).enumerated() {
            for (offset, command) in [[], ["build"], ["-C", "d", "build"], ["-C", "d"]].enumerated() {
                let word = positionals[(index + offset) % positionals.count]
                lists += [command + use, command + [word] + use, command + use + [word]]
            }
        }
        for use in rootUses {
            for rest in [[], ["build"], ["build", "kprobe"], ["kprobe"], ["explain"], ["templates"], ["-C", "e", "build"], ["build", "-C", "e"]] {
                lists.append(use + rest)
            }
        }
        for first in shortFlags { for second in shortFlags { lists.append(["-" + first + second]) } }
        let firstUses = options.map { uses(of: $0)[min(1, uses(of: $0).count - 1)] }
        for first in firstUses { for second in firstUses { lists.append(["build"] + first + second) } }
        for first in positionals { for second in positionals { lists.append([first, second]) } }
        var seen: Set<[String]> = []
        return lists.filter { seen.insert($0).inserted }
    }

    @Test func quickReaderAgreesWithArgumentParserOrDeclines() throws {
        let lists = try Self.argumentLists()
        var accepted = 0
        for arguments in lists {
            guard let quick = QuickBuild.invocation(arguments, environment: Self.environment) else { continue }
            accepted += 1
            switch Self.parsedByArgumentParser(arguments) {
            case .success(let full):
                let differences = Self.differences(quick, full)
                #expect(differences.isEmpty, "the readers differ on \(arguments): \(differences.joined(separator: "; "))")
            case .failure(let failure):
                Issue.record("the quick reader accepts \(arguments), argument-parser refuses it: \(failure.message)")
            }
        }
        // Not a vacuous pass: the quick reader takes a good share of what was tried.
        #expect(lists.count > 1000 && accepted > 300, "tried \(lists.count) argvs, the quick reader took \(accepted)")
    }

    // MARK: - What the quick reader must take (the common builds), and what it must leave

    static let accepted: [[String]] = [
        [], ["build"], ["kprobe"], ["build", "kprobe", "minimal"], ["-j", "3"], ["-j4"], ["--jobs", "1"], ["--jobs=2"],
        ["build", "-C", "examples/kprobe", "-v", "kprobe"], ["-k", "-n", "--explain"], ["--dry-run", "--verbose", "a-b"],
        ["build", "-j", "2", "-k", "app", "-v"], ["build", "build"], ["-C", "dir", "build", "-v"], ["-C", "dir"],
        ["V=1"], ["build", "kprobe", "V=1", "CFLAGS=-O1 -g"], ["-j", "99999999999"], ["--no-cache", "app"],
        ["-q"], ["build", "--quiet", "app"], ["-B"], ["--always-make", "-j2"], ["--color", "never"], ["--color=always", "app"],
    ]

    @Test(arguments: accepted)
    func takesTheCommonBuilds(_ arguments: [String]) throws {
        let quick = try #require(QuickBuild.invocation(arguments, environment: Self.environment), "quick path refused \(arguments)")
        let full = try Self.parsedByArgumentParser(arguments).get()
        #expect(Self.differences(quick, full).isEmpty, "\(Self.differences(quick, full))")
    }

    static let declined: [[String]] = [
        ["--help"], ["-h"], ["explain"], ["explain", "kprobe"], ["clean"], ["new", "x"], ["templates"], ["help"],
        ["--timings"], ["--trace", "t.json"], ["--format", "json"], ["-j", "many"], ["-j"], ["-C"], ["-kv"],
        ["--compdb"], ["--lock-timeout", "5"], ["-C", "-v"], ["-v", "clean"], ["kprobe", "templates"],
        ["-j", "0"], ["-j", "-2"], ["--jobs=0"], ["-C", "d", "explain"],
        ["-q", "-v"], ["--color", "blue"], ["--color"], ["-qB"],
    ]

    @Test(arguments: declined)
    func leavesTheRestToArgumentParser(_ arguments: [String]) {
        #expect(QuickBuild.invocation(arguments, environment: Self.environment) == nil)
    }

    // MARK: - -j bounds, knobs, and options before the command, through both readers

    @Test(arguments: [["-j", "0"], ["-j", "-1"], ["--jobs=0"], ["--jobs", "-9223372036854775807"], ["-j-4"]])
    func refusesJobCountsBelowOne(_ arguments: [String]) throws {
        #expect(QuickBuild.invocation(arguments, environment: Self.environment) == nil)
        guard case .failure(let failure) = Self.parsedByArgumentParser(arguments) else {
            Issue.record("argument-parser accepted \(arguments)")
            return
        }
        #expect(failure.message.contains("swbpf needs to run at least 1 step at a time; give -j 1 or more"), "\(failure.message)")
    }

    @Test(arguments: [(["-j", "9223372036854775807"], "9223372036854775807"), (["--jobs=99999999999"], "99999999999"),
                      (["build", "-j1025"], "1025")])
    func clampsJobCountsAboveTheMaximum(_ arguments: [String], given: String) throws {
        for invocation in [try #require(QuickBuild.invocation(arguments, environment: Self.environment)),
                           try Self.parsedByArgumentParser(arguments).get()] {
            #expect(invocation.request.jobs == BuildWords.maximumJobs)
            #expect(invocation.notes == ["note: -j \(given) is more than swbpf runs at once; running 1024 steps at once"])
        }
        let atMaximum = try #require(QuickBuild.invocation(["-j", "1024"], environment: Self.environment))
        #expect(atMaximum.request.jobs == 1024 && atMaximum.notes.isEmpty)
    }

    @Test func makeStyleKnobsOverrideTheEnvironment() throws {
        let arguments = ["build", "V=1", "kprobe", "CFLAGS=-O1 -Wextra", "LIBBPF_OBJ=", "minimal", "V=0"]
        for invocation in [try #require(QuickBuild.invocation(arguments, environment: Self.environment)),
                           try Self.parsedByArgumentParser(arguments).get()] {
            #expect(invocation.request.apps == ["kprobe", "minimal"])
            #expect(invocation.request.environment == ["PATH": "/usr/bin", "CFLAGS": "-O1 -Wextra", "LIBBPF_OBJ": "", "V": "0"])
        }
        // Words with '=' that are not NAME=VALUE stay app names (and fail as unknown apps later).
        let odd = try #require(QuickBuild.invocation(["=x", "2X=y", "a-b=c"], environment: Self.environment))
        #expect(odd.request.apps == ["=x", "2X=y", "a-b=c"] && odd.request.environment == Self.environment)
    }

    @Test func projectDirectoryMayComeBeforeTheCommand() throws {
        for arguments in [["-C", "dir", "build", "-v"], ["build", "-C", "dir", "-v"], ["-C", "dir", "-v"]] {
            let quick = try #require(QuickBuild.invocation(arguments, environment: Self.environment), "\(arguments)")
            #expect(quick.request.directory == "dir" && quick.request.verbose)
            #expect(Self.differences(quick, try Self.parsedByArgumentParser(arguments).get()).isEmpty, "\(arguments)")
        }
        // The other commands that open a project read it the same way.
        let explain = try #require(try SwbpfCommand.parseAsRoot(["-C", "dir", "explain", "kprobe"]) as? Explain)
        #expect(explain.project.directory == "dir" && explain.app == "kprobe")
        #expect(try #require(try SwbpfCommand.parseAsRoot(["-C", "dir", "compdb"]) as? Compdb).project.directory == "dir")
        #expect(try #require(try SwbpfCommand.parseAsRoot(["-C", "dir", "clean", "a"]) as? Clean).project.directory == "dir")
        #expect(try #require(try SwbpfCommand.parseAsRoot(["-C", "dir", "add", "b"]) as? Add).project.directory == "dir")
        // Those that open none say so rather than ignore it.
        for (arguments, command) in [(["-C", "dir", "new", "x"], "new"), (["-C", "dir", "templates"], "templates")] {
            #expect(throws: (any Error).self) { try SwbpfCommand.parseAsRoot(arguments) }
            guard case .failure(let failure) = Self.parsedByArgumentParser(arguments) else { continue }
            #expect(failure.message.contains("-C dir: 'swbpf \(command)' does not open a project"), "\(failure.message)")
        }
    }

    /// The real binary: `swbpf -C DIR build V=1 CFLAGS=-O1` builds DIR from elsewhere and prints the
    /// commands, with the knob's flags; then the same through argument-parser (`--lock-timeout`
    /// is not the quick path's) with other CFLAGS rebuilds the user-space object, quietly.
    @Test func realBinaryTakesDirectoryBeforeBuildAndKnobs() throws {
        let project = try TemporaryProject(copying: "examples/minimal")
        let quick = try Swbpf.run(["-C", project.path, "build", "V=1", "CFLAGS=-O1 -g"], in: "/")
        #expect(quick.status == 0, "\(quick.output)")
        let compile = quick.stdout.split(separator: "\n").first { $0.hasPrefix("cc ") && $0.contains(" -c ") }
        #expect(compile?.contains("cc -O1 -g -ffile-prefix-map=\(project.path)=. -I.output -c minimal.c") == true, "\(quick.stdout)")
        #expect(FileManager.default.isExecutableFile(atPath: project.path + "/minimal"))

        let full = try Swbpf.run(["-C", project.path, "build", "--lock-timeout", "30", "CFLAGS=-O2 -g"], in: "/")
        #expect(full.status == 0, "\(full.output)")
        #expect(full.stdout.contains("  CC       .output/minimal.o") && !full.stdout.contains("cc -O2"), "\(full.stdout)")
    }
}

/// The environment a build reads, split the way `getenv` sees it.
@Suite struct CurrentEnvironmentTests {
    @Test func everyVariableIsReadWhole() {
        _ = Swbpf.path  // its one setenv, done before both readings
        let read = currentEnvironment()
        // Foundation's own reading of the same environ.
        #expect(read == ProcessInfo.processInfo.environment)
        #expect(read["PATH"] == String(cString: getenv("PATH")))
    }
}
