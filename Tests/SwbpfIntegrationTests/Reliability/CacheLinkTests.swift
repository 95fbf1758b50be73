import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfToolchain
@testable import SwbpfBuild
@testable import SwbpfKernel
@testable import SwbpfViews
@testable import SwbpfScaffolding
@testable import SwbpfDriver
import SwbpfTestSupport

/// What another user (or a careless one) can plant in the shared cache: links out of it, FIFOs,
/// devices, a huge statistics log. None is followed, read without bound, blocked on or removed;
/// clear and trim report them. Everything lives in the test's own temporary directory.
@Suite(.timeLimit(.minutes(10))) struct CacheLinkTests {
    /// A project of one app and a cache of its own, built once so the cache holds its steps.
    final class CachedProject {
        let machine: CacheIntegrationTests.Machine
        let project: TemporaryProject
        let victim: TemporaryProject
        var cache: String { machine.home.path + "/cache" }

        init(_ label: String) throws {
            machine = try CacheIntegrationTests.Machine("\(label)-home")
            project = try TemporaryProject(label)
            victim = try TemporaryProject("\(label)-victim")
            try victim.write("precious", "the victim's own file\n")
            try Reliability.writeApp(project, "tiny")
        }

        func build(_ project: TemporaryProject? = nil, extra: [String: String] = [:]) throws -> RunResult {
            try (project ?? self.project).swbpf("build", "--format", "json", environment: machine.environment(extra: extra))
        }

        func swbpf(_ arguments: String...) throws -> RunResult {
            try Swbpf.run(arguments, in: project.path, environment: machine.environment())
        }

        /// Every file the cache holds, as paths under it.
        var stored: [String] {
            allFiles(under: cache).filter { ($0.contains("/cas/") || $0.contains("/ac/")) && !FileSystem.isSymbolicLink(cache + "/" + $0) }
        }

        func expectVictimIntact(sourceLocation: SourceLocation = #_sourceLocation) {
            #expect((try? victim.read("precious")) == "the victim's own file\n", sourceLocation: sourceLocation)
            #expect(allFiles(under: victim.path) == ["precious"], "written into: \(allFiles(under: victim.path))", sourceLocation: sourceLocation)
        }
    }

    @Test func clearNeverFollowsAPlantedLinkAndReportsIt() throws {
        let cached = try CachedProject("clear-link")
        try #require(try cached.build().status == 0)
        try FileManager.default.createSymbolicLink(atPath: cached.cache + "/v1/cas/zz", withDestinationPath: cached.victim.path)
        let shard = (cached.cache + "/" + cached.stored[0] as NSString).deletingLastPathComponent
        try FileManager.default.createSymbolicLink(atPath: shard + "/" + String(repeating: "0", count: 64), withDestinationPath: cached.victim.path("precious"))
        let cleared = try cached.swbpf("cache", "clear")
        #expect(cleared.status == 0, "\(cleared.output)")
        #expect(cleared.stderr.contains("left alone 2 things swbpf did not make") && cleared.stderr.contains("/v1/cas/zz (it is a symbolic link to '\(cached.victim.path)', not a directory swbpf made)"),
                "\(cleared.stderr)")
        cached.expectVictimIntact()
        #expect(cached.stored.isEmpty, "what swbpf stored is gone: \(cached.stored)")
        #expect(FileSystem.isSymbolicLink(cached.cache + "/v1/cas/zz"), "the link itself is left alone")
    }

    @Test func trimAfterABuildNeverFollowsAPlantedLink() throws {
        let cached = try CachedProject("trim-link")
        try FileManager.default.createDirectory(atPath: cached.cache + "/v1/ac", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: cached.cache + "/v1/ac/zz", withDestinationPath: cached.victim.path)
        // A limit so small every build trims everything it can.
        let built = try cached.build(extra: ["SWBPF_CACHE_MAX_SIZE": "1"])
        #expect(built.status == 0, "\(built.output)")
        #expect(built.stderr.contains("left alone 1 thing swbpf did not make"), "\(built.stderr)")
        cached.expectVictimIntact()
    }

    @Test func aCacheWhoseBaseIsALinkIsNeitherUsedNorCleared() throws {
        let cached = try CachedProject("base-link")
        try FileManager.default.createDirectory(atPath: cached.victim.path("cas/ab"), withIntermediateDirectories: true)
        try cached.victim.write("cas/ab/" + "ab" + String(repeating: "1", count: 62), "the victim's blob\n")
        try FileManager.default.createDirectory(atPath: cached.cache, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: cached.cache + "/v1", withDestinationPath: cached.victim.path)
        let built = try cached.build()
        #expect(built.status == 0, "\(built.output)")
        let notes = built.stdout.split(separator: "\n").filter { $0.contains("is a symbolic link to '\(cached.victim.path)', not a directory swbpf made") }
        #expect(notes.count == 1, "one note: \(built.output)")
        let cleared = try cached.swbpf("cache", "clear")
        #expect(cleared.status == 1 && cleared.stderr.contains("not a directory swbpf made"), "\(cleared.output)")
        #expect(allFiles(under: cached.victim.path).sorted() == ["cas/ab/ab" + String(repeating: "1", count: 62), "precious"])
    }

    @Test func blobsAreNeverWrittenThroughPlantedShardLinks() throws {
        let cached = try CachedProject("shard-links")
        // Every shard a blob or a record could go to is a link out of the cache.
        for namespace in ["cas", "ac"] {
            try FileManager.default.createDirectory(atPath: cached.cache + "/v1/" + namespace, withIntermediateDirectories: true)
            for byte in 0..<256 {
                try FileManager.default.createSymbolicLink(atPath: cached.cache + "/v1/\(namespace)/" + String(format: "%02x", byte),
                                                           withDestinationPath: cached.victim.path)
            }
        }
        let built = try cached.build()
        #expect(built.status == 0, "\(built.output)")
        let notes = built.stdout.split(separator: "\n").filter { $0.contains("not a directory swbpf made") }
        #expect(notes.count == 1, "one note, then no cache: \(built.output)")
        cached.expectVictimIntact()
    }

    @Test func theStatisticsAreNeverAppendedThroughALink() throws {
        let cached = try CachedProject("stats-link")
        try FileManager.default.createDirectory(atPath: cached.cache + "/v1", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: cached.cache + "/v1/stats", withDestinationPath: cached.victim.path("precious"))
        #expect(try cached.build().status == 0)
        cached.expectVictimIntact()
        let report = try cached.swbpf("cache")
        #expect(report.status == 0 && report.stdout.contains("hits: unknown") && report.stdout.contains("symbolic link"), "\(report.output)")
        let cleared = try cached.swbpf("cache", "clear")
        #expect(cleared.status == 0 && cleared.stderr.contains("/v1/stats (a symbolic link to"), "\(cleared.output)")
        cached.expectVictimIntact()
    }

    /// Every entry and blob replaced by `plant`: a clone builds everything itself, promptly.
    func expectEveryEntryIsAMiss(_ label: String, plant: (String) throws -> Void) throws {
        let cached = try CachedProject(label)
        try #require(try cached.build().status == 0)
        let stored = cached.stored
        try #require(!stored.isEmpty)
        for file in stored {
            let path = cached.cache + "/" + file
            try FileManager.default.removeItem(atPath: path)
            try plant(path)
        }
        let clone = try TemporaryProject("\(label)-clone")
        try Reliability.writeApp(clone, "tiny")
        let begin = Date()
        let built = try cached.build(clone)
        #expect(built.status == 0, "\(built.output)")
        #expect(CacheIntegrationTests.restored(built.stdout).isEmpty, "restored from a planted file: \(built.stdout)")
        #expect(CacheIntegrationTests.ran(built.stdout).count == 7)
        // Generous: a hang or reading /dev/zero to the end of memory takes forever, a build seconds.
        #expect(Date().timeIntervalSince(begin) < 120)
        let cleared = try cached.swbpf("cache", "clear")
        #expect(cleared.status == 0 && cleared.stderr.contains("left alone"), "\(cleared.output)")
    }

    @Test func aFIFOInTheCacheIsAMissNotAHang() throws {
        try expectEveryEntryIsAMiss("fifo") { path in #expect(mkfifo(path, 0o644) == 0) }
    }

    @Test func anEntryLinkedToDevZeroIsAMissNotAnEndlessRead() throws {
        try expectEveryEntryIsAMiss("dev-zero-link") { path in
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
        }
    }

    @Test func anEntryThatIsADeviceIsAMissNotAnEndlessRead() throws {
        // /dev/zero's own device numbers (1, 5), made inside the cache: no link to refuse.
        try expectEveryEntryIsAMiss("dev-zero-node") { path in #expect(mknod(path, S_IFCHR | 0o644, dev_t(1 << 8 | 5)) == 0) }
    }

    @Test func aHugeSparseStatisticsLogIsReportedNotRead() throws {
        let cached = try CachedProject("sparse-stats")
        try #require(try cached.build().status == 0)
        let stats = cached.cache + "/v1/stats"
        #expect(truncate(stats, 100 << 30) == 0)
        let report = try cached.swbpf("cache")
        #expect(report.status == 0, "\(report.output)")
        #expect(report.stdout.contains("hits: unknown") && report.stdout.contains("more than the \(LocalCacheStore.statsLimit) bytes allowed"), "\(report.stdout)")
        // The next build replaces the log by a fresh count.
        let clone = try TemporaryProject("sparse-stats-clone")
        try Reliability.writeApp(clone, "tiny")
        #expect(try cached.build(clone).status == 0)
        #expect((FileSystem.stat(stats)?.size ?? .max) < 100)
        #expect(try cached.swbpf("cache").stdout.contains("6 local, 0 remote"))
    }
}
