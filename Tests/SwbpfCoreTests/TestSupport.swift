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

/// What a process printed and how it ended.
struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var output: String { stdout + stderr }
}

/// A path in the temporary directory that nothing uses yet, for a test's own file.
func temporaryFilePath(_ label: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)").path
}

/// Runs a program with an argv array (never through a shell, unless the test means `sh`).
@discardableResult
func runProcess(_ executable: String, _ arguments: [String], in directory: String? = nil,
                environment extra: [String: String] = [:], removing: [String] = []) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    var environment = ProcessInfo.processInfo.environment
    for key in removing { environment[key] = nil }
    for (key, value) in extra { environment[key] = value }
    // The user's own knobs must not leak into tests.
    for knob in ["CLANG", "BPFTOOL", "CC", "ARCH", "CFLAGS", "LDFLAGS", "EXTRA_LDFLAGS", "LIBBPF_OBJ", "VMLINUX", "V",
                 "SWIFTC", "SWIFTFLAGS", "SWIFT_DEBUG"]
    where extra[knob] == nil { environment[knob] = nil }
    // Tests build without the shared cache unless they are about it: a hit would replace the
    // steps they watch, and the user's cache is not theirs to fill.
    for key in ["SWBPF_CACHE", "SWBPF_CACHE_DIR", "SWBPF_REMOTE_CACHE", "SWBPF_REMOTE_CACHE_READ_ONLY", "SWBPF_REMOTE_CACHE_TOKEN",
                "SWBPF_REMOTE_CACHE_HEADER", "SWBPF_CACHE_MAX_SIZE"] where extra[key] == nil { environment[key] = nil }
    if extra["SWBPF_CACHE"] == nil && extra["SWBPF_CACHE_DIR"] == nil { environment["SWBPF_CACHE"] = "0" }
    process.environment = environment
    let stdoutPipe = Pipe(), stderrPipe = Pipe()
    process.standardOutput = stdoutPipe
    process.standardError = stderrPipe
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { errData = stderrPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let outData = stdoutPipe.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return RunResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}

/// The swbpf executable built alongside the tests.
enum Swbpf {
    /// Every spawner of the binary asks for its path first, so this is where the test process turns
    /// the shared cache off for all its children: a hit would replace the steps tests watch, and
    /// the user's cache is not theirs to fill. Tests about the cache set SWBPF_CACHE_DIR.
    static let path: String = {
        // Once: glibc's first setenv copies the initial environment into a new array and leaves
        // the old one in place, so a test thread reading the environment meanwhile is safe.
        setenv("SWBPF_CACHE", "0", 1)
        return locate()
    }()

    private static func locate() -> String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        // swift test runs .build/<triple>/debug/swbpfPackageTests.xctest; the executable is beside it.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("swbpf").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        let fallback = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/swbpf").path
        return fallback
    }

    @discardableResult
    static func run(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> RunResult {
        try runProcess(path, arguments, in: directory, environment: environment)
    }
}

/// The repository root (for examples/ and templates/).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// A scratch project directory, removed when the value goes away.
final class TemporaryProject {
    let path: String

    init(_ label: String = "project") throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-tests", isDirectory: true)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A directory that exists already, such as a project inside a layout of source trees.
    init(existing path: String) {
        self.path = path
    }

    /// A copy of a directory of the repository, such as examples/kprobe.
    convenience init(copying relative: String) throws {
        try self.init(URL(fileURLWithPath: relative).lastPathComponent)
        let source = URL(fileURLWithPath: repositoryRoot).appendingPathComponent(relative).path
        for name in try FileManager.default.contentsOfDirectory(atPath: source) where !name.hasPrefix(".output") {
            let from = source + "/" + name
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: from, isDirectory: &isDirectory)
            // Only sources: never a binary or output dir left from a manual build in the checkout.
            if isDirectory.boolValue || !(name.hasSuffix(".c") || name.hasSuffix(".h") || name.hasSuffix(".toml") || name.hasSuffix(".md")) { continue }
            try FileManager.default.copyItem(atPath: from, toPath: path + "/" + name)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func url(_ name: String) -> URL { URL(fileURLWithPath: path).appendingPathComponent(name) }

    func write(_ name: String, _ text: String) throws {
        let target = url(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: target, atomically: true, encoding: .utf8)
    }

    func read(_ name: String) throws -> String { try String(contentsOf: url(name), encoding: .utf8) }

    func data(_ name: String) -> Data? { try? Data(contentsOf: url(name)) }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: url(name).path) }

    func append(_ name: String, _ text: String) throws { try write(name, try read(name) + text) }

    @discardableResult
    func swbpf(_ arguments: String..., environment: [String: String] = [:]) throws -> RunResult {
        try Swbpf.run(arguments, in: path, environment: environment)
    }
}

/// Kernel facilities the kernel tests need, mounted once if they are not already.
enum Kernel {
    static let isRoot = geteuid() == 0

    static func ensureMounted(_ type: String, at target: String) {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        if mounts.split(separator: "\n").contains(where: { $0.split(separator: " ").dropFirst().first.map(String.init) == target }) { return }
        _ = try? runProcess("/bin/mount", ["-t", type, type == "tracefs" ? "nodev" : type, target])
    }

    static func bpffs() -> String {
        ensureMounted("bpf", at: "/sys/fs/bpf")
        return "/sys/fs/bpf"
    }

    static func tracefs() -> String {
        ensureMounted("tracefs", at: "/sys/kernel/tracing")
        return "/sys/kernel/tracing"
    }

    /// Loads every program of an object into the verifier with bpftool, pinned under a private
    /// bpffs directory that is removed afterwards. Returns bpftool's result.
    static func verifierCheck(_ object: String) throws -> RunResult {
        let pins = bpffs() + "/swbpf-test-\(UUID().uuidString.prefix(8))"
        defer { _ = try? runProcess("/bin/rm", ["-rf", pins]) }
        return try runProcess("/usr/sbin/bpftool", ["prog", "loadall", object, pins])
    }
}
