import Testing
@testable import SwbpfCLI
@testable import SwbpfCore

/// The quick reader of plain build command lines must agree with argument-parser on everything
/// it accepts, and leave everything else to it.
@Suite struct QuickBuildTests {
    let environment = ["PATH": "/usr/bin"]

    func parsedByArgumentParser(_ arguments: [String]) throws -> BuildRequest {
        let command = try SwbpfCommand.parseAsRoot(arguments)
        let build = try #require(command as? Build, "argument-parser did not read \(arguments) as a build")
        return build.request(environment: environment).0
    }

    static let accepted: [[String]] = [
        [], ["build"], ["kprobe"], ["build", "kprobe", "minimal"], ["-j", "3"], ["-j4"], ["--jobs", "1"],
        ["build", "-C", "examples/kprobe", "-v", "kprobe"], ["-k", "-n", "--explain"], ["--dry-run", "--verbose", "a-b"],
        ["build", "-j", "2", "-k", "app", "-v"], ["build", "build"], ["--no-cache", "app"],
    ]

    @Test(arguments: accepted)
    func agreesWithArgumentParser(_ arguments: [String]) throws {
        let quick = try #require(QuickBuild.request(arguments, environment: environment), "quick path refused \(arguments)")
        let full = try parsedByArgumentParser(arguments)
        #expect(quick.directory == full.directory)
        #expect(quick.apps == full.apps)
        #expect(quick.jobs == full.jobs)
        #expect(quick.keepGoing == full.keepGoing && quick.dryRun == full.dryRun)
        #expect(quick.verbose == full.verbose && quick.explain == full.explain)
        #expect(quick.lockTimeoutSeconds == full.lockTimeoutSeconds && quick.timings == full.timings)
        #expect(quick.traceFile == full.traceFile && quick.compileCommands == full.compileCommands)
        #expect(quick.noCache == full.noCache)
    }

    static let declined: [[String]] = [
        ["--help"], ["-h"], ["explain"], ["explain", "kprobe"], ["clean"], ["new", "x"], ["templates"], ["help"],
        ["--timings"], ["--trace", "t.json"], ["--format", "json"], ["-j", "many"], ["-j"], ["-C"], ["-kv"],
        ["--jobs=2"], ["--compdb"], ["--lock-timeout", "5"], ["-C", "-v"], ["-v", "clean"], ["kprobe", "templates"],
    ]

    @Test(arguments: declined)
    func leavesTheRestToArgumentParser(_ arguments: [String]) {
        #expect(QuickBuild.request(arguments, environment: environment) == nil)
    }
}
