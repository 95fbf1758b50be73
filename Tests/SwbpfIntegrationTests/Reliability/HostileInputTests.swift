import Foundation
import Testing
import SwbpfTestSupport
#if canImport(Glibc)
import Glibc
#endif
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfBuild

/// A remote cache that answers with what no honest server sends: every case is one note and a
/// correct local build, never a crash, a hang, or a gigabyte of memory.
@Suite(.serialized) struct RemoteInputTests {
    /// Builds examples/minimal on a fresh machine against `remote`; the build must succeed.
    static func build(against remote: HostileRemote, extra: [String: String] = [:]) throws -> RunResult {
        let home = try TemporaryProject("home"), project = try TemporaryProject(copying: "examples/minimal")
        let result = try swbpfBounded(["build", "--format", "json"], in: project.path,
                                      environment: machineEnvironment(home, remote: remote.url, extra: extra))
        #expect(result.status == 0, "\(result.output)")
        #expect(project.exists("minimal"), "no binary: \(result.output)")
        return result
    }

    @Test(arguments: ["negative-length", "huge-chunk"])
    func aMalformedLengthIsOneNoteAndALocalBuild(_ mode: String) throws {
        let remote = try HostileRemote(mode)
        let result = try Self.build(against: remote)
        #expect(remoteNotes(result.stderr).count == 1, "\(result.stderr)")
    }

    @Test(arguments: ["huge-body", "endless-chunks"])
    func aHugeAnswerIsCutAtTheRecordLimit(_ mode: String) throws {
        let remote = try HostileRemote(mode)
        let result = try Self.build(against: remote)
        let notes = remoteNotes(result.stderr)
        #expect(notes.count == 1 && notes[0].contains("larger than the \(RemoteCache.recordLimit) bytes expected"), "\(result.stderr)")
    }

    /// Stores through one machine, then restores on another: nothing waits for the server to close.
    @Test func aServerThatKeepsTheConnectionOpenCostsNoTimeout() throws {
        let remote = try HostileRemote("keep-alive")
        // A timeout far longer than the build: any wait for the close would show as a note.
        let first = try Self.build(against: remote, extra: ["SWBPF_REMOTE_CACHE_TIMEOUT": "120"])
        #expect(remoteNotes(first.stderr).isEmpty, "\(first.stderr)")
        #expect(remote.requests.contains { $0.hasPrefix("PUT /swbpf/cas/") }, "\(remote.requests)")
        let second = try Self.build(against: remote, extra: ["SWBPF_REMOTE_CACHE_TIMEOUT": "120"])
        #expect(remoteNotes(second.stderr).isEmpty, "\(second.stderr)")
        #expect(CacheIntegrationTests.restored(second.stdout).values.filter { $0 == "remote" }.count == 6, "\(second.stdout)")
    }

    /// The one remote note of a build restored from `remote` after another machine stored through it.
    static func noteOfASecondMachine(_ remote: HostileRemote) throws -> (note: String, build: RunResult) {
        _ = try build(against: remote)
        let second = try build(against: remote)
        let notes = remoteNotes(second.stderr)
        #expect(notes.count == 1, "\(second.stderr)")
        return (notes.first ?? "", second)
    }

    /// A manifest that names /dev/zero as a header was hashed forever: now it is refused unread.
    @Test func aManifestNamingAFileOutsideTheProjectIsRefused() throws {
        let (note, build) = try Self.noteOfASecondMachine(try HostileRemote("dev-zero"))
        #expect(note.contains("a manifest names /dev/zero, outside the project"), "\(build.stderr)")
    }

    @Test func aCorruptBlobIsSaidOnceAndRebuilt() throws {
        let (note, build) = try Self.noteOfASecondMachine(try HostileRemote("corrupt-blob"))
        #expect(note.contains("is broken or hostile: its blob"), "\(build.stderr)")
        #expect(CacheIntegrationTests.restored(build.stdout).values.allSatisfy { $0 != "remote" }, "\(build.stdout)")
    }

    @Test func withoutLibcurlTheNoteNamesThePackage() {
        // The message libcurl's absence gives, as the loader writes it (a machine without it cannot be made here).
        let source = (try? String(contentsOfFile: repositoryRoot + "/Sources/CSwbpfCurl/curl.c", encoding: .utf8)) ?? ""
        #expect(source.contains("the remote cache needs libcurl (Debian: apt install libcurl4)"))
    }
}

