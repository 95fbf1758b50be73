import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfBuild
import SwbpfTestSupport

/// The shared cache through the executor, against the in-memory file system and fake tools of
/// ExecutorTests, with a real local store in a scratch directory: what is restored, what is
/// recorded, and that nothing wrong is ever restored.
@Suite struct StepCacheTests {
    /// A scratch cache directory, removed afterwards.
    final class CacheDirectory {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-cache-\(UUID().uuidString)").path
        deinit { try? FileManager.default.removeItem(atPath: path) }

        func cache(sizeLimit: Int64 = CacheSettings.defaultSizeLimit) -> SharedCache {
            SharedCache(settings: CacheSettings(directory: path, sizeLimit: sizeLimit, remote: nil))
        }

        var blobs: [String] { allFiles(under: path).filter { $0.contains("/cas/") } }
    }

    /// One checkout: its files, state and tools.
    final class Checkout {
        let fixture: ExecutorTests.Fixture
        init() throws { fixture = try ExecutorTests.Fixture() }

        func build(cache: SharedCache) async -> (BuildSummary, EventLog) {
            let log = EventLog()
            let executor = Executor(steps: fixture.steps, state: BuildState.load(path: fixture.statePath),
                                    options: ExecutionOptions(jobs: 2, keepGoing: false), reporter: log,
                                    runner: fixture.runner, files: fixture.files, cache: cache)
            return (await executor.run(), log)
        }

        func products() -> [String: [UInt8]] {
            Dictionary(uniqueKeysWithValues: fixture.steps.flatMap(\.products).map { ($0, fixture.files.read($0) ?? []) })
        }
    }

    @Test func aSecondCheckoutGetsEveryStepFromTheCacheAndIsThenUpToDate() async throws {
        let directory = CacheDirectory()
        let first = try Checkout()
        let (built, _) = await first.build(cache: directory.cache())
        #expect(built.succeeded && built.ran == first.fixture.steps.count && built.restored == 0)

        let second = try Checkout()
        let cache = directory.cache()
        let (restored, log) = await second.build(cache: cache)
        #expect(restored.succeeded && restored.ran == 0 && restored.restored == second.fixture.steps.count)
        #expect(second.fixture.runner.ran.isEmpty, "tools ran: \(second.fixture.runner.ran)")
        #expect(second.products() == first.products())
        #expect(log.events.contains { if case .restored(_, _, .local, _, _, _, _) = $0 { true } else { false } })
        #expect(cache.counts.localHits == second.fixture.steps.count && cache.counts.misses == 0)

        // Recorded as if it had run: the next build has nothing to do, and an edit reruns
        // exactly what it would have (and finds nothing cached for the new content).
        let (again, againLog) = await second.build(cache: directory.cache())
        #expect(again.ran == 0 && again.restored == 0 && againLog.started.isEmpty)
        second.fixture.files.write("common.h", "/* common.h v2 */")
        let (edited, editedLog) = await second.build(cache: directory.cache())
        #expect(edited.succeeded && edited.restored == 0)
        #expect(editedLog.reasons[".output/a.o"] == "header common.h changed")
    }

    /// Two apps whose kernel parts include vmlinux.h first, so both load one PCH.
    static func precompiledPlan() throws -> [Step] {
        var a = simpleApp("a", helpers: ["util.c"]), b = simpleApp("b", helpers: ["util.c"])
        a.vmlinuxFirstSources = ["a.bpf.c"]
        b.vmlinuxFirstSources = ["b.bpf.c"]
        let project = Project(root: "/project", config: ProjectConfig(), configFile: nil, apps: [a, b],
                              helperSources: ["util.c"], localVmlinuxHeader: nil, notes: [])
        return try Planner(project: project, toolchain: fixedToolchain(), settings: BuildSettings()).plan().steps
    }

