import Subprocess
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// The outcome of one child process.
public struct ProcessOutcome: Sendable {
    /// The exit code, or 128 + the signal number when a signal ended it (as a shell reports it).
    public var status: Int32
    public var signalled: Bool
    public var standardOutput: [UInt8]
    public var standardError: [UInt8]
}

/// Runs child processes from argv arrays; nothing is ever passed through a shell.
enum ProcessRunner {
    /// A generous cap on captured diagnostics; a compiler that prints more is broken.
    static let captureLimit = 64 << 20

    /// Runs a program and collects what it prints. Used for quick tool queries.
    static func capture(_ path: String, _ arguments: [String]) async throws -> ProcessOutcome {
        try await run(path, arguments, workingDirectory: nil, standardOutputFile: nil)
    }

    /// Runs a program in its own process group, so that cancelling the calling task ends it and
    /// everything it started. Standard output goes to `standardOutputFile` when given (the
    /// `gen skeleton >` redirect), else it is collected with standard error.
    static func run(_ path: String, _ arguments: [String], workingDirectory: String?,
                    standardOutputFile: String?) async throws -> ProcessOutcome {
        let directory = workingDirectory.map { FilePath($0) }
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [.send(signal: .terminate, toProcessGroup: true, allowedDurationToNextStep: .milliseconds(300))]
        let executable = Executable.path(FilePath(path))
        if let file = standardOutputFile {
            let fd = try FileDescriptor.open(FilePath(file), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite, .groupRead, .otherRead])
            let result = try await Subprocess.run(executable, arguments: Arguments(arguments), workingDirectory: directory,
                                                  platformOptions: options, output: .fileDescriptor(fd, closeAfterSpawningProcess: true),
                                                  error: .bytes(limit: captureLimit))
            let (status, signalled) = decode(result.terminationStatus)
            return ProcessOutcome(status: status, signalled: signalled, standardOutput: [], standardError: result.standardError)
        }
        let result = try await Subprocess.run(executable, arguments: Arguments(arguments), workingDirectory: directory,
                                              platformOptions: options, output: .bytes(limit: captureLimit), error: .bytes(limit: captureLimit))
        let (status, signalled) = decode(result.terminationStatus)
        return ProcessOutcome(status: status, signalled: signalled, standardOutput: result.standardOutput,
                              standardError: result.standardError)
    }

    private static func decode(_ status: TerminationStatus) -> (Int32, Bool) {
        switch status {
        case .exited(let code): return (code, false)
        case .signaled(let signal): return (128 + signal, true)
        }
    }
}
