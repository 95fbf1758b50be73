import Foundation
import Testing
import SwbpfTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Tests/Fixtures/hostile_remote.py on a free loopback port, answering in one hostile way (see
/// its docstring); killed when the value goes away.
final class HostileRemote {
    let directory: TemporaryProject
    let port: Int
    private let process = Process()
    var url: String { "http://127.0.0.1:\(port)/swbpf" }
    var origin: String { "http://127.0.0.1:\(port)" }

    init(_ mode: String) throws {
        directory = try TemporaryProject("remote-\(mode)")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [repositoryRoot + "/Tests/Fixtures/hostile_remote.py", mode, directory.path + "/port", directory.path + "/requests"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, process.isRunning {
            if let text = try? directory.read("port"), let number = Int(text) {
                port = number
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.terminate()
        throw HostileRemoteError(message: "hostile_remote.py \(mode) did not start")
    }

    /// One line per request the server got: `METHOD PATH AUTHORIZATION` ("-" when none).
    var requests: [String] { ((try? directory.read("requests")) ?? "").split(separator: "\n").map(String.init) }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

struct HostileRemoteError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Runs swbpf, killed after `seconds` if it has not finished: a hang fails the test instead of
/// hanging it (status 137 then).
func swbpfBounded(_ arguments: [String], in directory: String, environment: [String: String] = [:], seconds: Int = 300) throws -> RunResult {
    try runProcess("/usr/bin/timeout", ["-s", "KILL", String(seconds), Swbpf.path] + arguments, in: directory, environment: environment)
}

/// A cache directory and HOME of their own (another machine), with an optional remote.
func machineEnvironment(_ home: TemporaryProject, remote: String? = nil, extra: [String: String] = [:]) -> [String: String] {
    var environment = ["SWBPF_CACHE_DIR": home.path + "/cache", "HOME": home.path, "XDG_CONFIG_HOME": home.path + "/config",
                       "SWBPF_CACHE": "1"]
    if let remote { environment["SWBPF_REMOTE_CACHE"] = remote }
    return environment.merging(extra) { $1 }
}

/// The notes about the remote cache in a build's standard error.
func remoteNotes(_ stderr: String) -> [String] {
    stderr.split(separator: "\n").map(String.init).filter { $0.contains("remote cache http") }
}