    @Test func thePCHIsBuiltOnlyWhenACompileThatLoadsItMustRun() async throws {
        let directory = CacheDirectory()
        let steps = try Self.precompiledPlan()
        #expect(steps.contains { $0.kind == .precompiledHeader })
        func build(_ fixture: ExecutorTests.Fixture) async -> (BuildSummary, EventLog) {
            let log = EventLog()
            let executor = Executor(steps: steps, state: BuildState.load(path: fixture.statePath),
                                    options: ExecutionOptions(jobs: 2, keepGoing: false), reporter: log,
                                    runner: fixture.runner, files: fixture.files, cache: directory.cache())
            return (await executor.run(), log)
        }
        let first = try ExecutorTests.Fixture()
        let (cold, coldLog) = await build(first)
        #expect(cold.succeeded && first.runner.ran.filter { $0 == ".output/vmlinux.h.pch" }.count == 1)
        let order = coldLog.started
        #expect(order.firstIndex(of: ".output/vmlinux.h.pch")! < order.firstIndex(of: ".output/a.tmp.bpf.o")!)

        // Every compile comes from the cache: the PCH is never built, and the next build still
        // has nothing to do although the PCH does not exist.
        let second = try ExecutorTests.Fixture()
        let (restored, _) = await build(second)
        #expect(restored.succeeded && second.runner.ran.isEmpty, "ran \(second.runner.ran)")
        #expect(second.files.read(".output/vmlinux.h.pch") == nil)
        let executor = Executor(steps: steps, state: BuildState.load(path: second.statePath),
                                options: ExecutionOptions(jobs: 2, keepGoing: false), reporter: EventLog(),
                                runner: second.runner, files: second.files, cache: directory.cache())
        #expect(executor.finishWithoutRunning(since: Date()) != nil, "a no-op wanted to run \(executor.predicted.map(\.step.primaryOutput))")

        // A compile that misses gets the PCH first: from the cache (the same vmlinux.h at the same
        // path), never built again, then compiles.
        second.files.write("a.bpf.c", "/* a.bpf.c v2 */")
        second.files.write("b.bpf.c", "/* b.bpf.c v2 */")
        let (edited, log) = await build(second)
        #expect(edited.succeeded && edited.restored == 1, "\(edited)")
        #expect(!second.runner.ran.contains(".output/vmlinux.h.pch") && second.files.read(".output/vmlinux.h.pch") != nil)
        #expect(log.restored == [".output/vmlinux.h.pch"])
        let restoredAt = try #require(log.events.firstIndex { if case .restored = $0 { return true } else { return false } })
        let compiledAt = try #require(log.events.firstIndex { if case .started(let step, _, _, _) = $0 { return step.kind == .bpfCompile } else { return false } })
        #expect(restoredAt < compiledAt)
    }

