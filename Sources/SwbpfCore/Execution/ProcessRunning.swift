/// What the executor asks the process runner to start.
public struct ProcessRequest: Sendable, Hashable {
    /// An absolute path.
    public var executable: String
    /// argv[1...].
    public var arguments: [String]
    /// The child's working directory (absolute): the project root.
    public var workingDirectory: String
    /// nil: inherit swbpf's environment.
    public var environment: [String: String]?
    /// When set (absolute), the child's standard output is written to this new file.
    public var standardOutputFile: String?

    public init(executable: String, arguments: [String], workingDirectory: String,
                environment: [String: String]? = nil, standardOutputFile: String? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.standardOutputFile = standardOutputFile
    }
}

/// Why a process gave no outcome.
public enum ProcessFailure: Error, Sendable, Equatable {
    case couldNotLaunch(path: String, reason: String)
    case couldNotWriteOutput(path: String, reason: String)
}

/// Runs child processes from argv arrays; nothing is ever passed through a shell. The executor is
/// handed one, so tests can give it a fake.
public protocol ProcessRunning: Sendable {
    /// Throws `ProcessFailure`, or `CancellationError` when the calling task was cancelled (the
    /// child and its process group are then stopped).
    func run(_ request: ProcessRequest) async throws -> ProcessOutcome
}

/// Runs real processes.
public struct SystemProcessRunner: ProcessRunning {
    public init() {}

    public func run(_ request: ProcessRequest) async throws -> ProcessOutcome {
        do {
            return try await ProcessRunner.run(request.executable, request.arguments, workingDirectory: request.workingDirectory,
                                               standardOutputFile: request.standardOutputFile)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ProcessFailure.couldNotLaunch(path: request.executable, reason: "\(error)")
        }
    }
}