/// The user's credentials go only to a remote the user chose; a project's remote is read-only.
@Suite(.serialized) struct RemoteCredentialsTests {
    static let secrets = ["SWBPF_REMOTE_CACHE_TOKEN": "s3cret", "SWBPF_REMOTE_CACHE_HEADER": "X-Api-Key: k3y"]

    static func project(naming remote: HostileRemote) throws -> TemporaryProject {
        let project = try TemporaryProject(copying: "examples/minimal")
        try project.write("swbpf.toml", "[cache]\nremote = \"\(remote.url)\"\n")
        return project
    }

    @Test func aRemoteNamedByAClonedProjectGetsNoCredentialsAndNoUploads() throws {
        let remote = try HostileRemote("keep-alive")
        let home = try TemporaryProject("home"), project = try Self.project(naming: remote)
        var environment = machineEnvironment(home).merging(Self.secrets) { $1 }
        environment["SWBPF_REMOTE_CACHE"] = nil
        let result = try swbpfBounded(["build"], in: project.path, environment: environment)
        #expect(result.status == 0, "\(result.output)")
        #expect(!remote.requests.isEmpty && remote.requests.allSatisfy { $0.hasSuffix(" -") }, "\(remote.requests)")
        #expect(!remote.requests.contains { $0.hasPrefix("PUT") }, "a project's remote was written: \(remote.requests)")
        let report = try swbpfBounded(["cache"], in: project.path, environment: environment)
        #expect(report.stdout.contains("named by swbpf.toml [cache] remote") && report.stdout.contains("mode: read-only")
                && report.stdout.contains("credentials: not sent"), "\(report.output)")
    }

    @Test func theUsersConfigCanTrustAProjectsRemote() throws {
        let remote = try HostileRemote("keep-alive")
        let home = try TemporaryProject("home"), project = try Self.project(naming: remote)
        try home.write("config/swbpf/config.toml", "[cache]\ntrusted-remotes = [\"\(remote.origin)\"]\n")
        let result = try swbpfBounded(["build"], in: project.path, environment: machineEnvironment(home).merging(Self.secrets) { $1 })
        #expect(result.status == 0, "\(result.output)")
        #expect(remote.requests.contains { $0.hasPrefix("PUT") } && remote.requests.allSatisfy { $0.hasSuffix(" Bearer s3cret") },
                "\(remote.requests)")
    }

    @Test func aRemoteTheEnvironmentNamesGetsTheCredentials() throws {
        let remote = try HostileRemote("keep-alive")
        let home = try TemporaryProject("home"), project = try TemporaryProject(copying: "examples/minimal")
        let environment = machineEnvironment(home, remote: remote.url).merging(Self.secrets) { $1 }
        let result = try swbpfBounded(["build"], in: project.path, environment: environment)
        #expect(result.status == 0 && remote.requests.allSatisfy { $0.hasSuffix(" Bearer s3cret") }, "\(remote.requests)")
        let report = try swbpfBounded(["cache"], in: project.path, environment: environment)
        #expect(report.stdout.contains("mode: read-write") && report.stdout.contains("credentials: sent (Authorization, X-Api-Key)"),
                "\(report.output)")
    }

    @Test func aPasswordInTheURLIsNeverPrinted() throws {
        let home = try TemporaryProject("home"), project = try TemporaryProject(copying: "examples/minimal")
        let result = try swbpfBounded(["build"], in: project.path,
                                      environment: machineEnvironment(home, remote: "http://ci:hunter2@127.0.0.1:1/swbpf"))
        #expect(result.status != 0 && !result.output.contains("hunter2") && result.output.contains("http://ci:***@127.0.0.1:1/swbpf"),
                "\(result.output)")
    }

    @Test func redactionKeepsTheUserAndHidesThePassword() {
        #expect(HTTPAddress.redacted("https://u:p@h:1/x") == "https://u:***@h:1/x")
        #expect(HTTPAddress.redacted("http://token@h/") == "http://token@h/")
        #expect(HTTPAddress.redacted("http://h/a@b") == "http://h/a@b")
        #expect(HTTPAddress("http://Cache.Example:8080/x")?.origin == "http://cache.example:8080")
        #expect(HTTPAddress("https://cache.example/x")?.origin == "https://cache.example:443")
    }
}

/// Files that are not what they claim: FIFOs where sources are, and TOML built to exhaust the stack.
@Suite struct HostileFileTests {
    static func fifo(_ path: String) throws {
        try #require(mkfifo(path, 0o644) == 0, "mkfifo \(path): \(String(cString: strerror(errno)))")
    }

