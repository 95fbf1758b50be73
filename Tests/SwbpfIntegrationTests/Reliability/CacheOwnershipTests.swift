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

/// A cache another user can write could hand root's build anything: swbpf uses a cache only if
/// it and every directory in it are the user's (or root's) and writable by no one else, and a
/// restored binary must be an ELF executable for the target, as a link makes. Run as root, as CI
/// runs: `nobody` stands for the other user.
@Suite(.timeLimit(.minutes(10))) struct CacheOwnershipTests {
    typealias CachedProject = CacheLinkTests.CachedProject

    /// A cache built by a first project, changed by `tamper`: a clone then builds every step
    /// itself, with one note that names `problem`.
    func expectNotUsed(_ label: String, problem: String, tamper: (CachedProject) throws -> Void) throws {
        let cached = try CachedProject(label)
        try #require(try cached.build().status == 0)
        try tamper(cached)
        let clone = try TemporaryProject("\(label)-clone")
        try Reliability.writeApp(clone, "tiny")
        let built = try cached.build(clone)
        #expect(built.status == 0, "\(built.output)")
        #expect(CacheIntegrationTests.restored(built.stdout).isEmpty, "restored from a cache another user can write")
        let notes = built.stdout.split(separator: "\n").filter { $0.contains("so the cache is not used") }
        #expect(notes.count == 1 && notes[0].contains(problem), "one note naming \(problem): \(built.output)")
        let report = try cached.swbpf("cache")
        #expect(report.stdout.contains(problem), "\(report.output)")
    }

    func chown(_ path: String, recursive: Bool) throws {
        let result = try runProcess("/bin/chown", (recursive ? ["-R"] : []) + ["nobody", path])
        try #require(result.status == 0, "\(result.output)")
    }

    @Test func aCacheOwnedByAnotherUserIsNotUsed() throws {
        try expectNotUsed("owned-by-nobody", problem: "is owned by uid 65534") { try chown($0.cache, recursive: true) }
    }

    @Test func aShardOwnedByAnotherUserIsNotUsed() throws {
        try expectNotUsed("shard-owned-by-nobody", problem: "is owned by uid 65534") { cached in
            for file in cached.stored { try chown((cached.cache + "/" + file as NSString).deletingLastPathComponent, recursive: false) }
        }
    }

    @Test func aCacheWritableByOthersIsNotUsed() throws {
        try expectNotUsed("mode-0777", problem: "is writable by its group and others (mode 777)") { #expect(chmod($0.cache, 0o777) == 0) }
    }

    @Test func aCacheWritableByItsGroupIsNotUsed() throws {
        try expectNotUsed("mode-0775", problem: "is writable by its group (mode 775)") { #expect(chmod($0.cache + "/v1/cas", 0o775) == 0) }
    }

    /// The rule is about the cache's own directories: one in a world-writable sticky directory
    /// (as /tmp is) is still the user's, and used.
    @Test func aCacheInAStickyWorldWritableDirectoryIsUsed() throws {
        let machine = try CacheIntegrationTests.Machine("sticky-home")
        let shared = machine.home.path + "/shared"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        #expect(chmod(shared, 0o1777) == 0)
        let environment = machine.environment(extra: ["SWBPF_CACHE_DIR": shared + "/cache"])
        let first = try TemporaryProject("sticky"), clone = try TemporaryProject("sticky-clone")
        for project in [first, clone] { try Reliability.writeApp(project, "tiny") }
        #expect(try first.swbpf("build", environment: environment).status == 0)
        let built = try clone.swbpf("build", "--format", "json", environment: environment)
        #expect(built.status == 0 && CacheIntegrationTests.restored(built.stdout).count == 6, "\(built.output)")
        let mode = try FileManager.default.attributesOfItem(atPath: shared + "/cache")[.posixPermissions] as? Int
        #expect(mode == 0o755)
    }

    /// An entry and a blob that pass every digest check but hold a shell script where the binary
    /// should be (what a writer of a shared cache could plant): the restore is refused, with a
    /// note, and the binary is linked.
    @Test func aRestoredBinaryMustBeAnELFExecutable() throws {
        let cached = try CachedProject("poisoned-binary")
        try #require(try cached.build().status == 0)
        let script = Array("#!/bin/sh\necho poisoned\n".utf8)
        let sha = SHA256Hex.of(script)
        var rewritten = 0
        for file in cached.stored where file.contains("/ac/") {
            let path = cached.cache + "/" + file
            guard let entry = CacheEntry(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path)))),
                  entry.outputs.map(\.path) == ["tiny"] else { continue }
            try Data(CacheEntry(outputs: [.init(path: "tiny", sha256: sha, size: script.count, executable: true)]).bytes).write(to: URL(fileURLWithPath: path))
            rewritten += 1
        }
        try #require(rewritten == 1)
        try LocalCacheStore.open(cached.cache, create: false)?.write(.cas, sha, script)

        let clone = try TemporaryProject("poisoned-binary-clone")
        try Reliability.writeApp(clone, "tiny")
        let built = try cached.build(clone)
        #expect(built.status == 0, "\(built.output)")
        #expect(CacheIntegrationTests.ran(built.stdout) == ["tiny"], "only the binary is linked: \(built.stdout)")
        #expect(built.stdout.contains("restored from the local cache was refused (it is not an ELF file"), "\(built.stdout)")
        #expect(clone.data("tiny")?.starts(with: [0x7F, 0x45, 0x4C, 0x46]) == true)
        #expect(try clone.runApp("tiny").stdout == "ok\n")
    }
}