    @Test func aPCHIsKeyedByWhereItsHeaderIsAndATreeStepByItsTreesContent() throws {
        var app = simpleApp("a")
        app.vmlinuxFirstSources = ["a.bpf.c"]
        func pchKey(root: String, header: String) throws -> String? {
            let project = Project(root: root, config: ProjectConfig(), configFile: nil, apps: [app], helperSources: [], notes: [])
            let steps = try Planner(project: project, toolchain: fixedToolchain(vmlinux: .header(path: header, origin: .knob)), settings: BuildSettings()).plan().steps
            let pch = try #require(steps.first { $0.kind == .precompiledHeader })
            // The same bytes wherever the header is.
            return CacheKey.manifest(of: pch, root: root) { _ in ContentHash.of(bytes: Array("vmlinux.h".utf8)) }
        }
        // One vendored header shared by two projects: one PCH; the same bytes elsewhere: another.
        #expect(try pchKey(root: "/work/a", header: "/work/vmlinux/vmlinux.h") == pchKey(root: "/work/b/c", header: "/work/vmlinux/vmlinux.h"))
        #expect(try pchKey(root: "/work/a", header: "/work/vmlinux/vmlinux.h") != pchKey(root: "/work/a", header: "/work/other/vmlinux.h"))

        let tree = TreeInput(path: "../libbpf", excluded: [])
        let step = Step(kind: .libbpf, app: nil, tool: fixedToolchain().clang,
                        groups: [ArgumentGroup(.makeDirectory, [.flag("-C"), .path("../libbpf/src", .sourceTree)])], treeInputs: [tree])
        let nested = Step(kind: .libbpf, app: nil, tool: fixedToolchain().clang,
                          groups: [ArgumentGroup(.makeDirectory, [.flag("-C"), .path("../../libbpf/src", .sourceTree)])],
                          treeInputs: [TreeInput(path: "../../libbpf", excluded: [])])
        let fingerprint = ContentHash.of(bytes: Array("tree".utf8))
        func key(_ step: Step, root: String, tree: Digest? = fingerprint) -> String? {
            CacheKey.manifest(of: step, root: root, digest: { _ in nil }, treeDigest: { _ in tree })
        }
        // The same tree seen from two projects at different depths: one key.
        #expect(key(step, root: "/work/lesson1") != nil && key(step, root: "/work/lesson1") == key(nested, root: "/work/x/lesson2"))
        #expect(key(step, root: "/work/lesson1") != key(step, root: "/work/lesson1", tree: ContentHash.of(bytes: Array("edited".utf8))))
        #expect(key(step, root: "/elsewhere/lesson1") != key(step, root: "/work/lesson1"), "libbpf.a's debug info names the tree's directory")
        #expect(key(step, root: "/work/lesson1", tree: nil) == nil, "an unreadable tree gives no key")

        // A step that maps the tree's and the project's paths out of its products: the tree's
        // content alone, wherever the checkout is, but for a path reached through a link (the
        // compiler records the directory the kernel resolves, which the mapping does not name).
        func mapped(root: String) -> Step {
            let tree = FileSystem.absolute("../libbpf", base: root)
            return Step(kind: .libbpf, app: nil, tool: fixedToolchain().clang,
                        groups: [ArgumentGroup(.makeDirectory, [.flag("-C"), .path("../libbpf/src", .sourceTree)]),
                                 ArgumentGroup(.makeVariables, [.flag("EXTRA_CFLAGS=-ffile-prefix-map=\(tree)=libbpf -ffile-prefix-map=\(root)=.")])],
                        treeInputs: [TreeInput(path: "../libbpf", excluded: [], pathMapped: true)])
        }
        func mappedKey(root: String, tree: Digest = fingerprint, links: Set<String> = []) -> String? {
            CacheKey.manifest(of: mapped(root: root), root: root, digest: { _ in nil }, treeDigest: { _ in tree },
                              resolved: { links.contains($0) ? "/real" + $0 : $0 })
        }
        #expect(mappedKey(root: "/work/lesson1") != nil && mappedKey(root: "/work/lesson1") == mappedKey(root: "/home/me/clone/lesson1"))
        #expect(mappedKey(root: "/work/lesson1") != mappedKey(root: "/work/lesson1", tree: ContentHash.of(bytes: Array("edited".utf8))))
        #expect(mappedKey(root: "/work/lesson1", links: ["/work/libbpf"]) != mappedKey(root: "/work/lesson1"))
        #expect(mappedKey(root: "/work/lesson1", links: ["/work/lesson1"]) != mappedKey(root: "/work/lesson1"))
        #expect(mappedKey(root: "/work/lesson1", links: ["/work/libbpf"]) != mappedKey(root: "/home/me/clone/lesson1", links: ["/home/me/clone/libbpf"]))
    }

    /// A header beside the project, found through an include directory the command names
    /// relative to it, is listed through that directory: another checkout reads the same name and
    /// hashes its own file. The project's headers and the system's keep the state's names.
    @Test func aManifestNamesAHeaderBesideTheProjectThroughItsIncludeDirectory() {
        let order = ["src", ".output", "../third_party/libbpf/include/uapi", "/usr/include"]
        func name(_ header: String) -> String { CacheManifest.name(of: header, searchOrder: order, root: "/work/a/lesson1") }
        let bpf = name("/work/a/third_party/libbpf/include/uapi/linux/bpf.h")
        #expect(bpf == "../third_party/libbpf/include/uapi/linux/bpf.h")
        #expect(CacheManifest.header(named: bpf, root: "/home/me/b/lesson1") == "/home/me/b/third_party/libbpf/include/uapi/linux/bpf.h")
        #expect(CacheManifest.header(named: bpf, root: "/work/a/lesson1") == "/work/a/third_party/libbpf/include/uapi/linux/bpf.h")
        for kept in ["common.h", ".output/bpf/libbpf.h", "/usr/include/stdio.h", "/work/a/other/x.h"] {
            #expect(name(kept) == kept && CacheManifest.header(named: kept, root: "/work/a/lesson1") == kept)
        }
    }

