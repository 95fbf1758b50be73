import Foundation
import Testing
import SwbpfBasics
import SwbpfModel
import SwbpfToolchain
import SwbpfBuild
import SwbpfKernel
import SwbpfViews
import SwbpfScaffolding
import SwbpfDriver

/// What a process printed and how it ended.
package struct RunResult {
    package var status: Int32
    package var stdout: String
    package var stderr: String
    package var output: String { stdout + stderr }

    package init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// A path in the temporary directory that nothing uses yet, for a test's own file.
package func temporaryFilePath(_ label: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)").path
}

/// Runs a program with an argv array (never through a shell, unless the test means `sh`).
@discardableResult
package func runProcess(_ executable: String, _ arguments: [String], in directory: String? = nil,
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
package enum Swbpf {
    /// Every spawner of the binary asks for its path first, so this is where the test process turns
    /// the shared cache off for all its children: a hit would replace the steps tests watch, and
    /// the user's cache is not theirs to fill. Tests about the cache set SWBPF_CACHE_DIR.
    package static let path: String = {
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
    package static func run(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> RunResult {
        try runProcess(path, arguments, in: directory, environment: environment)
    }
}

/// The repository root (for examples/ and templates/).
package let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// A scratch project directory, removed when the value goes away.
package final class TemporaryProject {
    package let path: String

    package init(_ label: String = "project") throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-tests", isDirectory: true)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A directory that exists already, such as a project inside a layout of source trees.
    package init(existing path: String) {
        self.path = path
    }

    /// A copy of a directory of the repository, such as examples/kprobe.
    package convenience init(copying relative: String) throws {
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

    package func url(_ name: String) -> URL { URL(fileURLWithPath: path).appendingPathComponent(name) }

    package func write(_ name: String, _ text: String) throws {
        let target = url(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: target, atomically: true, encoding: .utf8)
    }

    package func read(_ name: String) throws -> String { try String(contentsOf: url(name), encoding: .utf8) }

    package func data(_ name: String) -> Data? { try? Data(contentsOf: url(name)) }

    package func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: url(name).path) }

    package func append(_ name: String, _ text: String) throws { try write(name, try read(name) + text) }

    @discardableResult
    package func swbpf(_ arguments: String..., environment: [String: String] = [:]) throws -> RunResult {
        try Swbpf.run(arguments, in: path, environment: environment)
    }
}

/// Kernel facilities the kernel tests need, mounted once if they are not already.
package enum Kernel {
    package static let isRoot = geteuid() == 0

    package static func ensureMounted(_ type: String, at target: String) {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        if mounts.split(separator: "\n").contains(where: { $0.split(separator: " ").dropFirst().first.map(String.init) == target }) { return }
        _ = try? runProcess("/bin/mount", ["-t", type, type == "tracefs" ? "nodev" : type, target])
    }

    package static func bpffs() -> String {
        ensureMounted("bpf", at: "/sys/fs/bpf")
        return "/sys/fs/bpf"
    }

    package static func tracefs() -> String {
        ensureMounted("tracefs", at: "/sys/kernel/tracing")
        return "/sys/kernel/tracing"
    }

    /// Loads every program of an object into the verifier with bpftool, pinned under a private
    /// bpffs directory that is removed afterwards. Returns bpftool's result.
    package static func verifierCheck(_ object: String) throws -> RunResult {
        let pins = bpffs() + "/swbpf-test-\(UUID().uuidString.prefix(8))"
        defer { _ = try? runProcess("/bin/rm", ["-rf", pins]) }
        return try runProcess("/usr/sbin/bpftool", ["prog", "loadall", object, pins])
    }
}

/// The `__TARGET_ARCH_x` the host needs, worked out here independently of swbpf's own table.
package var hostTargetArch: String {
    let machine = (try? runProcess("/bin/uname", ["-m"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? ""
    switch machine {
    case "x86_64": return "x86"
    case "aarch64": return "arm64"
    default: return machine
    }
}