    @Test func aSourceThatIsAFIFOIsRefused() throws {
        let project = try TemporaryProject(copying: "examples/minimal")
        try FileManager.default.removeItem(atPath: project.path + "/minimal.c")
        try Self.fifo(project.path + "/minimal.c")
        let result = try swbpfBounded(["build"], in: project.path, seconds: 120)
        #expect(result.status == 1 && result.stderr.contains("'minimal.c' is a FIFO, not a regular file"), "\(result.output)")
    }

    @Test func aHeaderThatIsAFIFOIsRefused() throws {
        let project = try TemporaryProject(copying: "examples/minimal")
        try Self.fifo(project.path + "/common.h")
        let result = try swbpfBounded(["build"], in: project.path, seconds: 120)
        #expect(result.status == 1 && result.stderr.contains("'common.h' is a FIFO, not a regular file"), "\(result.output)")
    }

    @Test func aVmlinuxKnobThatIsAFIFOIsRefused() throws {
        let project = try TemporaryProject(copying: "examples/minimal"), elsewhere = try TemporaryProject("fifo")
        try Self.fifo(elsewhere.path + "/vmlinux.h")
        let result = try swbpfBounded(["build", "VMLINUX=\(elsewhere.path)/vmlinux.h"], in: project.path, seconds: 120)
        #expect(result.status == 1 && result.stderr.contains("is a FIFO, not a regular file"), "\(result.output)")
    }

    @Test func readsAndDigestsRefuseWhatIsNotARegularFile() throws {
        let scratch = try TemporaryProject("fifo")
        try Self.fifo(scratch.path + "/pipe")
        #expect(FileSystem.read(scratch.path + "/pipe") == nil)
        #expect(ContentHash.of(file: scratch.path + "/pipe") == nil)
        #expect(ContentHash.of(file: "/dev/zero") == nil && FileSystem.read("/dev/zero") == nil)
        #expect(FileSystem.read("/proc/self/status").map { !$0.isEmpty } == true, "a /proc file (size 0 by stat) is still read")
    }

    static let twentyThousandParts: String = Array(repeating: "a", count: 20_000).joined(separator: ".")
    static let deepDocuments: [String] = ["[\(twentyThousandParts)]\n", "x = 1\n\(twentyThousandParts) = 1\n", "t = { \(twentyThousandParts) = 1 }\n"]

    @Test(arguments: deepDocuments)
    func twentyThousandDottedPartsAreAnErrorNotACrash(_ text: String) throws {
        #expect {
            _ = try ProjectConfig.parse(text, file: "swbpf.toml")
        } throws: { error in
            guard case .syntax(_, let line, let column, let message) = error as? ConfigError else { return false }
            return line == (text.hasPrefix("x") ? 2 : 1) && column > 200 && message.contains("more than") && message.contains("200")
        }
    }

    @Test func aSwbpfTomlOfTwentyThousandPartsFailsTheBuildWithItsLine() throws {
        let project = try TemporaryProject(copying: "examples/minimal")
        try project.write("swbpf.toml", "[\(Self.twentyThousandParts)]\n")
        let result = try swbpfBounded(["build"], in: project.path, seconds: 120)
        #expect(result.status == 1 && result.stderr.contains("swbpf.toml:1:") && result.stderr.contains("nested at most 200 levels"),
                "\(result.output.prefix(2000))")
    }

    @Test func anAppNameBpftoolCannotMakeAnIdentifierOfIsRefusedWithTheRule() throws {
        let project = try TemporaryProject(copying: "examples/minimal")
        for suffix in [".bpf.c", ".c"] {
            try FileManager.default.moveItem(atPath: project.path + "/minimal" + suffix, toPath: project.path + "/café" + suffix)
        }
        let result = try swbpfBounded(["build"], in: project.path, seconds: 120)
        #expect(result.status == 1 && result.stderr.contains("'café' (from café.bpf.c) cannot be an app name")
                && result.stderr.contains("must be ASCII and not start with a digit"), "\(result.output)")
        #expect(App.skeletonName(of: "café") == "caf___bpf" && App.hasUsableName("xdp-counter") && !App.hasUsableName("1st"))
        // Any ASCII byte has its '_' (FileNameTests builds an app named with control characters).
        #expect(App.hasUsableName("bell\u{07}red\u{1b}[31m") && App.skeletonName(of: "a b") == "a_b_bpf")
    }
}