    @Test func aHeaderWithOtherContentIsAMiss() async throws {
        let directory = CacheDirectory()
        _ = await (try Checkout()).build(cache: directory.cache())
        let second = try Checkout()
        second.fixture.files.write("common.h", "/* another common.h */")
        let (summary, _) = await second.build(cache: directory.cache())
        // Every compile read common.h: they and what follows them run; vmlinux.h is restored.
        let compiles = Set(second.fixture.steps.filter { $0.depfile != nil }.map(\.primaryOutput))
        #expect(summary.succeeded && compiles.isSubset(of: Set(second.fixture.runner.ran)))
        #expect(!second.fixture.runner.ran.contains(".output/vmlinux.h"))
    }

    @Test func aCorruptOrTruncatedBlobIsAMissNeverAWrongOutput() async throws {
        let directory = CacheDirectory()
        let first = try Checkout()
        _ = await first.build(cache: directory.cache())
        let object = try #require(first.fixture.files.read(".output/a.o"))
        let blob = try #require(try LocalCacheStore.open(directory.path, create: false)).path(.cas, SHA256Hex.of(object))
        #expect(FileManager.default.fileExists(atPath: blob))
        try Data(object.prefix(object.count / 2) + [0x21]).write(to: URL(fileURLWithPath: blob))

        let second = try Checkout()
        let (summary, _) = await second.build(cache: directory.cache())
        #expect(summary.succeeded)
        #expect(second.fixture.runner.ran == [".output/a.o"], "only the step whose blob is corrupt runs")
        #expect(second.products() == first.products())
    }

    @Test func anUnwritableCacheIsANoteAndANormalBuild() async throws {
        let directory = CacheDirectory()
        // A file where the cache's directory should be: nothing can be created in it.
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: directory.path))
        let checkout = try Checkout()
        let (summary, log) = await checkout.build(cache: directory.cache())
        #expect(summary.succeeded && summary.ran == checkout.fixture.steps.count)
        let notes = log.events.compactMap { if case .diagnostic(let d) = $0 { d.message } else { nil } }
        #expect(notes.count == 1 && notes.first?.contains("is a regular file, not a directory swbpf made, so the cache is not used") == true, "\(notes)")
    }

    @Test func theLeastRecentlyUsedFilesAreTrimmedFirst() throws {
        let directory = CacheDirectory()
        let store = try #require(try LocalCacheStore.open(directory.path, create: true))
        let old = SHA256Hex.of(text: "old"), used = SHA256Hex.of(text: "used"), new = SHA256Hex.of(text: "new")
        for key in [old, used, new] { try store.write(.cas, key, [UInt8](repeating: 1, count: 1000)) }
        func age(_ key: String, _ seconds: TimeInterval) throws {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -seconds)], ofItemAtPath: store.path(.cas, key))
        }
        try age(old, 300)
        try age(used, 200)
        try age(new, 100)
        _ = try store.read(.cas, used, limit: 1000)  // a hit makes it the most recently used
        let removed = store.trim(to: 2000)
        #expect(removed.files == 1 && removed.bytes == 1000)
        #expect(!store.contains(.cas, old) && store.contains(.cas, used) && store.contains(.cas, new))
    }

    @Test func aFullCacheIsTrimmedAfterTheBuild() async throws {
        let directory = CacheDirectory()
        let checkout = try Checkout()
        // Room for about one output: storing the build overflows it, and the build still passes.
        let (summary, _) = await checkout.build(cache: directory.cache(sizeLimit: 400))
        #expect(summary.succeeded)
        let size = try #require(try LocalCacheStore.open(directory.path, create: false)).inventory().size
        #expect(size <= 400)
    }

    /// The ledger's text, in the cache's `v1` directory.
    static func ledger(_ directory: CacheDirectory) -> String? {
        FileManager.default.contents(atPath: directory.path + "/v1/size").map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func aBuildThatStoresWalksTheCacheOnlyWhenItsSizeLedgerCannotSayItIsUnderTheLimit() async throws {
        let directory = CacheDirectory()
        let checkout = try Checkout()
        _ = await checkout.build(cache: directory.cache())
        let store = try #require(try LocalCacheStore.open(directory.path, create: false))
        // No ledger yet: the build walked the cache and wrote down what it measured.
        let measured = store.inventory().size
        #expect(measured > 0 && Self.ledger(directory) == "= \(measured)\n")

        // An edit stores new outputs: added up, not walked (the measured line stays as it was).
        checkout.fixture.files.write("common.h", "/* common.h v2 */")
        _ = await checkout.build(cache: directory.cache())
        let lines = try #require(Self.ledger(directory)).split(separator: "\n")
        #expect(lines.count == 2 && lines.first == "= \(measured)")
        let added = try #require(Int64(lines.last?.dropFirst(2) ?? ""))
        // What it adds up is never less than what is there (a replaced manifest counts twice).
        #expect(lines.last?.hasPrefix("+ ") == true && measured + added >= store.inventory().size)
    }

    @Test func theSizeLedgerAddsUpUntilItMustBeMeasuredAgain() throws {
        let directory = CacheDirectory()
        let store = try #require(try LocalCacheStore.open(directory.path, create: true))
        #expect(store.estimatedSize(adding: 5) == nil, "no ledger: walk")
        store.measuredSize(100)
        #expect(store.estimatedSize(adding: 5) == 105)
        #expect(store.estimatedSize(adding: 10) == 115)
        #expect(Self.ledger(directory) == "= 100\n+ 5\n+ 10\n")
        for _ in 2..<LocalCacheStore.ledgerBuilds { _ = store.estimatedSize(adding: 1) }
        #expect(store.estimatedSize(adding: 1) == nil, "\(LocalCacheStore.ledgerBuilds) builds added up: walk")
        store.measuredSize(7)
        #expect(Self.ledger(directory) == "= 7\n")

        for damaged in ["+ 5\n", "= 1\n= 2\n", "= -3\n", "= 12x\n", "size 10\n"] {
            try Data(damaged.utf8).write(to: URL(fileURLWithPath: directory.path + "/v1/size"))
            #expect(store.estimatedSize(adding: 1) == nil, "\(damaged) is not a ledger: walk")
        }
    }

    @Test func aSizeLedgerThatIsNotARegularFileIsLeftAlone() throws {
        let directory = CacheDirectory()
        let store = try #require(try LocalCacheStore.open(directory.path, create: true))
        let elsewhere = directory.path + "-elsewhere"
        try Data("= 1\n".utf8).write(to: URL(fileURLWithPath: elsewhere))
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/v1/size", withDestinationPath: elsewhere)
        #expect(store.estimatedSize(adding: 1) == nil)
        store.measuredSize(2)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: directory.path + "/v1/size") == elsewhere)
        #expect(FileManager.default.contents(atPath: elsewhere) == Data("= 1\n".utf8))
        #expect(store.clear().foreign.contains { $0.hasSuffix("/v1/size (a symbolic link to '\(elsewhere)')") })
    }
}

