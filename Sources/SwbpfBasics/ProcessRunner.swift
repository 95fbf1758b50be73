import CSwbpfProcess
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One program to run, from an argv array: nothing is ever passed through a shell.
public struct ProcessRequest: Sendable, Hashable {
    /// An absolute path; no PATH search.
    public var executable: String
    /// argv[1...].
    public var arguments: [String]
    /// Absolute; the child changes to it (swbpf's own working directory is not used).
    public var workingDirectory: String
    /// nil: swbpf's own environment.
    public var environment: [String: String]?
    /// Absolute; when set, swbpf writes the child's standard output there itself (created fresh,
    /// never through an existing file or symbolic link), checking every write.
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

/// Why a process could not be run, or its captured output could not be written.
public enum ProcessFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case couldNotLaunch(path: String, reason: String)
    case couldNotWriteOutput(path: String, reason: String)

    public var description: String {
        switch self {
        case .couldNotLaunch(let path, let reason): return "could not run \(path): \(reason)"
        case .couldNotWriteOutput(let path, let reason): return "could not write \(path): \(reason)"
        }
    }
}

/// The outcome of one child process.
public struct ProcessOutcome: Sendable {
    /// The exit code, or 128 + the signal number when a signal ended it (as a shell reports it).
    public var status: Int32
    public var signalled: Bool
    /// Empty when it went to `ProcessRequest.standardOutputFile`.
    public var standardOutput: [UInt8]
    public var standardError: [UInt8]

    public init(status: Int32, signalled: Bool, standardOutput: [UInt8], standardError: [UInt8]) {
        self.status = status
        self.signalled = signalled
        self.standardOutput = standardOutput
        self.standardError = standardError
    }
}

public protocol ProcessRunning: Sendable {
    /// Runs a request to its end. Throws `ProcessFailure`, or `CancellationError` when the calling
    /// task is cancelled (the child and everything it started are stopped and reaped first).
    func run(_ request: ProcessRequest) async throws -> ProcessOutcome
}

/// Runs real processes. Each child gets a thread of its own that forks it, drains its pipes,
/// writes its output file, waits for it and reaps it; the calling task only awaits a
/// continuation, so no thread of the concurrency pool is held while tools run.
///
/// The child is in its own process group and dies with swbpf (PR_SET_PDEATHSIG, which the kernel
/// ties to the forking thread: that is why the thread that forks is the one that reaps). On
/// cancellation its group gets SIGTERM, then SIGKILL after `terminationGrace`.
public struct SystemProcessRunner: ProcessRunning {
    /// A generous cap on each captured stream; a compiler that prints more is broken.
    public static let captureLimit = 64 << 20
    public static let terminationGrace: Duration = .milliseconds(300)

    public init() {}

    public func run(_ request: ProcessRequest) async throws -> ProcessOutcome {
        try Task.checkCancellation()
        FileObserver.noteProcess()
        let cancellation = try CancellationFlag(for: request.executable)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ProcessOutcome, Error>) in
                let started = startDetachedThread {
                    continuation.resume(with: Supervision(request: request, cancellation: cancellation).run())
                }
                if started != 0 {
                    continuation.resume(throwing: ProcessFailure.couldNotLaunch(
                        path: request.executable, reason: "cannot start a thread to run it: \(String(cString: strerror(started)))"))
                }
            }
        } onCancel: {
            cancellation.raise()
        }
    }
}

/// Quick tool queries (versions, include directories), run in swbpf's working directory.
package enum ProcessRunner {
    package static func capture(_ path: String, _ arguments: [String]) async throws -> ProcessOutcome {
        try await SystemProcessRunner().run(ProcessRequest(executable: path, arguments: arguments,
                                                           workingDirectory: FileSystem.currentDirectory()))
    }
}

// MARK: - Supervision

/// The calling task's cancellation, as the supervising thread sees it: a flag checked before the
/// launch, and an eventfd that wakes its poll loop after it.
private final class CancellationFlag: Sendable {
    let descriptor: Int32
    private let raised = Atomic<Bool>(false)

