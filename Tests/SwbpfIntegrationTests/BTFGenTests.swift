import Foundation
import SwbpfBasics
@testable import SwbpfKernel
import SwbpfTestSupport
import Testing

/// btf-for and `swbpf btfgen` with Debian's real 6.1 cloud kernel (from KernelMatrixTests' shared
/// download cache): the BTFGEN step runs, is cached and rebuilt when the object changes, its small
/// BTF holds the types the object relocates against, and the ringbuf template's binary loads its
/// programs with it as libbpf's btf_custom_path on this kernel.
@Suite(.enabled(if: Kernel.isRoot, "needs root (CAP_BPF) to load BPF programs"))
struct BTFGenTests {
    static let release = "6.1.0-57-cloud-amd64"

    /// The 6.1 kernel's whole BTF, as BTFHub ships a kernel's: a raw BTF file named by its release.
    static func kernelBTF(into project: TemporaryProject) async throws -> String {
        let images = KernelImages(cacheDirectory: KernelMatrixTests.cache, searchPath: ProcessInfo.processInfo.environment["PATH"])
        let kernel = try await images.resolve("6.1", base: project.path)
        let release = try #require(kernel.release?.split(separator: " ").first.map(String.init))
        let name = release + ".btf"
        try FileManager.default.copyItem(atPath: kernel.btf, toPath: project.path(name))
        return name
    }

    @Test func smallBTFIsPlannedCachedInstalledAndLoads() async throws {
        let project = try await KernelCommandTests.project("btfgen", apps: [(name: "rb", template: "ringbuf")])
        let file = try await Self.kernelBTF(into: project)
        let release = String(file.dropLast(".btf".count))
        try project.write("swbpf.toml", "[app.rb]\nbtf-for = [\"\(file)\"]\n")
        let cache = project.path("cache")
        let environment = ["SWBPF_CACHE_DIR": cache]
        let directory = project.path
        func swbpf(_ arguments: [String], _ extra: [String: String] = [:]) async throws -> RunResult {
            try await TemplateHarness.offThread { try Swbpf.run(arguments, in: directory, environment: environment.merging(extra) { $1 }) }
        }
        let output = ".output/btf/rb/\(release).btf"

        let built = try await swbpf(["build"])
        #expect(built.status == 0, "\(built.output)")
        #expect(built.stdout.contains("BTFGEN   \(output)"), "\(built.output)")
        let size = try #require(FileSystem.stat(project.path(output))?.size)
        #expect(size > 24 && size < 2000, "a min_core_btf of the ringbuf template is a few hundred bytes, not \(size)")
        let dump = try runProcess("/usr/sbin/bpftool", ["btf", "dump", "file", project.path(output)], in: directory)
        #expect(dump.status == 0, "\(dump.output)")
        // The fields the ringbuf template reads with BPF_CORE_READ, and nothing of the megabytes else.
        for field in ["STRUCT 'task_struct'", "'tgid'", "'real_parent'", "'exit_code'"] { #expect(dump.stdout.contains(field), "\(dump.stdout)") }
        #expect(!dump.stdout.contains("'sk_buff'"))

        expectNothingToDo(try await swbpf(["build"]), steps: 9)  // with custom_btf.c's compile
        let explained = try await swbpf(["build", "-n", "-v", "-B"])
        // The kernel's BTF as extracted into the shared cache, under the digest of the file named.
        let command = try #require(explained.stdout.split(separator: "\n").first { $0.hasPrefix("bpftool gen min_core_btf ") }, "\(explained.output)")
        #expect(command.hasPrefix("bpftool gen min_core_btf cache/kernels/") && command.hasSuffix("/btf \(output) .output/rb.bpf.o"), "\(command)")

        // From the shared cache after a clean; built again when the object changes.
        #expect(try await swbpf(["clean"]).status == 0)
        #expect(!FileSystem.exists(project.path(output)))
        let restored = try await swbpf(["build", "--explain"])
        #expect(restored.output.contains("BTFGEN \(output)") && restored.output.contains("restored from the local cache"), "\(restored.output)")
        #expect(FileSystem.stat(project.path(output))?.size == size)
        try project.write("rb.bpf.c", "/* a line more: every line number in the object moves */\n" + project.read("rb.bpf.c"))
        let rebuilt = try await swbpf(["build"])
        #expect(rebuilt.stdout.contains("BTFGEN   \(output)"), "\(rebuilt.output)")

        // The template's binary with the small BTF forced as btf_custom_path, under this kernel's
        // release: libbpf relocates against its types (their ids are the small file's, not the
        // running kernel's), and this kernel's verifier accepts the programs.
        let forced = project.path("forced")
        try FileManager.default.createDirectory(atPath: forced, withIntermediateDirectories: true)
        let running = try #require(try runProcess("/bin/uname", ["-r"], in: directory).stdout.split(separator: "\n").first)
        try FileManager.default.copyItem(atPath: project.path(output), toPath: forced + "/\(running).btf")
        let taskStruct = try #require(dump.stdout.split(separator: "\n").first { $0.contains("STRUCT 'task_struct'") }?.split(separator: " ").first)
        let loaded = try runProcess(project.path("rb"), ["--load-only", "-v"], in: directory, environment: ["SWBPF_BTF_DIR": forced])
        #expect(loaded.status == 0, "\(loaded.output)")
        #expect(loaded.stdout.contains("loaded 2 programs"), "\(loaded.output)")
        #expect(loaded.stderr.contains("found target candidate \(taskStruct) struct task_struct in [vmlinux]"), "\(loaded.stderr)")

        // No file for the running kernel's release: it says so, and which releases it has, and does
        // not claim that this kernel, which has BTF, has none.
        let missing = try runProcess(project.path("rb"), ["--load-only"], in: directory, environment: ["SWBPF_BTF_DIR": project.path(".output/btf/rb")])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("SWBPF_BTF_DIR has no BTF for this kernel (\(running))")
                    && missing.stderr.contains("releases with a BTF there: \(release)") && !missing.stderr.contains("has no BTF (/sys"),
                "\(missing.stderr)")

        // Installed beside the binary, named by the release.
        let prefix = project.path("installed")
        let installed = try await swbpf(["install", "--prefix", prefix])
        #expect(installed.status == 0, "\(installed.output)")
        #expect(FileSystem.read(prefix + "/lib/rb/btf/\(release).btf") == FileSystem.read(project.path(output)))
        #expect(FileSystem.stat(prefix + "/bin/rb") != nil)
    }