@Suite struct CacheKeyTests {
    static func plan(root: String, clangVersion: String = "14.0.6") throws -> [Step] {
        var toolchain = fixedToolchain()
        toolchain.clang.version = clangVersion
        toolchain.clang.path = root == "/project" ? "/usr/bin/clang" : "/opt/elsewhere/clang"
        toolchain.clang.fingerprint = root
        let project = Project(root: root, config: ProjectConfig(), configFile: nil, apps: [simpleApp("a", helpers: [])],
                              helperSources: [], localVmlinuxHeader: nil, notes: [])
        return try Planner(project: project, toolchain: toolchain, settings: BuildSettings()).plan().steps
    }

    static func keys(_ steps: [Step], root: String = "/project",
                     digest: (String) -> Digest? = { ContentHash.of(bytes: Array($0.utf8)) }) -> [String?] {
        steps.map { CacheKey.manifest(of: $0, root: root, digest: digest) }
    }

    @Test func keysDoNotDependOnTheCheckoutOrTheToolsPath() throws {
        let here = try Self.plan(root: "/project"), there = try Self.plan(root: "/home/someone/checkouts/project")
        #expect(here.map(\.displayCommand) != there.map(\.displayCommand), "the roots should differ on the command lines")
        #expect(Self.keys(here) == Self.keys(there, root: "/home/someone/checkouts/project"))
        #expect(!Self.keys(here).contains(nil))
    }