    init(for executable: String) throws {
        descriptor = swbpf_open_event()
        guard descriptor >= 0 else {
            throw ProcessFailure.couldNotLaunch(path: executable, reason: "eventfd: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(descriptor) }

    func raise() {
        raised.store(true, ordering: .sequentiallyConsistent)
        var one: UInt64 = 1
        _ = write(descriptor, &one, MemoryLayout<UInt64>.size)
    }

    var isRaised: Bool { raised.load(ordering: .sequentiallyConsistent) }
}

/// One child from fork to reaping, run synchronously on its own thread.
private struct Supervision {
    let request: ProcessRequest
    let cancellation: CancellationFlag

    private enum Phase: Equatable {
        case running
        /// SIGTERM sent; SIGKILL at the deadline.
        case terminating(deadline: ContinuousClock.Instant)
        case killed
    }

    func run() -> Result<ProcessOutcome, Error> {
        var output: OutputFile?
        if let path = request.standardOutputFile {
            switch OutputFile.create(path) {
            case .success(let file): output = file
            case .failure(let failure): return .failure(failure)
            }
        }
        if cancellation.isRaised {
            output?.discard()
            return .failure(CancellationError())
        }
        let child: swbpf_child
        switch launch() {
        case .success(let launched): child = launched
        case .failure(let failure):
            output?.discard()
            return .failure(failure)
        }

        var captured = [Capture(), Capture()]
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        // Standard output, standard error, the child's exit, cancellation. A negative fd is skipped.
        var watched = [child.stdout_fd, child.stderr_fd, child.pidfd, cancellation.descriptor]
            .map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var exited = false
        var phase = Phase.running
        var waitFailure: String?

        while true {
            let pipesOpen = watched[0].fd >= 0 || watched[1].fd >= 0
            // Done when the child has exited and its output has ended. After SIGKILL, the output
            // is not waited for: a process that left the group may hold the pipes open.
            if exited && (!pipesOpen || phase == .killed) { break }
            var timeout: Int32 = -1
            if case .terminating(let deadline) = phase {
                timeout = Int32(max(0, ((deadline - .now) / .milliseconds(1)).rounded(.up)))
            }
            let ready = poll(&watched, nfds_t(watched.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                waitFailure = "poll: \(String(cString: strerror(errno)))"
                kill(-child.pid, SIGKILL)
                break
            }
            if ready == 0 {
                // The grace period is over. The group still exists: its leader is not reaped yet.
                kill(-child.pid, SIGKILL)
                phase = .killed
                continue
            }
            for stream in 0..<2 where watched[stream].fd >= 0 && watched[stream].revents != 0 {
                let count = read(watched[stream].fd, buffer.baseAddress, buffer.count)
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if count <= 0 {
                    close(watched[stream].fd)
                    watched[stream].fd = -1
                    continue
                }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                if stream == 0, output != nil { output!.write(chunk) } else { captured[stream].append(chunk) }
            }
            if watched[2].fd >= 0 && watched[2].revents != 0 {
                exited = true
                watched[2].fd = -1
            }
            if watched[3].fd >= 0 && watched[3].revents != 0 {
                watched[3].fd = -1
                if phase == .running {
                    kill(-child.pid, SIGTERM)
                    phase = .terminating(deadline: .now + SystemProcessRunner.terminationGrace)
                }
            }
        }
        if case .terminating = phase {
            // The tool ended within the grace period; whatever it started and left behind goes too.
            kill(-child.pid, SIGKILL)
        }
        var status: Int32 = 0
        while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
        close(child.pidfd)
        for stream in 0..<2 where watched[stream].fd >= 0 { close(watched[stream].fd) }

        if phase != .running {
            output?.discard()
            return .failure(CancellationError())
        }
        if let waitFailure {
            output?.discard()
            return .failure(ProcessFailure.couldNotLaunch(path: request.executable, reason: waitFailure))
        }
        if let failure = output?.finish() { return .failure(failure) }
        // The wait status: the low 7 bits are the terminating signal, 0 for a normal exit.
        let signal = status & 0x7f
        return .success(ProcessOutcome(status: signal == 0 ? (status >> 8) & 0xff : 128 + signal, signalled: signal != 0,
                                       standardOutput: captured[0].bytes, standardError: captured[1].bytes))
    }

    private func launch() -> Result<swbpf_child, ProcessFailure> {
        let arguments = [request.executable] + request.arguments
        let variables = request.environment.map { $0.map { "\($0.key)=\($0.value)" }.sorted() }
        if (arguments + (variables ?? [])).contains(where: { $0.utf8.contains(0) }) {
            return .failure(.couldNotLaunch(path: request.executable, reason: "an argument or environment variable contains a NUL byte"))
        }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = variables.map { $0.map { strdup($0) } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var child = swbpf_child()
        var step: Int32 = 0
        var number: Int32 = 0
        let result: Int32
        if let envp {
            result = swbpf_spawn(request.executable, argv, envp, request.workingDirectory, &child, &step, &number)
        } else {
            result = swbpf_spawn(request.executable, argv, environ, request.workingDirectory, &child, &step, &number)
        }
        guard result == 0 else {
            let reason = ProcessRunner.reason(step: step, errorNumber: number, workingDirectory: request.workingDirectory)
            return .failure(.couldNotLaunch(path: request.executable, reason: reason))
        }
        return .success(child)
    }
}

extension ProcessRunner {
    /// Starts a program that shares swbpf's terminal and streams (the app `swbpf run` runs), sent
    /// `deathSignal` if swbpf dies first, even by SIGKILL. The calling thread must wait for it.
    package static func startSharingTerminal(_ executable: String, arguments: [String], deathSignal: Int32) -> Result<pid_t, ProcessFailure> {
        let arguments = [executable] + arguments
        if arguments.contains(where: { $0.utf8.contains(0) }) {
            return .failure(.couldNotLaunch(path: executable, reason: "an argument contains a NUL byte"))
        }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        var step: Int32 = 0
        var number: Int32 = 0
        guard swbpf_spawn_app(executable, argv, environ, deathSignal, &pid, &step, &number) == 0 else {
            return .failure(.couldNotLaunch(path: executable, reason: reason(step: step, errorNumber: number, workingDirectory: nil)))
        }
        return .success(pid)
    }

    fileprivate static func reason(step: Int32, errorNumber: Int32, workingDirectory: String?) -> String {
        let text = String(cString: strerror(errorNumber))
        switch swbpf_spawn_step(rawValue: UInt32(step)) {
        case SWBPF_SPAWN_EXEC: return errorNumber == ENOEXEC ? "\(text) (a script needs a #! line)" : text
        case SWBPF_SPAWN_DIRECTORY: return "cannot enter its working directory \(workingDirectory ?? "."): \(text)"
        case SWBPF_SPAWN_PIPE: return "cannot create its pipes: \(text)"
        case SWBPF_SPAWN_FORK: return "fork: \(text)"
        case SWBPF_SPAWN_PIDFD: return "pidfd_open: \(text) (swbpf needs Linux 5.3 or later)"
        case SWBPF_SPAWN_PROCESS_GROUP: return "setpgid: \(text)"
        case SWBPF_SPAWN_PARENT_DEATH: return "prctl(PR_SET_PDEATHSIG): \(text)"
        case SWBPF_SPAWN_STANDARD_STREAMS: return "cannot set up its standard streams: \(text)"
        default: return text
        }
    }
}

/// A captured stream, kept up to `SystemProcessRunner.captureLimit` bytes.
private struct Capture {
    private var kept: [UInt8] = []
    private var dropped = 0

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        let room = max(0, SystemProcessRunner.captureLimit - kept.count)
        kept.append(contentsOf: chunk.prefix(room))
        dropped += chunk.count - min(room, chunk.count)
    }

    var bytes: [UInt8] {
        dropped == 0 ? kept : kept + Array("\n[swbpf: \(dropped) more bytes of output were not kept]\n".utf8)
    }
}

/// The file a child's standard output goes to, written by swbpf so that a full disk or an I/O
/// error fails the step (tools like bpftool exit 0 on a failed write to their stdout).
private struct OutputFile {
    let path: String
    let fd: Int32
    /// The first write error. Output after it is still drained (so the child can finish) and dropped.
    private var failure: String?

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// The path is a fresh temporary name: O_EXCL and O_NOFOLLOW refuse anything already there,
    /// a planted symbolic link included.
    static func create(_ path: String) -> Result<OutputFile, ProcessFailure> {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return .failure(.couldNotWriteOutput(path: path, reason: String(cString: strerror(errno)))) }
        return .success(OutputFile(path: path, fd: fd))
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while failure == nil && offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno != EINTR { failure = String(cString: strerror(errno)) }
            } else if written == 0 {
                failure = "short write (\(bytes.count - offset) bytes not written)"
            } else {
                offset += written
            }
        }
    }

    /// Flushes the file to disk and closes it; on any failure it is removed and the failure returned.
    func finish() -> ProcessFailure? {
        var failure = failure
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        if close(fd) != 0 && errno != EINTR && failure == nil { failure = String(cString: strerror(errno)) }
        guard let failure else { return nil }
        unlink(path)
        return .couldNotWriteOutput(path: path, reason: failure)
    }

    /// Closes and removes it: what it holds is not a complete output.
    func discard() {
        close(fd)
        unlink(path)
    }
}

// MARK: - Threads

package final class ThreadBody {
    package let run: @Sendable () -> Void

    package init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// Starts a detached thread running `body`; returns 0, or the error number.
package func startDetachedThread(_ body: @escaping @Sendable () -> Void) -> Int32 {
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    var thread = pthread_t()
    let result = pthread_create(&thread, &attributes, { context in
        Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().run()
        return nil
    }, context)
    if result != 0 { Unmanaged<ThreadBody>.fromOpaque(context).release() }
    return result
}