    /// The one lookup (custom_btf.c, written by swbpf new and add) serves a Swift app and a C app
    /// whose template used to open and load in one call: each loads with the small BTF forced, and
    /// stops with the missing file named when SWBPF_BTF_DIR has none for this kernel.
    @Test func swiftAndXdpAppsLoadWithTheSmallBTF() async throws {
        let project = try TemporaryProject("btfgen-apps")
        let directory = project.path
        for arguments in [["new", directory, "--template", "ringbuf", "--name", "rbs", "--lang", "swift"], ["add", "xd", "--template", "xdp"]] {
            let made = try await TemplateHarness.swbpf(arguments, in: directory)
            try #require(made.status == 0, "\(arguments): \(made.output)")
        }
        let file = try await Self.kernelBTF(into: project)
        try project.write("swbpf.toml", "[app.rbs]\nbtf-for = [\"\(file)\"]\n[app.xd]\nbtf-for = [\"\(file)\"]\n")
        let built = try await TemplateHarness.offThread {
            try Swbpf.run(["build"], in: directory, environment: ["SWBPF_CACHE_DIR": directory + "/cache"])
        }
        try #require(built.status == 0, "\(built.output)")
        let running = try #require(try runProcess("/bin/uname", ["-r"], in: directory).stdout.split(separator: "\n").first)
        for app in ["rbs", "xd"] {
            let forced = project.path("forced-\(app)")
            try FileManager.default.createDirectory(atPath: forced, withIntermediateDirectories: true)
            let missing = try runProcess(project.path(app), ["--load-only"], in: directory, environment: ["SWBPF_BTF_DIR": forced])
            #expect(missing.status == 1 && missing.stderr.contains("\(app): SWBPF_BTF_DIR has no BTF for this kernel (\(running)): \(forced)/\(running).btf is missing"),
                    "\(missing.output)")
            try FileManager.default.copyItem(atPath: project.path(".output/btf/\(app)/\(file)"), toPath: forced + "/\(running).btf")
            let loaded = try runProcess(project.path(app), ["--load-only", "-v"], in: directory, environment: ["SWBPF_BTF_DIR": forced])
            #expect(loaded.status == 0 && loaded.stdout.contains("\(app): loaded"), "\(loaded.output)")
        }
        // The Swift app relocates its task_struct reads against the small file's types (their ids are
        // the small file's, not the running kernel's).
        let dump = try runProcess("/usr/sbin/bpftool", ["btf", "dump", "file", project.path(".output/btf/rbs/\(file)")], in: directory)
        let taskStruct = try #require(dump.stdout.split(separator: "\n").first { $0.contains("STRUCT 'task_struct'") }?.split(separator: " ").first)
        let swift = try runProcess(project.path("rbs"), ["--load-only", "-v"], in: directory, environment: ["SWBPF_BTF_DIR": project.path("forced-rbs")])
        #expect(swift.stderr.contains("found target candidate \(taskStruct) struct task_struct in [vmlinux]"), "\(swift.stderr)")
    }

    @Test func btfgenNamesItsKernels() async throws {
        let project = try await KernelCommandTests.project("btfgen-cli", apps: [(name: "rb", template: "ringbuf")])
        let directory = project.path
        let none = try await TemplateHarness.offThread { try Swbpf.run(["btfgen"], in: directory, environment: ["SWBPF_CACHE": "0"]) }
        #expect(none.status == 1)
        #expect(none.stderr.contains("no kernel to make a small BTF for: rb has no btf-for") && none.stderr.contains("swbpf btfgen --kernel 6.1"),
                "\(none.stderr)")
        let file = try await Self.kernelBTF(into: project)
        let made = try await TemplateHarness.offThread {
            try Swbpf.run(["btfgen", "--kernel", file], in: directory, environment: ["SWBPF_CACHE_DIR": directory + "/cache", "SWBPF_CACHE": "0"])
        }
        #expect(made.status == 0, "\(made.output)")
        #expect(made.stdout.contains("  BTF      .output/btf/rb/\(file) ("), "\(made.output)")
        let badConfig = "[app.rb]\nbtf-for = [\"no-such-kernel.btf\"]\n"
        try project.write("swbpf.toml", badConfig)
        let unreadable = try await TemplateHarness.offThread {
            try Swbpf.run(["build"], in: directory, environment: ["SWBPF_CACHE_DIR": directory + "/cache", "SWBPF_CACHE": "0"])
        }
        #expect(unreadable.status == 1)
        #expect(unreadable.stderr.contains("no-such-kernel.btf") && unreadable.stderr.contains("[app.rb] btf-for in swbpf.toml"), "\(unreadable.stderr)")
    }
}