    @Test func keysChangeWithTheToolVersionAndTheInputs() throws {
        let base = Self.keys(try Self.plan(root: "/project"))
        let newer = Self.keys(try Self.plan(root: "/project", clangVersion: "15.0.0"))
        let steps = try Self.plan(root: "/project")
        let bpf = try #require(steps.firstIndex { $0.kind == .bpfCompile })
        #expect(newer[bpf] != base[bpf])
        let edited = Self.keys(steps) { path in ContentHash.of(bytes: Array((path == "a.bpf.c" ? "edited" : path).utf8)) }
        #expect(edited[bpf] != base[bpf])
        #expect(Self.keys(steps) { _ in nil }.allSatisfy { $0 == nil }, "an unreadable input gives no key")
    }

    /// The tool is named by the program that runs: a wrapper that prints clang's version is another tool.
    @Test func theKeyCoversTheProgramThatRuns() throws {
        let steps = try Self.plan(root: "/project")
        var other = steps
        for index in other.indices { other[index].tool.executable = "/project/tools/clang 0123456789abcdef" }
        let bpf = try #require(steps.firstIndex { $0.kind == .bpfCompile })
        #expect(Self.keys(steps)[bpf] != Self.keys(other)[bpf])
        // A wrapper inside the checkout is named relative to it, so clones still share.
        var moved = try Self.plan(root: "/elsewhere")
        for index in moved.indices { moved[index].tool.executable = "/elsewhere/tools/clang 0123456789abcdef" }
        #expect(Self.keys(other)[bpf] == Self.keys(moved, root: "/elsewhere")[bpf])
    }

    @Test func theRootIsReplacedOnlyAsAWholePathComponent() {
        #expect(CacheKey.portable("-ffile-prefix-map=/tmp/p=.", root: "/tmp/p") == "-ffile-prefix-map=${ROOT}=.")
        #expect(CacheKey.portable("/tmp/p/x.h", root: "/tmp/p") == "${ROOT}/x.h")
        #expect(CacheKey.portable("/tmp/project/x.h", root: "/tmp/p") == "/tmp/project/x.h")
    }

    @Test func manifestsAndEntriesReadBackAndRejectDamage() throws {
        let entry = CacheEntry(outputs: [.init(path: ".output/a b.o", sha256: SHA256Hex.of(text: "x"), size: 3, executable: false),
                                         .init(path: "a", sha256: SHA256Hex.of(text: "y"), size: 9, executable: true)])
        #expect(CacheEntry(bytes: entry.bytes) == entry)
        #expect(CacheEntry(bytes: Array(entry.bytes.dropLast(5))) == nil, "a truncated entry")
        let manifest = CacheManifest(headers: ["common.h", "/usr/include/linux/types.h", "odd\nname.h"])
        #expect(CacheManifest(bytes: manifest.bytes) == manifest)
        #expect(CacheManifest(bytes: Array(manifest.bytes.dropLast())) == nil)
    }
}

@Suite struct HTTPClientTests {
    @Test func readsAddresses() throws {
        let address = try #require(HTTPAddress("http://127.0.0.1:8080/cache/"))
        #expect(address.host == "127.0.0.1" && address.port == 8080 && address.basePath == "/cache" && !address.secure)
        #expect(HTTPAddress("https://cache.example")?.port == 443)
        #expect(HTTPAddress("http://[::1]:9/")?.host == "::1")
        for bad in ["ftp://x", "http://", "http://user@host/", "http://host:99999/", "http://host/?q"] { #expect(HTTPAddress(bad) == nil, "\(bad)") }
    }

    @Test func aServerThatNeverAnswersTimesOut() throws {
        // A loopback listener that never accepts: the connection completes in its backlog, and
        // the request waits for an answer that never comes.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 8)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        // The exchange itself, as the cache's own thread runs it: the bound holds however busy the
        // concurrency pool is.
        let begin = Date()
        let result = HTTPClient.exchange(method: "GET", address: try #require(HTTPAddress("http://127.0.0.1:\(port)")), path: "/ac/x",
                                         headers: [], body: [], timeoutSeconds: 0.5, limit: 1024)
        #expect(Date().timeIntervalSince(begin) < 5)
        guard case .failure(let failure) = result else { Issue.record("a silent server answered: \(result)"); return }
        #expect(failure.reason.lowercased().contains("timed out") || failure.reason.lowercased().contains("timeout"), "\(failure)")
    }
}
